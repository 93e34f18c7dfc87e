"""The soak's Python clients: raw sockets over asyncio streams, one coroutine per kind.

Every response a client reads is checked by ``wire.read_response`` (grammar and framing)
and then against what the route must answer (status, body size and CRC, JSON fields).
Each client records one outcome per request in ``Stats``: the status code when all is
well, or a failure (``malformed``, ``no-response``, ``reset``, ``bad-answer``,
``timeout``) with a detail line. Clients that leave on purpose (mid-request,
mid-response, with FIN or with RST) record ``left-fin`` / ``left-rst``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from wire import Malformed, NoResponse, Response, at_eof, read_response

OP_TIMEOUT = 60.0
MIB = 1024 * 1024
FAILURES = ("malformed", "no-response", "reset", "bad-answer", "timeout", "client-error")


class BadAnswer(Exception):
    """A well-formed response that is not what the route answers."""


@dataclass
class Stats:
    """Outcomes by (kind, outcome), failure details, and new-connection latencies."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def record(self, kind: str, outcome: str, detail: str = "") -> None:
        self.counts[(kind, outcome)] += 1
        if outcome in FAILURES and len(self.failures) < 40:
            self.failures.append(f"{kind}: {outcome}: {detail}"[:300])

    def failed(self) -> int:
        return sum(n for (_, outcome), n in self.counts.items() if outcome in FAILURES)


@dataclass
class Target:
    """The server under test and what its static files hold."""

    port: int
    contents: dict[str, bytes]  # static file name -> its bytes
    blob: bytes  # upload bodies are prefixes of it
    stats: Stats
    rng: random.Random
    files: dict[str, tuple[int, int]] = field(init=False)  # name -> (size, crc32)

    def __post_init__(self) -> None:
        self.files = {k: (len(v), zlib.crc32(v)) for k, v in self.contents.items()}


# -- small helpers ---------------------------------------------------------------------------


def request(
    method: str,
    path: str,
    headers: tuple[tuple[str, str], ...] = (),
    *,
    close: bool = False,
    version: str = "HTTP/1.1",
) -> bytes:
    lines = [f"{method} {path} {version}", "Host: 127.0.0.1"]
    if close:
        lines.append("Connection: close")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def connect(
    t: Target, rcvbuf: int | None = None, limit: int = 1 << 20
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if rcvbuf is None:
        return await asyncio.open_connection("127.0.0.1", t.port, limit=limit)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", t.port))
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock, limit=limit)


def leave(writer: asyncio.StreamWriter, rst: bool) -> None:
    """Close the client side: a FIN, or with SO_LINGER 0 a RST."""
    if rst:
        sock = writer.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


@dataclass
class Exchange:
    """One ordinary request and the check of its answer."""

    data: bytes
    check: Callable[[Response], None]
    head: bool = False


def _expect(resp: Response, status: int) -> None:
    if resp.status != status:
        raise BadAnswer(f"status {resp.status}, expected {status}")


def ordinary(t: Target, close: bool = False) -> Exchange:
    """A random request of the kinds a keep-alive or pipelining client sends."""
    choice = t.rng.randrange(6)
    if choice == 0:

        def hello(r: Response) -> None:
            _expect(r, 200)
            if r.body != b"hello":
                raise BadAnswer(f"/hello body {r.body[:40]!r}")

        return Exchange(request("GET", "/hello", close=close), hello)
    if choice == 1:

        def js(r: Response) -> None:
            _expect(r, 200)
            if json.loads(r.body).get("name") != "squall":
                raise BadAnswer(f"/json body {r.body[:60]!r}")

        return Exchange(request("GET", "/json", close=close), js)
    if choice == 2:

        def slow(r: Response) -> None:
            _expect(r, 200)
            if r.body != b"slow":
                raise BadAnswer(f"/slow body {r.body[:40]!r}")

        return Exchange(request("GET", "/slow?ms=20", close=close), slow)
    name = t.rng.choice(["1k.bin", "64k.bin"])
    size, crc = t.files[name]
    if choice == 3:

        def head(r: Response) -> None:
            _expect(r, 200)
            if r.header("content-length") != str(size):
                raise BadAnswer(f"HEAD {name}: Content-Length {r.header('content-length')}")

        return Exchange(request("HEAD", f"/static/{name}", close=close), head, head=True)

    def static(r: Response) -> None:
        _expect(r, 200)
        if (r.body_size, r.body_crc) != (size, crc):
            raise BadAnswer(f"{name}: {r.body_size} bytes crc {r.body_crc:x}")

    return Exchange(request("GET", f"/static/{name}", close=close), static)


async def answer(t: Target, kind: str, reader: asyncio.StreamReader, ex: Exchange) -> Response:
    """Read, check and record the answer to `ex`."""
    resp = await read_response(reader, head=ex.head)
    ex.check(resp)
    t.stats.record(kind, str(resp.status))
    return resp


