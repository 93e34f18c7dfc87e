"""Answers to pipelined requests read together leave together, in order, over a real socketpair.

The first answer of a pass over the parser is written at once, the later ones are collected
and written in one ``transport.write``. Every other use of the transport (an error answer,
``100 Continue``, a file, the upgrade hand-over, the application's own use of
``connection.transport``, close) comes after what was collected. Writes are observed by a
wrapper around the connection's real transport that records each call it passes on.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from squall.http import HTTPLimits, HTTPServerRequest
from squall.http._context import ServerContext
from squall.http._protocol import _COLLECT_MAX, HTTPProtocol, protocol_class

TEXT = [("Content-Type", "text/plain")]

_LOOP = {"kind": "asyncio"}


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def loop_kind(request: pytest.FixtureRequest) -> str:
    """Every test runs on both event loops squall supports."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    _LOOP["kind"] = request.param
    return str(request.param)


def run(test: Callable[[], Awaitable[None]]) -> None:
    factory: Any = None
    if _LOOP["kind"] == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(asyncio.wait_for(test(), 20))


class Recorder:
    """Stands between the protocol and its real transport, recording what it is asked."""

    def __init__(self, transport: Any) -> None:
        self.real = transport
        self.calls: list[tuple[str, bytes]] = []

    @property
    def writes(self) -> list[bytes]:
        return [data for name, data in self.calls if name == "write"]

    def write(self, data: bytes) -> None:
        self.calls.append(("write", bytes(data)))
        self.real.write(data)

    def close(self) -> None:
        self.calls.append(("close", b""))
        self.real.close()

    def abort(self) -> None:
        self.calls.append(("abort", b""))
        self.real.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


async def connect(callback: Any, **limits: Any) -> tuple[HTTPProtocol, Recorder, socket.socket]:
    """A server-side protocol on one end of a socketpair (recorded); the other end, raw."""
    loop = asyncio.get_running_loop()
    ctx = ServerContext(callback, HTTPLimits(**limits))
    a, b = socket.socketpair()
    _, proto = await loop.connect_accepted_socket(lambda: protocol_class(loop)(ctx, loop), a)
    rec = Recorder(proto._transport)
    proto._transport = rec  # type: ignore[assignment]
    b.setblocking(False)
    return proto, rec, b


async def recv_more(sock: socket.socket, buf: bytearray) -> bool:
    """Append what the server sends next to ``buf``; False at the end of the stream."""
    try:
        data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 65536), 5)
    except ConnectionResetError:
        return False
    buf += data
    return bool(data)


async def response(sock: socket.socket, buf: bytearray) -> tuple[int, dict[str, str], bytes]:
    """The next response (head, and the body its Content-Length announces)."""
    while b"\r\n\r\n" not in buf:
        assert await recv_more(sock, buf), f"closed; got {bytes(buf)!r}"
    end = buf.index(b"\r\n\r\n")
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    del buf[: end + 4]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length", "0"))
    while len(buf) < size:
        assert await recv_more(sock, buf), "closed mid-body"
    body = bytes(buf[:size])
    del buf[:size]
    return int(lines[0].split(" ")[1]), headers, body


async def at_eof(sock: socket.socket, buf: bytearray) -> bool:
    """Whether the server closes with nothing more to send."""
    while await recv_more(sock, buf):
        pass
    return not buf


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode()


def echo_path(request: HTTPServerRequest) -> None:
    request.connection.respond(200, TEXT, request.path.encode())  # type: ignore[union-attr]


