"""Testing helpers for squall.web apps, and the pytest plugin that offers them as fixtures.

Registered as a pytest plugin (entry point ``pytest11``), so with squall-web installed a test
module only defines an ``app`` fixture and asks for a client::

    import pytest
    import squall.web

    class Hello(squall.web.RequestHandler):
        def get(self):
            self.write("hello word")

    @pytest.fixture
    def app():
        return squall.web.Application([(r"/", Hello)])

    def test_hello(squall_client):
        assert squall_client.get("/").text == "hello word"

Fixtures:

- ``squall_server``: a :class:`LiveServer` serving the ``app`` fixture on ``127.0.0.1`` (a
  free port), in a background thread with its own event loop, stopped after the test.
- ``squall_url``: its base URL (``http://127.0.0.1:PORT``).
- ``squall_client``: an ``httpx.Client`` bound to that URL, closed after the test.
- ``squall_live_server``: a factory ``(app, **server_options) -> LiveServer`` for tests that
  need several servers or server options (``xheaders=True``, ``max_body_size=...``).

For async tests that want the server on their own event loop, ``async with serve(app) as
url:`` runs it there (startup and shutdown hooks included).

Why a thread: the test keeps an ordinary synchronous client (httpx, raw sockets) and the
server really runs on a real socket, as it does in production; the plugins' startup and
shutdown hooks run there too. httpx is imported only when ``squall_client`` is used, so
installing squall-web never makes httpx a requirement of someone else's test run.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from squall.http import HTTPServer

if TYPE_CHECKING:
    import httpx

__all__ = ["LiveServer", "serve", "wait_until"]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class LiveServer:
    """An ``HTTPServer`` for ``app`` on 127.0.0.1, run in a thread with its own event loop.

    Args:
        app: an ``Application`` or any request callback ``HTTPServer`` accepts.
        **server_options: passed to ``HTTPServer`` (``xheaders``, ``max_body_size``, ...).
    """

    def __init__(self, app: Any, **server_options: Any) -> None:
        self.app = app
        self.server_options = server_options
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        """Start serving; returns once the socket accepts connections.

        Raises:
            RuntimeError: the server did not start (the cause is chained).
        """
        self._thread = threading.Thread(target=self._run, name="squall-live-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError("the live server did not start in time")
        if self._error is not None:
            self._thread.join(_STOP_TIMEOUT)
            raise RuntimeError(f"the live server failed to start: {self._error!r}") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._setup())
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self._teardown())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    async def _setup(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            sock.setblocking(False)
            self.port = sock.getsockname()[1]
            server = HTTPServer(self.app, **self.server_options)
        except BaseException:
            sock.close()
            raise
        self.server = server
        server.add_sockets([sock])
        startup = getattr(self.app, "startup", None)
        if startup is not None:
            await startup()

    async def _teardown(self) -> None:
        assert self.server is not None
        try:
            await self.server.shutdown(5.0)
        finally:
            # Every connection is closed now: handler tasks still running are orphans.
            current = asyncio.current_task()
            pending = [t for t in asyncio.all_tasks() if t is not current]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            shutdown = getattr(self.app, "shutdown", None)
            if shutdown is not None:
                await shutdown()

    def call(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` in the server's loop thread and return its result (awaited if needed)."""
        assert self.loop is not None

        async def runner() -> Any:
            result = func()
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(runner(), self.loop).result(_STOP_TIMEOUT)

    def stop(self) -> None:
        """Stop serving, run the shutdown hooks and close every socket (idempotent)."""
        thread, loop = self._thread, self.loop
        if thread is None or loop is None:
            return
        self._thread = None
        if not loop.is_closed():
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass  # the loop closed between the check and the call
        thread.join(_STOP_TIMEOUT)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.asynccontextmanager
async def serve(app: Any, **server_options: Any) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) on the running loop; yields the base URL.

    On exit the server shuts down gracefully and the application's shutdown hooks run.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        server = HTTPServer(app, **server_options)
    except BaseException:
        sock.close()
        raise
    server.add_sockets([sock])
    try:
        startup = getattr(app, "startup", None)
        if startup is not None:
            await startup()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await server.shutdown(5.0)
        shutdown = getattr(app, "shutdown", None)
        if shutdown is not None:
            await shutdown()


def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` is true (polling), or fail after ``timeout`` seconds.

    The server runs in another thread: what a handler does *after* the response went out
    (``on_finish``, the access log) may not have happened yet when the client has its answer.

    Raises:
        AssertionError: the predicate stayed false.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate!r}")
        time.sleep(0.002)


@pytest.fixture
def squall_live_server() -> Iterator[Callable[..., LiveServer]]:
    """A factory ``(app, **server_options) -> LiveServer``; every server is stopped after."""
    servers: list[LiveServer] = []

    def start(app: Any, **server_options: Any) -> LiveServer:
        server = LiveServer(app, **server_options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def squall_server(app: Any, squall_live_server: Callable[..., LiveServer]) -> LiveServer:
    """A live server for the ``app`` fixture (which the test module defines)."""
    return squall_live_server(app)


@pytest.fixture
def squall_url(squall_server: LiveServer) -> str:
    """The base URL of ``squall_server``."""
    return squall_server.url


@pytest.fixture
def squall_client(squall_server: LiveServer) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` bound to ``squall_server`` (closed after the test)."""
    # Imported here on purpose: httpx is needed only by tests that use this fixture, and
    # this module is loaded by every pytest run where squall-web is installed.
    import httpx

    with httpx.Client(base_url=squall_server.url, timeout=10.0) as client:
        yield client
