"""RequestHandler.on_connection_close when the client leaves (FIN) while it is answered."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable

from squall.web import Application, RequestHandler
from squall.web.testing import LiveServer

REQUEST = b"GET /wait HTTP/1.1\r\nHost: t\r\n\r\n"


class _State:
    def __init__(self) -> None:
        self.started = threading.Event()
        self.closed = threading.Event()
        self.calls = 0


class WaitHandler(RequestHandler):
    """Waits (bounded) until the client has gone, then answers anyway."""

    def initialize(self, state: _State) -> None:
        self.state = state
        self.gone = asyncio.Event()

    async def get(self) -> None:
        self.state.started.set()
        await asyncio.wait_for(self.gone.wait(), 5)
        self.write("answered after the client closed its side")

    def on_connection_close(self) -> None:
        self.state.calls += 1
        self.state.closed.set()
        self.gone.set()


def _app(state: _State) -> Application:
    return Application([(r"/wait", WaitHandler, {"state": state})])


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def test_client_closing_mid_request_fires_on_connection_close(
    squall_live_server: Callable[..., LiveServer],
) -> None:
    state = _State()
    server = squall_live_server(_app(state))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(REQUEST)
        assert state.started.wait(5)  # the handler is awaiting
    # a plain close() with nothing unread: the server sees FIN
    assert state.closed.wait(5)
    server.call(lambda: None)  # the server loop ran on: no second call
    assert state.calls == 1


def test_client_that_only_shut_down_writing_still_gets_the_answer(
    squall_live_server: Callable[..., LiveServer],
) -> None:
    state = _State()
    server = squall_live_server(_app(state))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(REQUEST)
        assert state.started.wait(5)
        sock.shutdown(socket.SHUT_WR)  # like ``nc -N``
        raw = _read_all(sock)  # the server closes after the answer
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body == b"answered after the client closed its side"
    assert state.calls == 1