def start_eagerly(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` up to its first wait now, the rest from the loop (as an eager task would).

    Python 3.12's ``asyncio.eager_task_factory`` starts a handler's coroutine inside the
    call that made it; this small driver does the same on every version. Whatever it
    raises fails the test at the end of ``run``.
    """

    def step() -> None:
        try:
            fut = coro.send(None)
        except StopIteration:
            return
        fut._asyncio_future_blocking = False
        fut.add_done_callback(lambda _: step())

    step()


def test_one_read_of_pipelined_requests_is_answered_in_order_in_two_writes() -> None:
    async def main() -> None:
        _, rec, sock = await connect(echo_path)
        await asyncio.get_running_loop().sock_sendall(
            sock, b"".join(get(f"/{i}") for i in range(16))
        )
        buf = bytearray()
        bodies = [(await response(sock, buf))[2] for _ in range(16)]
        assert bodies == [f"/{i}".encode() for i in range(16)]
        # The first answer goes out at once, the other fifteen together.
        assert len(rec.writes) == 2, [len(w) for w in rec.writes]
        assert rec.writes[0].endswith(b"\r\n\r\n/0")
        assert rec.writes[1].count(b"HTTP/1.1 200 OK\r\n") == 15
        sock.close()

    run(main)


def test_an_answer_finished_by_a_task_is_written_directly_between_collected_ones() -> None:
    def app(request: HTTPServerRequest) -> Any:
        if request.path != "/async":
            echo_path(request)
            return None

        async def later() -> None:
            await asyncio.sleep(0)
            echo_path(request)

        return later()

    async def main() -> None:
        _, rec, sock = await connect(app)
        paths = ["/a", "/b", "/async", "/c", "/d"]
        await asyncio.get_running_loop().sock_sendall(sock, b"".join(map(get, paths)))
        buf = bytearray()
        assert [(await response(sock, buf))[2] for _ in paths] == [p.encode() for p in paths]
        # /a at once, /b collected; /async alone from its Task; then /c at once, /d collected.
        assert [w.count(b"HTTP/1.1 ") for w in rec.writes] == [1, 1, 1, 1, 1]
        assert [w.rsplit(b"\r\n\r\n", 1)[1] for w in rec.writes] == [p.encode() for p in paths]
        sock.close()

    run(main)


def test_streamed_answers_written_in_the_same_pass_are_collected_too() -> None:
    def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        conn.write_headers(200, TEXT)  # chunked
        conn.write(request.path.encode())
        conn.finish()

    async def main() -> None:
        _, rec, sock = await connect(app)
        await asyncio.get_running_loop().sock_sendall(sock, get("/s1") + get("/s2"))
        buf = bytearray()
        for path in (b"/s1", b"/s2"):
            _, headers, _ = await response(sock, buf)
            assert headers["transfer-encoding"] == "chunked"
            while b"0\r\n\r\n" not in buf:
                assert await recv_more(sock, buf)
            assert bytes(buf[:13]) == b"3\r\n" + path + b"\r\n0\r\n\r\n"
            del buf[:13]
        # The first head at once; its chunks and the whole second answer together.
        assert len(rec.writes) == 2
        assert rec.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
        assert rec.writes[0].endswith(b"\r\n\r\n")
        assert rec.writes[1].startswith(b"3\r\n/s1\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n")
        sock.close()

    run(main)


def test_collected_bytes_are_bounded_so_a_client_that_does_not_read_pauses_the_server() -> None:
    body = b"x" * (8 * 1024)
    handled: list[str] = []

    def app(request: HTTPServerRequest) -> None:
        handled.append(request.path)
        tag = request.path.encode().ljust(8)
        request.connection.respond(200, TEXT, tag + body)  # type: ignore[union-attr]

    async def main() -> None:
        proto, rec, sock = await connect(app)
        count = 1000
        await asyncio.get_running_loop().sock_sendall(
            sock, b"".join(get(f"/{i}") for i in range(count))
        )
        for _ in range(500):  # the server's reads, until it stops (polled, not timed)
            if proto._read_paused or len(handled) == count:
                break
            await asyncio.sleep(0.005)
        # The client reads nothing: the transport's high-water mark stopped the server
        # long before 1000 answers (8 MiB) were collected in memory.
        assert proto._read_paused
        assert len(handled) < count // 4, len(handled)
        assert max(len(w) for w in rec.writes) < _COLLECT_MAX + len(body) + 256
        buf = bytearray()
        for i in range(count):
            _, _, got = await response(sock, buf)
            assert got[:8] == f"/{i}".encode().ljust(8)
        assert len(handled) == count
        sock.close()

    run(main)


def test_a_large_answer_among_collected_ones_arrives_whole_and_in_order() -> None:
    big = bytes(range(256)) * 1200  # 300 KiB: sent on its own, not copied into the rest

    def app(request: HTTPServerRequest) -> None:
        body = big if request.path == "/big" else request.path.encode()
        request.connection.respond(200, TEXT, body)  # type: ignore[union-attr]

    async def main() -> None:
        _, rec, sock = await connect(app)
        paths = ["/a", "/b", "/big", "/c"]
        await asyncio.get_running_loop().sock_sendall(sock, b"".join(map(get, paths)))
        buf = bytearray()
        got = [(await response(sock, buf))[2] for _ in paths]
        assert got == [b"/a", b"/b", big, b"/c"]
        assert big in rec.writes
        sock.close()

    run(main)


def test_connection_close_mid_read_is_answered_then_the_rest_is_not() -> None:
    handled: list[str] = []

    def app(request: HTTPServerRequest) -> None:
        handled.append(request.path)
        echo_path(request)

    async def main() -> None:
        _, rec, sock = await connect(app)
        data = get("/a") + get("/b") + get("/bye", "Connection: close\r\n") + get("/never")
        await asyncio.get_running_loop().sock_sendall(sock, data)
        buf = bytearray()
        assert (await response(sock, buf))[2] == b"/a"
        assert (await response(sock, buf))[2] == b"/b"
        status, headers, got = await response(sock, buf)
        assert (status, got, headers["connection"]) == (200, b"/bye", "close")
        assert await at_eof(sock, buf)
        assert handled == ["/a", "/b", "/bye"]
        # Nothing is written after the close: the collected answers went before it.
        assert [name for name, _ in rec.calls][-1] == "close"
        sock.close()

    run(main)


@pytest.mark.parametrize(
    ("bad", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400),
        (b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n", 413),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"y" * 3000 + b"\r\n\r\n", 431),
    ],
    ids=["400", "413", "431"],
)
def test_an_error_answer_comes_after_the_answers_collected_before_it(
    bad: bytes, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        _, rec, sock = await connect(echo_path, max_header_size=2048, max_body_size=1000)
        await asyncio.get_running_loop().sock_sendall(sock, get("/a") + get("/b") + bad)
        buf = bytearray()
        assert (await response(sock, buf))[2] == b"/a"
        assert (await response(sock, buf))[2] == b"/b"
        assert (await response(sock, buf))[0] == status
        assert await at_eof(sock, buf)
        assert [name for name, _ in rec.calls][-1] == "close"
        sock.close()

    with caplog.at_level(logging.WARNING, "squall.http"):
        run(main)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and f": bad request ({status}): " in messages[0], messages


def test_a_408_comes_after_the_answers_collected_before_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        _, _, sock = await connect(echo_path, header_timeout=0.2)
        partial = b"GET /slow HTTP/1.1\r\nHost: t\r\n"
        await asyncio.get_running_loop().sock_sendall(sock, get("/a") + get("/b") + partial)
        buf = bytearray()
        assert (await response(sock, buf))[2] == b"/a"
        assert (await response(sock, buf))[2] == b"/b"
        assert (await response(sock, buf))[0] == 408
        assert await at_eof(sock, buf)
        sock.close()

    with caplog.at_level(logging.WARNING, "squall.http"):
        run(main)


def test_100_continue_comes_after_the_answers_collected_before_it() -> None:
    def app(request: HTTPServerRequest) -> None:
        body = request.path.encode() + b" " + request.body
        request.connection.respond(200, TEXT, body)  # type: ignore[union-attr]

    async def main() -> None:
        _, _, sock = await connect(app)
        post = b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(sock, get("/a") + get("/b") + post)
        buf = bytearray()
        assert (await response(sock, buf))[2] == b"/a "
        assert (await response(sock, buf))[2] == b"/b "
        assert (await response(sock, buf))[0] == 100
        await loop.sock_sendall(sock, b"abc")
        assert (await response(sock, buf))[2] == b"/p abc"
        sock.close()

    run(main)


class Shout(asyncio.Protocol):
    """The protocol a connection is upgraded to: answers every piece in capitals."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())


def test_an_upgrade_head_comes_after_the_answers_collected_before_it() -> None:
    def app(request: HTTPServerRequest) -> None:
        if request.path != "/up":
            echo_path(request)
            return
        request.connection.upgrade(  # type: ignore[union-attr]
            [("Upgrade", "shout"), ("Connection", "Upgrade")], Shout()
        )

    async def main() -> None:
        _, _, sock = await connect(app)
        up = get("/up", "Upgrade: shout\r\nConnection: Upgrade\r\n")
        await asyncio.get_running_loop().sock_sendall(sock, get("/a") + get("/b") + up + b"hello")
        buf = bytearray()
        assert (await response(sock, buf))[2] == b"/a"
        assert (await response(sock, buf))[2] == b"/b"
        status, headers, _ = await response(sock, buf)
        assert (status, headers["upgrade"]) == (101, "shout")
        while len(buf) < 5:
            assert await recv_more(sock, buf)
        assert bytes(buf) == b"HELLO"
        sock.close()

    run(main)


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_a_file_sent_in_a_pipelined_read_comes_after_the_answers_before_it(
    tmp_path: Path, chunked: bool
) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"FILE" * 100)

    def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        if request.path != "/file":
            echo_path(request)
            return
        headers = [] if chunked else [("Content-Length", "400")]
        conn.write_headers(200, TEXT + headers)

        async def send() -> None:
            with path.open("rb") as f:
                await conn.sendfile(f)
            conn.finish()

        start_eagerly(send())

    async def main() -> None:
        _, _, sock = await connect(app)
        await asyncio.get_running_loop().sock_sendall(
            sock, get("/a") + get("/b") + get("/file") + get("/c")
        )
        buf = bytearray()
        assert (await response(sock, buf))[2] == b"/a"
        assert (await response(sock, buf))[2] == b"/b"
        status, headers, body = await response(sock, buf)
        if chunked:
            assert headers["transfer-encoding"] == "chunked"
            while b"0\r\n\r\n" not in buf:
                assert await recv_more(sock, buf)
            body = bytes(buf[: buf.index(b"0\r\n\r\n") + 5])
            del buf[: len(body)]
            assert body == b"190\r\n" + b"FILE" * 100 + b"\r\n0\r\n\r\n"
        else:
            assert body == b"FILE" * 100
        assert (await response(sock, buf))[2] == b"/c"
        sock.close()

    run(main)


def test_the_applications_own_use_of_the_transport_comes_after_the_collected_answers() -> None:
    def app(request: HTTPServerRequest) -> None:
        if request.path == "/cut":
            # What squall.static does to cut a response short: abort the transport.
            request.connection.transport.abort()  # type: ignore[union-attr]
            return
        echo_path(request)

    async def main() -> None:
        _, rec, sock = await connect(app)
        await asyncio.get_running_loop().sock_sendall(
            sock, get("/a") + get("/b") + get("/cut") + get("/never")
        )
        buf = bytearray()
        assert (await response(sock, buf))[2] == b"/a"
        assert (await response(sock, buf))[2] == b"/b"
        assert await at_eof(sock, buf)
        assert [name for name, _ in rec.calls] == ["write", "write", "abort"]
        sock.close()

    run(main)


def test_a_client_that_half_closes_after_its_requests_gets_every_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        _, _, sock = await connect(echo_path)
        await asyncio.get_running_loop().sock_sendall(
            sock, b"".join(get(f"/{i}") for i in range(16))
        )
        sock.shutdown(socket.SHUT_WR)
        buf = bytearray()
        bodies = [(await response(sock, buf))[2] for _ in range(16)]
        assert bodies == [f"/{i}".encode() for i in range(16)]
        assert await at_eof(sock, buf)
        sock.close()

    with caplog.at_level(logging.DEBUG):
        run(main)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_client_gone_before_its_pipelined_requests_are_read_causes_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[str] = []

    def app(request: HTTPServerRequest) -> None:
        handled.append(request.path)
        echo_path(request)

    async def main() -> None:
        proto, _, sock = await connect(app)
        sock.sendall(b"".join(get(f"/{i}") for i in range(16)))
        sock.close()  # before the server has read a byte
        for _ in range(500):  # polled until the server has noticed
            if proto._closed:
                break
            await asyncio.sleep(0.005)
        assert proto._closed
        await asyncio.sleep(0.01)  # connection_lost and the transport's own clean-up

    with caplog.at_level(logging.DEBUG):
        run(main)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    # The first answer's failed send is how the server learns the peer is gone.
    assert handled == ["/0"]
