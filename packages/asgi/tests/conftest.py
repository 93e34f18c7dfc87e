"""Fixtures of squall.asgi's tests: an ASGIServer (or any HTTPServer) on a loop in a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from squall.http import HTTPServer


@contextmanager
def serving(make_server: Callable[[], HTTPServer], startup: bool = True) -> Iterator[str]:
    """Serve on 127.0.0.1 (a free port) from a loop in a thread; yield the base URL.

    ``make_server`` runs in the loop's thread. When the server has ``startup()`` (an
    ASGIServer) and ``startup`` is true it is awaited before the URL is given.
    """
    loop = asyncio.new_event_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    box: dict[str, Any] = {}
    ready = threading.Event()

    async def start() -> None:
        server = make_server()
        server.add_sockets([sock])
        box["server"] = server
        if startup and hasattr(server, "startup"):
            await server.startup()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:
            box["error"] = exc
            ready.set()
            return
        loop.call_soon(ready.set)
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    if "error" in box:
        thread.join(5)
        loop.close()
        sock.close()
        raise box["error"]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        future = asyncio.run_coroutine_threadsafe(box["server"].shutdown(2.0), loop)
        future.result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture
def serve() -> Callable[..., Any]:
    """``serving`` as a fixture (test modules cannot import conftest under importlib mode)."""
    return serving