async def expect_close(t: Target, kind: str, reader: asyncio.StreamReader) -> None:
    if not await at_eof(reader):
        raise BadAnswer("connection kept open after Connection: close")


# -- the kinds --------------------------------------------------------------------------------


async def keepalive(t: Target) -> None:
    """2-20 requests one after the other on one connection; sometimes the last says close."""
    n = t.rng.randint(2, 20)
    last_closes = t.rng.random() < 0.3
    reader, writer = await connect(t)
    try:
        for i in range(n):
            ex = ordinary(t, close=last_closes and i == n - 1)
            writer.write(ex.data)
            await answer(t, "keepalive", reader, ex)
        if last_closes:
            await expect_close(t, "keepalive", reader)
    finally:
        writer.close()


async def pipelined(t: Target) -> None:
    """2-64 requests in one write, answers read in order."""
    n = t.rng.randint(2, 64)
    last_closes = t.rng.random() < 0.3
    exchanges = [ordinary(t, close=last_closes and i == n - 1) for i in range(n)]
    reader, writer = await connect(t)
    try:
        writer.write(b"".join(ex.data for ex in exchanges))
        for ex in exchanges:
            await answer(t, "pipelined", reader, ex)
        if last_closes:
            await expect_close(t, "pipelined", reader)
    finally:
        writer.close()


async def one_close(t: Target) -> None:
    """A new connection, one request, the server closes (Connection: close or HTTP/1.0)."""
    ex = ordinary(t, close=True)
    if t.rng.random() < 0.3:
        ex.data = ex.data.replace(b"HTTP/1.1", b"HTTP/1.0", 1).replace(
            b"Connection: close\r\n", b""
        )
    reader, writer = await connect(t)
    try:
        writer.write(ex.data)
        await answer(t, "close", reader, ex)
        await expect_close(t, "close", reader)
    finally:
        writer.close()


async def probe(t: Target) -> None:
    """New-connection latency: connect + GET /hello + the whole response."""
    start = time.perf_counter()
    reader, writer = await connect(t)
    try:
        writer.write(request("GET", "/hello", close=True))
        resp = await read_response(reader)
        t.stats.latencies.append(time.perf_counter() - start)
        if resp.body != b"hello":
            raise BadAnswer(f"/hello body {resp.body[:40]!r}")
        t.stats.record("probe", str(resp.status))
    finally:
        writer.close()


def _chunked(data: memoryview, rng: random.Random) -> list[bytes | memoryview]:
    out: list[bytes | memoryview] = []
    pos = 0
    while pos < len(data):
        n = min(rng.randint(8 * 1024, MIB), len(data) - pos)
        out += [f"{n:x}\r\n".encode(), data[pos : pos + n], b"\r\n"]
        pos += n
    out.append(b"0\r\n\r\n")
    return out


