"""A closed WebSocket is freed by reference counting alone, never left to the cyclic GC.

With the cycle collector disabled, WebSockets end in every way (the client closes, the
server closes, permessage-deflate, an async ``on_message``, a protocol error, a message
over the size limit, a client that resets the TCP connection); then no handler, protocol,
parser, client connection or transport may be left, on the server side nor on the
``websocket_connect`` side. The protocol held the handler's (or the client connection's)
bound methods while they held it, and asyncio's transport a bound method of itself: every
closed WebSocket waited for the cyclic collector, so memory grew between full collections.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from squall.websocket import WebSocketHandler, websocket_connect
from squall.websocket._frames import TEXT, encode_frame

from .conftest import WSTools

LOOPS = pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
ROUNDS = 5  # WebSockets of each kind
WAIT = 10.0  # bound on any one wait (seconds)
LIMIT = 1024  # websocket_max_message_size of the test application
# What one WebSocket is made of, either side (asyncio's and uvloop's transports).
COUNTED = frozenset(
    {
        "Echo",
        "WebSocketProtocol",
        "WebSocketClientConnection",
        "FrameParser",
        "Deflater",
        "InflaterImpl",
        "HTTPServerRequest",
        "_SelectorSocketTransport",
        "TCPTransport",
    }
)


def _live_counts() -> dict[str, int]:
    counts = dict.fromkeys(sorted(COUNTED), 0)
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in counts:
            counts[name] += 1
    return counts


class Echo(WebSocketHandler):
    """Echoes; ``close`` makes it close, ``async`` answers from an async ``on_message``."""

    opened: list[weakref.ref[Echo]] = []
    closed = 0

    def open(self) -> None:
        Echo.opened.append(weakref.ref(self))

    def get_compression_options(self) -> dict[str, Any] | None:
        return {} if self.request.path == "/deflate" else None

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        if message == "close":
            self.close(1000, "asked to")
            return None
        if message == "async":
            return self._later(message)
        return self.write_message(message, binary=isinstance(message, bytes))

    async def _later(self, message: str) -> None:
        await asyncio.sleep(0)
        await self.write_message(message)

    def on_close(self) -> None:
        Echo.closed += 1


Clients = list[weakref.ref[Any]]


async def _client_closes(url: str, clients: Clients) -> None:
    conn = await websocket_connect(url + "/ws")
    clients += [weakref.ref(conn), weakref.ref(conn.protocol)]
    await conn.write_message("hello")
    assert await conn.read_message() == "hello"
    conn.close(1000)
    assert conn.protocol is not None
    await conn.protocol.wait_closed()


async def _server_closes(url: str, clients: Clients) -> None:
    conn = await websocket_connect(url + "/ws")
    clients += [weakref.ref(conn), weakref.ref(conn.protocol)]
    await conn.write_message("close")
    assert await conn.read_message() is None
    assert conn.close_code == 1000


async def _compressed(url: str, clients: Clients) -> None:
    conn = await websocket_connect(url + "/deflate", compression_options={})
    clients += [weakref.ref(conn), weakref.ref(conn.protocol)]
    await conn.write_message(b"z" * LIMIT, binary=True)
    assert await conn.read_message() == b"z" * LIMIT
    conn.close()
    assert conn.protocol is not None
    await conn.protocol.wait_closed()


async def _async_on_message(url: str, clients: Clients) -> None:
    conn = await websocket_connect(url + "/ws")
    clients += [weakref.ref(conn), weakref.ref(conn.protocol)]
    await conn.write_message("async")
    assert await conn.read_message() == "async"
    conn.close()
    assert conn.protocol is not None
    await conn.protocol.wait_closed()


async def _too_big(url: str, clients: Clients) -> None:
    conn = await websocket_connect(url + "/ws")
    clients += [weakref.ref(conn), weakref.ref(conn.protocol)]
    await conn.write_message("x" * (LIMIT + 1))
    assert await conn.read_message() is None
    assert conn.close_code == 1009


async def _raw_upgraded(url: str) -> socket.socket:
    """A plain socket after a 101 (asyncio's streams would add cycles of the test's own)."""
    host, port = url.split("//")[1].split(":")
    sock = socket.socket()
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    await loop.sock_sendall(sock, WSTools.upgrade_request("/ws"))
    head = await _read_until(sock, lambda d: b"\r\n\r\n" in d)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert head.endswith(b"\r\n\r\n")  # the server says nothing before the client does
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


async def _protocol_error(url: str, clients: Clients) -> None:
    with await _raw_upgraded(url) as sock:
        # A client must mask its frames: 1002, then the server closes the connection.
        await asyncio.get_running_loop().sock_sendall(
            sock, encode_frame(TEXT, b"unmasked", mask=False)
        )
        answer = await _read_until(sock, lambda d: False)
    assert answer[:4] == b"\x88" + bytes((len(answer) - 2,)) + (1002).to_bytes(2, "big")


async def _reset(url: str, clients: Clients) -> None:
    sock = await _raw_upgraded(url)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


KINDS: list[Callable[[str, Clients], Awaitable[None]]] = [
    _client_closes,
    _server_closes,
    _compressed,
    _async_on_message,
    _too_big,
    _protocol_error,
    _reset,
]


@LOOPS
@pytest.mark.usefixtures("no_cycle_collector")
def test_closed_websockets_are_freed_without_the_cycle_collector(
    ws: WSTools, use_uvloop: bool
) -> None:
    Echo.opened = []
    Echo.closed = 0
    clients: Clients = []
    before = _live_counts()
    seen: dict[str, int] = {}

    async def main() -> dict[str, int]:
        routes = [(r"/ws", Echo), (r"/deflate", Echo)]
        async with ws.app(routes, websocket_max_message_size=LIMIT) as url:
            for kind in KINDS:
                await asyncio.gather(*(kind(url, clients) for _ in range(ROUNDS)))
            # Still open: proof the count below sees what a WebSocket is made of.
            idle = await websocket_connect(url + "/deflate", compression_options={})
            await idle.write_message("idle")
            assert await idle.read_message() == "idle"
            seen.update(_live_counts())
            idle.close()
            assert idle.protocol is not None
            await idle.protocol.wait_closed()
            del idle
            for _ in range(int(WAIT / 0.01)):
                if Echo.closed == len(Echo.opened):
                    break
                await asyncio.sleep(0.01)
            assert Echo.closed == len(Echo.opened)
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        return _live_counts()

    after = ws.run(main(), use_uvloop=use_uvloop)

    for name in ("Echo", "WebSocketProtocol", "WebSocketClientConnection", "Deflater"):
        assert seen[name] > before[name], name
    assert len(Echo.opened) == ROUNDS * len(KINDS) + 1
    assert [ref for ref in Echo.opened if ref() is not None] == []
    # a client connection and its protocol for each of the five websocket_connect kinds
    assert len(clients) == 2 * ROUNDS * 5
    assert [ref for ref in clients if ref() is not None] == []
    assert after == before
