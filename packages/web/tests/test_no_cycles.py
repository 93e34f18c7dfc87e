"""A handler whose code raised is freed by reference counting, not left to the cyclic GC.

The exception a handler raised was kept on the handler (for the complete-request hooks)
while the exception's traceback held the handler's frames: a cycle, so every failed request
(a 404, an HTTPError, a crash) waited for the cycle collector with its request and its
connection. Now the exception is kept only when a complete hook will read it, and dropped
once it has.
"""

from __future__ import annotations

import gc
import socket
import time
import weakref
from collections.abc import Iterator
from types import TracebackType

import pytest

from squall.web import Application, HTTPError, RequestHandler, RequestHooks, hookimpl
from squall.web.testing import LiveServer

WAIT = 10.0  # bound on the wait for the server thread to let go of a handler (seconds)

_handlers: list[weakref.ref[RequestHandler]] = []


class _Raising(RequestHandler):
    def get(self, kind: str) -> None:
        _handlers.append(weakref.ref(self))
        if kind == "http":
            raise HTTPError(418)
        raise RuntimeError("boom")

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Not logged: a record kept by pytest's log capture would hold the exception (and
        # so the handler) alive for reasons that are not the server's.
        pass


class _Complete:
    """A plugin whose complete hook reads the exception (the case it is kept for)."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    def complete(self, handler: RequestHandler, exception: BaseException | None) -> None:
        self.seen.append(type(exception).__name__ if exception else None)

    @hookimpl
    def squall_web_request_hooks(self, app: Application) -> RequestHooks:
        return RequestHooks(complete=self.complete)


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while piece := sock.recv(65536):
            data += piece
    return data


def _all_freed() -> bool:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if all(ref() is None for ref in _handlers):
            return True
        time.sleep(0.01)
    return False


@pytest.mark.usefixtures("no_cycle_collector")
@pytest.mark.parametrize("with_complete_hook", [False, True], ids=["no-hook", "complete-hook"])
def test_a_handler_that_raised_is_freed_without_the_cycle_collector(
    with_complete_hook: bool,
) -> None:
    _handlers.clear()
    plugin = _Complete()
    app = Application([(r"/raise/(\w+)", _Raising)], plugins=[plugin] if with_complete_hook else [])
    with LiveServer(app) as live:
        for _ in range(5):
            assert _get(live.port, "/raise/http").startswith(b"HTTP/1.1 418 ")
            assert _get(live.port, "/raise/crash").startswith(b"HTTP/1.1 500 ")
            assert _get(live.port, "/missing").startswith(b"HTTP/1.1 404 ")
        assert len(_handlers) == 10
        assert _all_freed()
    if with_complete_hook:
        assert plugin.seen == ["HTTPError", "RuntimeError", "HTTPError"] * 5