async def upload(t: Target) -> None:
    """POST 1-20 MiB (buffered or streamed route; Content-Length or chunked), then a GET."""
    size = t.rng.randint(MIB, 20 * MIB)
    path = t.rng.choice(["/upload", "/upload/stream"])
    chunked = t.rng.random() < 0.3
    body = memoryview(t.blob)[:size]
    framing = ("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(size))
    reader, writer = await connect(t)
    try:
        writer.write(request("POST", path, (framing,)))
        pieces: list[bytes | memoryview] = (
            _chunked(body, t.rng) if chunked else [body[i : i + MIB] for i in range(0, size, MIB)]
        )
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
        resp = await read_response(reader)
        _expect(resp, 200)
        got = json.loads(resp.body)
        want = {"size": size, "crc": zlib.crc32(body)}
        if got != want:
            raise BadAnswer(f"{path}: answered {got}, sent {want}")
        t.stats.record("upload", str(resp.status))
        ex = ordinary(t)
        writer.write(ex.data)
        await answer(t, "upload", reader, ex)
    finally:
        writer.close()


async def static(t: Target) -> None:
    """A static file of any size, whole or a range of it."""
    name = t.rng.choice(sorted(t.files))
    size, crc = t.files[name]
    reader, writer = await connect(t)
    try:
        if t.rng.random() < 0.25:
            a = t.rng.randrange(size)
            b = t.rng.randrange(a, size)
            writer.write(request("GET", f"/static/{name}", (("Range", f"bytes={a}-{b}"),)))
            resp = await read_response(reader)
            _expect(resp, 206)
            part = t.contents[name][a : b + 1]
            want_range = f"bytes {a}-{b}/{size}"
            if resp.header("content-range") != want_range or (
                resp.body_size,
                resp.body_crc,
            ) != (len(part), zlib.crc32(part)):
                raise BadAnswer(f"range {a}-{b} of {name}: {resp.header('content-range')}")
        else:
            writer.write(request("GET", f"/static/{name}"))
            resp = await read_response(reader)
            _expect(resp, 200)
            if (resp.body_size, resp.body_crc) != (size, crc):
                raise BadAnswer(f"{name}: {resp.body_size} bytes crc {resp.body_crc:x}")
        t.stats.record("static", str(resp.status))
    finally:
        writer.close()


async def leave_mid_request(t: Target) -> None:
    """Send part of a request (head, or head and part of a large body), then leave."""
    rst = t.rng.random() < 0.5
    variant = t.rng.randrange(3)
    reader, writer = await connect(t)
    try:
        if variant == 0:
            writer.write(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Partial: ab")
        elif variant == 1:
            path = t.rng.choice(["/upload", "/upload/stream"])
            writer.write(request("POST", path, (("Content-Length", str(10 * MIB)),)))
            writer.write(memoryview(t.blob)[: t.rng.randint(0, 2 * MIB)])
        else:
            writer.write(request("POST", "/upload/stream", (("Transfer-Encoding", "chunked"),)))
            writer.write(b"100000\r\n" + t.blob[: t.rng.randint(0, 512 * 1024)])
        await writer.drain()
        await asyncio.sleep(t.rng.random() * 0.05)
    finally:
        leave(writer, rst)
    t.stats.record("leave-mid-request", "left-rst" if rst else "left-fin")


async def leave_mid_response(t: Target) -> None:
    """Ask for something long, read a little of it (or nothing), then leave."""
    rst = t.rng.random() < 0.5
    variant = t.rng.randrange(5)
    reader, writer = await connect(t)
    try:
        if variant == 4:
            # Gone before the first byte of the answer: the server may be anywhere in it.
            name = t.rng.choice(sorted(t.files))
            writer.write(request("GET", f"/static/{name}"))
            await writer.drain()
            await asyncio.sleep(t.rng.random() * 0.002)
        elif variant == 0:
            name = t.rng.choice(["1m.bin", "8m.bin"])
            writer.write(request("GET", f"/static/{name}"))
            await reader.read(t.rng.randint(1, 256 * 1024))
        elif variant == 1:
            writer.write(request("GET", "/slow?ms=300"))
            await asyncio.sleep(0.05)
        elif variant == 2:
            writer.write(request("GET", "/slow?ms=10&pieces=50"))
            await reader.read(t.rng.randint(1, 64 * 1024))
        else:
            # Many pipelined requests in flight, then gone: the server must stop answering.
            path = t.rng.choice(["/hello", "/json", "/static/64k.bin"])
            writer.write(request("GET", path) * 64)
            await writer.drain()
            if t.rng.random() < 0.5:
                await asyncio.sleep(t.rng.random() * 0.005)
            else:
                await reader.read(1)  # the server is answering them now
    finally:
        leave(writer, rst)
    t.stats.record("leave-mid-response", "left-rst" if rst else "left-fin")


async def slow_client(t: Target) -> None:
    """A trickled head, a trickled body, or a slow reader of a 1 MiB file."""
    variant = t.rng.randrange(3)
    if variant == 0:
        ex = ordinary(t)
        reader, writer = await connect(t)
        try:
            pos = 0
            while pos < len(ex.data):
                n = t.rng.randint(1, 8)
                writer.write(ex.data[pos : pos + n])
                pos += n
                await asyncio.sleep(t.rng.uniform(0.01, 0.04))
            await answer(t, "slow-head", reader, ex)
        finally:
            writer.close()
    elif variant == 1:
        body = t.blob[: 64 * 1024]
        reader, writer = await connect(t)
        try:
            writer.write(request("POST", "/upload/stream", (("Content-Length", str(len(body))),)))
            for i in range(0, len(body), 4096):
                writer.write(body[i : i + 4096])
                await asyncio.sleep(0.03)
            resp = await read_response(reader)
            _expect(resp, 200)
            if json.loads(resp.body) != {"size": len(body), "crc": zlib.crc32(body)}:
                raise BadAnswer(f"trickled upload answered {resp.body[:80]!r}")
            t.stats.record("slow-body", str(resp.status))
        finally:
            writer.close()
    else:
        size, crc = t.files["1m.bin"]
        reader, writer = await connect(t, rcvbuf=8192, limit=8192)
        try:
            writer.write(request("GET", "/static/1m.bin", close=True))
            got = bytearray()
            while piece := await reader.read(8192):
                got += piece
                await asyncio.sleep(0.005)
        finally:
            writer.close()
        replay = asyncio.StreamReader()
        replay.feed_data(bytes(got))
        replay.feed_eof()
        resp = await read_response(replay)
        _expect(resp, 200)
        if (resp.body_size, resp.body_crc) != (size, crc):
            raise BadAnswer(f"slow reader got {resp.body_size} bytes crc {resp.body_crc:x}")
        t.stats.record("slow-reader", str(resp.status))


GARBAGE_STATUSES = {400, 405, 411, 413, 414, 431, 501, 505}


def _garbage(t: Target) -> bytes:
    variant = t.rng.randrange(7)
    if variant == 0:
        noise = bytes(b for b in t.rng.randbytes(t.rng.randint(1, 200)) if b not in (10, 13))
        # Never empty: a bare CRLF CRLF is empty lines before a request, which a server
        # skips (RFC 9112 section 2.2) while it waits for the request: no answer is due.
        return (noise or b"\x00") + b"\r\n\r\n"
    return [
        b"",
        b"GET /hello HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\n\r\n",
        b"POST /upload/stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /hello HTTP/9.9\r\nHost: x\r\n\r\n",
        b"G\x00T /hello HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ][variant]


async def garbage(t: Target) -> None:
    """Bytes that are not HTTP: a 4xx (or 501/505) with a reason, then the server closes."""
    data = _garbage(t)
    reader, writer = await connect(t)
    try:
        writer.write(data)
        try:
            resp = await asyncio.wait_for(read_response(reader), OP_TIMEOUT - 5)
        except TimeoutError:
            raise BadAnswer(f"{data[:60]!r}: no answer within {OP_TIMEOUT - 5:.0f} s") from None
        if resp.status not in GARBAGE_STATUSES:
            raise BadAnswer(f"{data[:60]!r} answered {resp.status}")
        if not await at_eof(reader):
            raise BadAnswer(f"{data[:60]!r}: connection left open after {resp.status}")
        t.stats.record("garbage", str(resp.status))
    finally:
        writer.close()


Op = Callable[[Target], Awaitable[None]]


async def run_op(t: Target, kind: str, op: Op) -> None:
    """One client action, bounded in time; its failure (if any) recorded, never raised."""
    try:
        await asyncio.wait_for(op(t), OP_TIMEOUT)
    except TimeoutError:
        t.stats.record(kind, "timeout", f"no end within {OP_TIMEOUT:.0f} s")
    except Malformed as exc:
        t.stats.record(kind, "malformed", str(exc))
    except NoResponse as exc:
        t.stats.record(kind, "no-response", str(exc))
    except (ConnectionResetError, BrokenPipeError) as exc:
        t.stats.record(kind, "reset", repr(exc))
    except BadAnswer as exc:
        t.stats.record(kind, "bad-answer", str(exc))
    except (OSError, ValueError) as exc:
        t.stats.record(kind, "client-error", repr(exc))


async def worker(t: Target, kind: str, op: Op, deadline: float, pause: float) -> None:
    """Repeat `op` until `deadline`, `pause` seconds (on average) apart."""
    while time.monotonic() < deadline:
        await run_op(t, kind, op)
        await asyncio.sleep(t.rng.uniform(0, 2 * pause))


# kind -> (operation, how many workers, mean pause between operations in seconds)
MIX: dict[str, tuple[Op, int, float]] = {
    "probe": (probe, 2, 0.1),
    "keepalive": (keepalive, 2, 0.02),
    "pipelined": (pipelined, 1, 0.05),
    "close": (one_close, 1, 0.02),
    "upload": (upload, 2, 0.1),
    "static": (static, 2, 0.02),
    "leave-mid-request": (leave_mid_request, 1, 0.05),
    "leave-mid-response": (leave_mid_response, 1, 0.05),
    "slow": (slow_client, 3, 0.05),
    "garbage": (garbage, 1, 0.05),
}


class IdlePool:
    """Up to N keep-alive connections that each made a request and then sit idle.

    Every ``touch`` some of them make another request, to show they are still served.
    """

    def __init__(self, t: Target, size: int) -> None:
        self.t = t
        self.size = size
        self.conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def _open_one(self, _t: Target) -> None:
        reader, writer = await connect(self.t, limit=16384)
        try:
            ex = ordinary(self.t)
            writer.write(ex.data)
            await answer(self.t, "idle", reader, ex)
        except BaseException:
            writer.close()
            raise
        self.conns.append((reader, writer))

    async def open(self, batch: int = 50) -> None:
        for start in range(0, self.size, batch):
            n = min(batch, self.size - start)
            await asyncio.gather(*(run_op(self.t, "idle", self._open_one) for _ in range(n)))

    async def touch(self, n: int = 50) -> None:
        chosen = self.t.rng.sample(range(len(self.conns)), min(n, len(self.conns)))

        async def again(t: Target, i: int) -> None:
            reader, writer = self.conns[i]
            ex = ordinary(t)
            writer.write(ex.data)
            await answer(t, "idle", reader, ex)

        await asyncio.gather(*(run_op(self.t, "idle", partial(again, i=i)) for i in chosen))

    def close(self) -> None:
        for _, writer in self.conns:
            writer.close()
        self.conns.clear()
