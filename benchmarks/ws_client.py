"""The WebSocket load client of benchmarks/websocket.py: raw asyncio sockets, one process.

Kept cheap so the server, not the client, is measured: each connection is a bare
``asyncio.Protocol`` that writes the handshake by hand, masks its frames with the all-zero
key (legal, RFC 6455 §5.3: the payload goes out unchanged) and parses only the unmasked
frames servers send. It prints one JSON object on stdout.

Modes:
  echo       --conns N --size B --duration S: each connection sends a message and sends the
             next as soon as its echo came back (closed loop); round trips per second.
  broadcast  --conns N --rounds R: N connections open, one sends ``!bcast <32 B>`` and the
             time until all N received it is measured, R times.
  idle       --conns N --hold S: open N WebSockets (at most 200 handshakes at a time), print
             ``{"open": N}`` then hold them S seconds (the driver reads the server's RSS).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable

HANDSHAKE_TIMEOUT = 30.0


def encode(opcode: int, payload: bytes) -> bytes:
    """A client frame (FIN, masked with the zero key)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


class Conn(asyncio.Protocol):
    """One client WebSocket; ``on_message(conn, opcode, payload)`` per data frame."""

    def __init__(self, port: int, on_message: Callable[[Conn, int, bytes], None]) -> None:
        self.port = port
        self.on_message = on_message
        self.buf = bytearray()
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            (
                f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(bytes(buf[:80]).decode("latin-1")))
                return
            self.upgraded = True
            del buf[: end + 4]
            self.ready.set_result(None)
        while len(buf) >= 2:
            n = buf[1] & 0x7F
            if n == 126:
                if len(buf) < 4:
                    return
                n, head = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, head = int.from_bytes(buf[2:10], "big"), 10
            else:
                head = 2
            if len(buf) < head + n:
                return
            opcode = buf[0] & 0x0F
            payload = bytes(buf[head : head + n])
            del buf[: head + n]
            if opcode in (1, 2):
                self.on_message(self, opcode, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before the handshake"))

    def send(self, frame: bytes) -> None:
        assert self.transport is not None
        self.transport.write(frame)


async def open_conns(
    port: int, n: int, on_message: Callable[[Conn, int, bytes], None], parallel: int = 200
) -> list[Conn]:
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(parallel)
    conns: list[Conn] = []

    async def one() -> None:
        async with sem:
            _, proto = await loop.create_connection(
                lambda: Conn(port, on_message), "127.0.0.1", port
            )
            await asyncio.wait_for(proto.ready, HANDSHAKE_TIMEOUT)
            conns.append(proto)

    await asyncio.gather(*(one() for _ in range(n)))
    return conns


async def echo(port: int, conns: int, size: int, duration: float, warmup: float) -> dict:
    opcode = 1 if size <= 1024 else 2
    frame = encode(opcode, b"x" * size)
    counting = False
    count = 0
    bad = 0

    def on_message(conn: Conn, op: int, payload: bytes) -> None:
        nonlocal count, bad
        if len(payload) != size:
            bad += 1
        if counting:
            count += 1
        conn.send(frame)

    cs = await open_conns(port, conns, on_message)
    for c in cs:
        c.send(frame)
    await asyncio.sleep(warmup)
    counting = True
    print(json.dumps({"phase": "start"}), flush=True)  # the driver reads server CPU now
    t0 = time.perf_counter()
    await asyncio.sleep(duration)
    counting = False
    wall = time.perf_counter() - t0
    print(json.dumps({"phase": "end"}), flush=True)
    for c in cs:
        assert c.transport is not None
        c.transport.abort()
    return {"round_trips": count, "wall": wall, "rps": count / wall, "bad": bad}


async def broadcast(port: int, conns: int, rounds: int) -> dict:
    payload = b"b" * 32
    state = {"left": 0, "done": None}

    def on_message(conn: Conn, op: int, data: bytes) -> None:
        state["left"] -= 1  # type: ignore[operator]
        if state["left"] == 0 and state["done"] is not None:
            state["done"].set_result(time.perf_counter())  # type: ignore[attr-defined]

    cs = await open_conns(port, conns, on_message)
    await asyncio.sleep(0.5)
    times = []
    for _ in range(rounds):
        fut = asyncio.get_running_loop().create_future()
        state["left"], state["done"] = conns, fut
        t0 = time.perf_counter()
        cs[0].send(encode(1, b"!bcast " + payload))
        t1 = await asyncio.wait_for(fut, 30)
        times.append((t1 - t0) * 1000)
        await asyncio.sleep(0.05)
    for c in cs:
        assert c.transport is not None
        c.transport.abort()
    return {"ms": times, "median_ms": statistics.median(times), "min_ms": min(times)}


async def idle(port: int, conns: int, hold: float) -> dict:
    t0 = time.perf_counter()
    cs = await open_conns(port, conns, lambda c, o, p: None)
    print(json.dumps({"open": len(cs), "seconds": time.perf_counter() - t0}), flush=True)
    await asyncio.sleep(hold)
    for c in cs:
        assert c.transport is not None
        c.transport.abort()
    return {"open": len(cs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["echo", "broadcast", "idle"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--conns", type=int, default=1)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--hold", type=float, default=5.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    import uvloop

    if args.mode == "echo":
        coro = echo(args.port, args.conns, args.size, args.duration, args.warmup)
    elif args.mode == "broadcast":
        coro = broadcast(args.port, args.conns, args.rounds)
    else:
        coro = idle(args.port, args.conns, args.hold)
    result = uvloop.run(coro)
    print(json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
