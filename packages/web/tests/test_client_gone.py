"""A client that leaves mid-response is not an error: no ERROR record, on_finish runs.

The handler has sent its headers (flush) when the client resets; then it writes on,
finishes, or fails with an HTTPError. None of these may log an error about the response
(no "Cannot send error response after headers written", no traceback of a state error):
there is no one left to answer.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
from collections.abc import Callable

import pytest

from squall.web import Application, HTTPError, RequestHandler
from squall.web.testing import LiveServer


class _State:
    def __init__(self) -> None:
        self.flushed = threading.Event()
        self.finished = threading.Event()
        self.flush_raised: list[str] = []


class LateHandler(RequestHandler):
    """Flushes its headers, waits for the client to leave, then does ``self.action``."""

    def initialize(self, state: _State, action: str) -> None:
        self.state = state
        self.action = action
        self.gone = asyncio.Event()

    async def get(self) -> None:
        self.write("first part\n")
        await self.flush()
        self.state.flushed.set()
        await asyncio.wait_for(self.gone.wait(), 5)
        await asyncio.sleep(0.01)
        if self.action == "write":
            self.write("second part\n")
            try:
                await self.flush()
            except Exception as exc:
                self.state.flush_raised.append(type(exc).__name__)
                raise
        elif self.action == "error":
            raise HTTPError(503)
        # "finish": auto-finish after get() returns

    def on_connection_close(self) -> None:
        self.gone.set()

    def on_finish(self) -> None:
        self.state.finished.set()


@pytest.mark.parametrize("action", ["finish", "write", "error"])
def test_a_client_resetting_mid_response_logs_no_error(
    squall_live_server: Callable[..., LiveServer],
    caplog: pytest.LogCaptureFixture,
    action: str,
) -> None:
    state = _State()
    app = Application([(r"/late", LateHandler, {"state": state, "action": action})])
    server = squall_live_server(app)
    with caplog.at_level(logging.DEBUG):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET /late HTTP/1.1\r\nHost: t\r\n\r\n")
        assert state.flushed.wait(5)
        sock.recv(65536)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        assert state.finished.wait(5)  # the response ended (on_finish ran)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    if action == "write":
        assert state.flush_raised == ["StreamClosedError"]
