"""Helpers of squall.websocket's tests: serve an Application on the running loop, raw frames."""

from __future__ import annotations

import asyncio
import base64
import gc
import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from squall.web import Application
from squall.web.testing import serve
from squall.websocket import plugin


@asynccontextmanager
async def ws_app(handlers: list[Any], **settings: Any) -> AsyncIterator[str]:
    """Serve ``Application(handlers, **settings)``; yield ``ws://127.0.0.1:PORT``."""
    app = Application(handlers, plugins=[plugin], autoload_plugins=False, **settings)
    async with serve(app) as url:
        yield url.replace("http://", "ws://")


def upgrade_request(path: str = "/ws", **extra: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def raw_connect(url: str, request: bytes) -> tuple[asyncio.StreamReader, Any, bytes]:
    """Open a TCP connection, send ``request``; return reader, writer and the answer head."""
    host, port = url.split("//")[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    return reader, writer, head


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One unmasked frame from the server: (first byte, payload)."""
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    return b0, await reader.readexactly(n)


class WSTools:
    """What the socket tests share, handed out by the ``ws`` fixture."""

    app = staticmethod(ws_app)
    upgrade_request = staticmethod(upgrade_request)
    raw_connect = staticmethod(raw_connect)
    read_frame = staticmethod(read_frame)

    @staticmethod
    def run(coro: Coroutine[Any, Any, Any], timeout: float = 20.0, use_uvloop: bool = False) -> Any:
        """Run one test coroutine on a fresh loop (asyncio's or uvloop's), bounded in time."""
        factory = None
        if use_uvloop:
            factory = pytest.importorskip("uvloop").new_event_loop
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(asyncio.wait_for(coro, timeout))


@pytest.fixture
def ws() -> WSTools:
    """Helpers: ``ws.run(coro)``, ``ws.app(handlers, **settings)``, raw frame I/O."""
    return WSTools()


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    """The cyclic garbage collector off for the test: what is freed, refcounting freed."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
