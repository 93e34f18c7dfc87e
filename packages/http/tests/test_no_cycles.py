"""A closed connection is freed by reference counting alone, never left to the cyclic GC.

With the cycle collector disabled, connections of every kind (keep-alive, pipelined, an
upload, a client that resets in the middle of a streamed response, a bad request line, a
multipart body without a boundary, a client that leaves mid-head) are served and closed;
then no squall protocol, connection, parser or transport object may be left. A reference
cycle among them (asyncio's transport holding a bound method of itself, an error kept with
the traceback whose frames hold its keeper) left every closed connection to the cyclic
collector: under load the server's memory grew between full collections.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
from collections.abc import Callable
from typing import Any

import pytest

from squall.http import HTTPServer, HTTPServerRequest, StreamClosedError
from squall.loop import bind_sockets

LOOPS = pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
ROUNDS = 10  # connections of each kind
WAIT = 10.0  # bound on any one wait (seconds)
# What one connection is made of on the server side (asyncio's and uvloop's transports).
COUNTED = frozenset(
    {
        "HTTPProtocol",  # uvloop's connections
        "BufferedHTTPProtocol",  # asyncio's
        "HTTPConnection",
        "ConnectionTimer",
        "BodyReader",
        "RequestParser",
        "_SelectorSocketTransport",
        "TCPTransport",
    }
)


def _new_loop(use_uvloop: bool) -> asyncio.AbstractEventLoop:
    if use_uvloop:
        uvloop = pytest.importorskip("uvloop")
        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.SelectorEventLoop()


def _live_counts() -> dict[str, int]:
    counts = dict.fromkeys(sorted(COUNTED), 0)
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in counts:
            counts[name] += 1
    return counts


class _App:
    """A plain callback: ``/hello``, ``/upload`` (buffered) and ``/stream`` (1 MiB, streamed)."""

    def __init__(self) -> None:
        # The protocols behind the requests, by id: the live counts below show they are
        # gone. Not weak references: a mypyc-compiled protocol (squall.http.compiled())
        # does not clear them when it is freed, so a dead one would crash on use.
        self.protocols: list[int] = []

    def __call__(self, request: HTTPServerRequest) -> Any:
        self.protocols.append(id(request.connection._proto))  # type: ignore[attr-defined]
        if request.path == "/stream":
            return self._stream(request)
        body = b"%d" % len(request.body) if request.path == "/upload" else b"hello"
        request.connection.respond(200, [("Content-Type", "text/plain")], body)
        return None

    async def _stream(self, request: HTTPServerRequest) -> None:
        conn = request.connection
        conn.write_headers(200, [("Content-Type", "application/octet-stream")])
        try:
            for _ in range(64):
                await conn.write(b"s" * 16384)
            conn.finish()
        except StreamClosedError:
            pass  # the client reset: that is the case under test


async def _connect(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def _read_until(sock: socket.socket, done: Callable[[bytes], bool]) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    while not done(data):
        piece = await asyncio.wait_for(loop.sock_recv(sock, 65536), WAIT)
        if not piece:
            break
        data += piece
    return data


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


GET = b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"


async def _keep_alive(port: int) -> None:
    sock = await _connect(port)
    with sock:
        for _ in range(3):
            await asyncio.get_running_loop().sock_sendall(sock, GET)
            assert (await _read_until(sock, lambda d: d.endswith(b"hello"))).endswith(b"hello")


async def _pipelined(port: int) -> None:
    sock = await _connect(port)
    with sock:
        await asyncio.get_running_loop().sock_sendall(sock, GET * 8)
        assert (await _read_until(sock, lambda d: d.count(b"hello") == 8)).count(b"hello") == 8


async def _upload(port: int) -> None:
    body = b"u" * 100_000
    sock = await _connect(port)
    with sock:
        await asyncio.get_running_loop().sock_sendall(
            sock, b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + body
        )
        assert (await _read_until(sock, lambda d: d.endswith(b"100000"))).endswith(b"100000")


async def _reset_mid_response(port: int) -> None:
    sock = await _connect(port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await asyncio.get_running_loop().sock_sendall(sock, b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await _read_until(sock, lambda d: b"\r\n\r\n" in d)
    assert head.startswith(b"HTTP/1.1 200 ")
    _reset(sock)


async def _bad_request_line(port: int) -> None:
    sock = await _connect(port)
    with sock:
        await asyncio.get_running_loop().sock_sendall(sock, b"GET / HTTP/9.9\r\n\r\n")
        assert (await _read_until(sock, lambda d: False)).startswith(b"HTTP/1.1 505 ")


async def _multipart_without_boundary(port: int) -> None:
    sock = await _connect(port)
    with sock:
        await asyncio.get_running_loop().sock_sendall(
            sock,
            b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data\r\n"
            b"Content-Length: 2\r\n\r\nxx",
        )
        assert (await _read_until(sock, lambda d: False)).startswith(b"HTTP/1.1 400 ")


async def _leave_mid_head(port: int) -> None:
    sock = await _connect(port)
    with sock:
        await asyncio.get_running_loop().sock_sendall(sock, b"GET /hello HTTP/1.1\r\nHo")


KINDS = [
    _keep_alive,
    _pipelined,
    _upload,
    _reset_mid_response,
    _bad_request_line,
    _multipart_without_boundary,
    _leave_mid_head,
]


@LOOPS
@pytest.mark.usefixtures("no_cycle_collector")
def test_closed_connections_are_freed_without_the_cycle_collector(use_uvloop: bool) -> None:
    app = _App()
    before = _live_counts()
    seen: dict[str, int] = {}

    async def main() -> dict[str, int]:
        server = HTTPServer(app)
        server.add_sockets(bind_sockets(0, "127.0.0.1"))
        port = server.sockets[0].getsockname()[1]
        try:
            for kind in KINDS:
                await asyncio.gather(*(kind(port) for _ in range(ROUNDS)))
            # Still open: proof the count below sees what a connection is made of.
            idle = await _connect(port)
            with idle:
                await asyncio.get_running_loop().sock_sendall(idle, GET)
                await _read_until(idle, lambda d: d.endswith(b"hello"))
                seen.update(_live_counts())
            for _ in range(int(WAIT / 0.01)):
                if server.connections == 0:
                    break
                await asyncio.sleep(0.01)
            assert server.connections == 0
            await asyncio.sleep(0)
            return _live_counts()
        finally:
            server.stop()

    with asyncio.Runner(loop_factory=lambda: _new_loop(use_uvloop)) as runner:
        after = runner.run(main())

    protocol = "HTTPProtocol" if use_uvloop else "BufferedHTTPProtocol"
    assert seen[protocol] > before[protocol]
    # requests the callback answered: keep-alive 3, pipelined 8, upload 1, stream 1; idle
    assert len(app.protocols) == ROUNDS * (3 + 8 + 1 + 1) + 1
    # None of them is alive: every live protocol object is counted by type and by id.
    assert not {id(o) for o in gc.get_objects() if type(o).__name__ == protocol} & set(
        app.protocols
    )
    assert after == before
