"""pytest fixtures of the pytest-tornado and pytest-tornasync plugins, for squall apps.

Suites written for those plugins define an ``app`` fixture and ask for ``http_client``,
``base_url``, ``io_loop``...; their tests are ``async def`` functions, or generators marked
``@pytest.mark.gen_test``. With the imports renamed, they run on squall once this plugin is
loaded, in the suite's root ``conftest.py``::

    pytest_plugins = ["squall.testing.pytest_plugin"]

(or ``pytest -p squall.testing.pytest_plugin``), in place of installing pytest-tornado or
pytest-tornasync (which import Tornado). It is not loaded by itself: its fixture names are
common ones, and it runs every ``async def`` test on an IOLoop, which would take those tests
from pytest-asyncio or anyio in a project that uses them.

Fixtures: ``io_loop`` (a new ``squall.loop.IOLoop`` per test, current during it);
``http_server`` (an ``HTTPServer`` for the ``app`` fixture on 127.0.0.1), ``http_port``,
``base_url``, ``http_client`` (the loop's ``AsyncHTTPClient``); over TLS ``https_server``,
``https_port``, ``https_client`` for a ``ssl_options`` fixture of the suite (``base_url``
is then ``https://``); pytest-tornasync's ``http_server_port`` (``(socket, port)``) and
``http_server_client`` (whose ``fetch("/path")`` asks the test server).

Markers: ``gen_test(timeout=None, run_sync=True)``; pytest-tornasync's
``timeout(seconds=...)`` also sets the time limit. Options: ``--async-test-timeout``
(default ``ASYNC_TEST_TIMEOUT`` or 5 seconds), ``--app-fixture`` (``app``),
``--ssl-options-fixture`` (``ssl_options``).
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import Awaitable, Iterator
from typing import Any

import pytest

from squall.http import HTTPServer
from squall.httpclient import AsyncHTTPClient, HTTPResponse
from squall.loop import IOLoop, bind_unused_port, gen
from squall.testing._timeout import get_async_test_timeout

__all__ = ["ServerClient"]

_HTTPS_FIXTURES = ("https_port", "https_client", "https_server")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The time limit and the names of the application and TLS fixtures."""
    group = parser.getgroup("squall", "squall.testing's pytest-tornado fixtures")
    group.addoption(
        "--async-test-timeout",
        type=float,
        default=None,
        help="seconds an async test may take (default: ASYNC_TEST_TIMEOUT, else 5)",
    )
    group.addoption("--app-fixture", default="app", help="fixture returning the application")
    group.addoption(
        "--ssl-options-fixture",
        default="ssl_options",
        help="fixture returning the https_server's ssl_options",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``gen_test`` marker (``--strict-markers`` suites use it)."""
    config.addinivalue_line(
        "markers",
        "gen_test(timeout=None, run_sync=True): run this coroutine or generator test on "
        "the test's squall IOLoop",
    )


def _time_limit(item: pytest.Function) -> float:
    limit: float | None = item.config.getoption("async_test_timeout")
    if limit is None:
        limit = get_async_test_timeout()
    marker = item.get_closest_marker("timeout")
    if marker is not None and "seconds" in marker.kwargs:
        limit = float(marker.kwargs["seconds"])
    marker = item.get_closest_marker("gen_test")
    if marker is not None and marker.kwargs.get("timeout") is not None:
        limit = float(marker.kwargs["timeout"])
    return limit


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> list[Any] | None:
    """Collect generator tests marked ``gen_test`` (pytest refuses plain generator tests)."""
    if not (inspect.isgeneratorfunction(obj) and collector.istestfunction(obj, name)):
        return None
    # The marker may come from the function, its class or the module's pytestmark.
    probe = pytest.Function.from_parent(collector, name=name)
    if probe.get_closest_marker("gen_test") is None:
        return None
    return list(collector._genfunctions(name, obj))


def _is_async_test(item: pytest.Item) -> bool:
    if not isinstance(item, pytest.Function):
        return False
    return item.get_closest_marker("gen_test") is not None or inspect.iscoroutinefunction(item.obj)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Give every async test an ``io_loop``, asked for or not."""
    if _is_async_test(item) and "io_loop" not in item.fixturenames:  # type: ignore[attr-defined]
        item.fixturenames.append("io_loop")  # type: ignore[attr-defined]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run an ``async def`` or ``gen_test`` test to its end on the ``io_loop`` fixture."""
    if not _is_async_test(pyfuncitem):
        return None
    io_loop = pyfuncitem.funcargs["io_loop"]
    if not isinstance(io_loop, IOLoop):
        raise TypeError(
            f"the io_loop fixture must return a squall.loop.IOLoop, not {type(io_loop).__name__}"
        )
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    func = pyfuncitem.obj
    runner = func if inspect.iscoroutinefunction(func) else gen.coroutine(func)
    io_loop.run_sync(lambda: runner(**args), timeout=_time_limit(pyfuncitem))
    return True


@pytest.fixture
def io_loop() -> Iterator[IOLoop]:
    """A new IOLoop for the test, current while it runs; closed (fds too) after it."""
    loop = IOLoop(make_current=False)
    loop.make_current()
    yield loop
    # What the test left running is cancelled and let unwind before the loop closes.
    tasks = [t for t in asyncio.all_tasks(loop.asyncio_loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_sync(lambda: asyncio.wait(tasks))
    asyncio.set_event_loop(None)
    loop.close(all_fds=True)


def _serve(
    request: pytest.FixtureRequest, io_loop: IOLoop, sock: socket.socket, **options: Any
) -> Iterator[HTTPServer]:
    app = request.getfixturevalue(request.config.getoption("app_fixture"))
    server = HTTPServer(app, **options)
    server.add_sockets([sock])
    limit = request.config.getoption("async_test_timeout") or get_async_test_timeout()
    # squall.web's startup / shutdown coroutines (its plugins' hooks), as in AsyncHTTPTestCase.
    startup = getattr(app, "startup", None)
    if startup is not None and inspect.iscoroutinefunction(startup):
        io_loop.run_sync(startup, timeout=limit)
    yield server
    server.stop()
    io_loop.run_sync(server.close_all_connections, timeout=limit)
    shutdown = getattr(app, "shutdown", None)
    if shutdown is not None and inspect.iscoroutinefunction(shutdown):
        io_loop.run_sync(shutdown, timeout=limit)


@pytest.fixture
def _unused_port() -> Iterator[tuple[socket.socket, int]]:
    sock, port = bind_unused_port()
    yield sock, port
    sock.close()


@pytest.fixture
def http_port(_unused_port: tuple[socket.socket, int]) -> int:
    """The port of ``http_server``."""
    return _unused_port[1]


@pytest.fixture
def https_port(_unused_port: tuple[socket.socket, int]) -> int:
    """The port of ``https_server``."""
    return _unused_port[1]


@pytest.fixture
def base_url(request: pytest.FixtureRequest) -> str:
    """``http://localhost:PORT`` of the test server (``https://`` for the TLS fixtures)."""
    if any(name in request.fixturenames for name in _HTTPS_FIXTURES):
        return f"https://localhost:{request.getfixturevalue('https_port')}"
    return f"http://localhost:{request.getfixturevalue('http_port')}"


@pytest.fixture
def http_server(
    request: pytest.FixtureRequest, io_loop: IOLoop, _unused_port: tuple[socket.socket, int]
) -> Iterator[HTTPServer]:
    """An ``HTTPServer`` for the ``app`` fixture (``--app-fixture``) on ``http_port``."""
    yield from _serve(request, io_loop, _unused_port[0])


@pytest.fixture
def https_server(
    request: pytest.FixtureRequest, io_loop: IOLoop, _unused_port: tuple[socket.socket, int]
) -> Iterator[HTTPServer]:
    """``http_server`` over TLS, with the suite's ``ssl_options`` fixture."""
    ssl_options = request.getfixturevalue(request.config.getoption("ssl_options_fixture"))
    yield from _serve(request, io_loop, _unused_port[0], ssl_options=ssl_options)


@pytest.fixture
def http_client(http_server: HTTPServer) -> Iterator[AsyncHTTPClient]:
    """The IOLoop's ``AsyncHTTPClient`` (the server is started); closed after the test."""
    client = AsyncHTTPClient()
    yield client
    client.close()


@pytest.fixture
def https_client(https_server: HTTPServer) -> Iterator[AsyncHTTPClient]:
    """A client of its own that accepts the test server's certificate, closed after."""
    client = AsyncHTTPClient(force_instance=True, defaults={"validate_cert": False})
    yield client
    client.close()


@pytest.fixture
def http_server_port(_unused_port: tuple[socket.socket, int]) -> tuple[socket.socket, int]:
    """pytest-tornasync's ``(socket, port)`` of ``http_server``."""
    return _unused_port


class ServerClient:
    """pytest-tornasync's ``http_server_client``: fetches paths from the test server.

    Args:
        port: the server's port.
        protocol: ``http`` or ``https``.
    """

    def __init__(self, port: int, protocol: str = "http") -> None:
        self._port = port
        self._protocol = protocol
        self._client = AsyncHTTPClient(force_instance=True)

    def get_protocol(self) -> str:
        """``http``."""
        return self._protocol

    def get_http_port(self) -> int:
        """The test server's port."""
        return self._port

    def get_url(self, path: str) -> str:
        """The absolute URL of ``path`` on the test server."""
        return f"{self._protocol}://127.0.0.1:{self._port}{path}"

    def fetch(self, path: str, **kwargs: Any) -> Awaitable[HTTPResponse]:
        """Fetch ``path`` from the test server (``AsyncHTTPClient.fetch`` arguments)."""
        return self._client.fetch(self.get_url(path), **kwargs)

    def close(self) -> None:
        """Close the underlying client."""
        self._client.close()


@pytest.fixture
def http_server_client(
    http_server: HTTPServer, http_server_port: tuple[socket.socket, int]
) -> Iterator[ServerClient]:
    """A client whose ``fetch("/path")`` asks ``http_server``; closed after the test."""
    client = ServerClient(http_server_port[1])
    yield client
    client.close()
