"""RedirectHandler, addslash, removeslash and ErrorHandler, over HTTP, beside real Tornado.

The same application is written twice, once with squall.web and once with tornado.web (a
test dependency), and every request of the table goes to both: status and Location must be
the same, and they must be the expected ones.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import squall.web
from squall.web import (
    Application,
    ErrorHandler,
    RedirectHandler,
    RequestHandler,
    addslash,
    removeslash,
)

tornado_web = pytest.importorskip("tornado.web")
tornado_httpserver = pytest.importorskip("tornado.httpserver")
tornado_netutil = pytest.importorskip("tornado.netutil")


def _rules(web: Any) -> list[Any]:
    """The test application's rules, for ``web`` = squall.web or tornado.web."""

    class Slashless(web.RequestHandler):  # type: ignore[misc, name-defined]
        @web.removeslash  # type: ignore[misc]
        def get(self) -> None:
            self.write("slashless " + self.request.path)

        @web.removeslash  # type: ignore[misc]
        def post(self) -> None:
            self.write("posted")

        head = get

    class Slashed(web.RequestHandler):  # type: ignore[misc, name-defined]
        @web.addslash  # type: ignore[misc]
        def get(self) -> None:
            self.write("slashed " + self.request.path)

        @web.addslash  # type: ignore[misc]
        def post(self) -> None:
            self.write("posted")

        head = get

    return [
        (r"/old", web.RedirectHandler, {"url": "/new"}),
        (r"/temp", web.RedirectHandler, {"url": "/new", "permanent": False}),
        (r"/query", web.RedirectHandler, {"url": "/new?a=b"}),
        (r"/swap/(.*?)/(.*?)/(.*)", web.RedirectHandler, {"url": "/{1}/{0}/{2}"}),
        (r"/user/(?P<name>\w+)", web.RedirectHandler, {"url": "/u/{name}"}),
        (r"/go/(.*)", web.RedirectHandler, {"url": "/{0}"}),
        (r"/to/(.*)", web.RedirectHandler, {"url": "https://{0}"}),
        (r"/ex/(.*)", web.RedirectHandler, {"url": "https://example.com/{0}"}),
        (r"/gone/.*", web.ErrorHandler, {"status_code": 410}),
        (r"/rs/*", Slashless),
        (r"/as/?", Slashed),
        (r"/x/(.*)", Slashed),
        (r"/", Slashless),
        (r"/.*/", Slashless),
        (r"//[^/]*", Slashed),
    ]


def _squall_app(**settings: Any) -> Application:
    return Application(_rules(squall.web), **settings)


def _tornado_app(**settings: Any) -> Any:
    return tornado_web.Application(_rules(tornado_web), **settings)


class _TornadoServer:
    """A Tornado app on 127.0.0.1 in a thread with its own asyncio loop."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(app,), daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self, app: Any) -> None:
        asyncio.set_event_loop(self.loop)
        sockets = tornado_netutil.bind_sockets(0, "127.0.0.1")
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"

        async def start() -> None:
            self.server = tornado_httpserver.HTTPServer(app)
            self.server.add_sockets(sockets)

        self.loop.run_until_complete(start())
        self.ready.set()
        self.loop.run_forever()
        self.server.stop()
        self.loop.run_until_complete(self.server.close_all_connections())
        self.loop.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def servers(squall_live_server: Callable[..., Any]) -> Iterator[dict[str, str]]:
    squall_server = squall_live_server(_squall_app(xsrf_cookies=True))
    tornado_server = _TornadoServer(_tornado_app(xsrf_cookies=True))
    try:
        yield {"squall": squall_server.url, "tornado": tornado_server.url}
    finally:
        tornado_server.stop()


# (method, path, expected status, expected Location or None)
CASES = [
    ("GET", "/old", 301, "/new"),
    ("GET", "/temp", 302, "/new"),
    ("GET", "/old?x=1&y=2&y=3", 301, "/new?x=1&y=2&y=3"),
    ("GET", "/old?q=a+b&flag", 301, "/new?q=a+b&flag="),
    ("GET", "/old?q=%26%3D%2B", 301, "/new?q=%26%3D%2B"),
    ("GET", "/query?x=1", 301, "/new?a=b&x=1"),
    ("GET", "/swap/a/b/c/d", 301, "/b/a/c/d"),
    ("GET", "/user/ann", 301, "/u/ann"),
    ("GET", "/go/fine/path", 301, "/fine/path"),
    ("GET", "/ex/page", 301, "https://example.com/page"),
    ("POST", "/old", 403, None),  # the XSRF check comes before the method lookup
    # Open redirects: a group must not choose the scheme or the host.
    ("GET", "/go//evil.com", 400, None),
    ("GET", "/go/%2F%2Fevil.com", 400, None),
    ("GET", "/go/%5Cevil.com", 400, None),
    ("GET", "/go/%09/evil.com", 400, None),
    ("GET", "/to/evil.com", 400, None),
    ("GET", "/go//[bad", 400, None),  # a host no URL parser accepts
    ("GET", "/ex/%0d%0aSet-Cookie:%20x=1", 400, None),
    # ErrorHandler: its status for every method, never the XSRF 403.
    ("GET", "/gone/x", 410, None),
    ("POST", "/gone/x", 410, None),
    ("DELETE", "/gone/x", 410, None),
    ("POST", "/nowhere", 404, None),
    # removeslash
    ("GET", "/rs/", 301, "/rs"),
    ("GET", "/rs///?a=1&b", 301, "/rs?a=1&b"),
    ("HEAD", "/rs/", 301, "/rs"),
    ("GET", "/rs", 200, None),
    ("GET", "/", 200, None),
    ("GET", "//evil.com/", 403, None),
    # addslash
    ("GET", "/as", 301, "/as/"),
    ("GET", "/as?a=1&a=2", 301, "/as/?a=1&a=2"),
    ("HEAD", "/as", 301, "/as/"),
    ("GET", "/as/", 200, None),
    ("GET", "/x/%2Fevil.com", 301, "/x/%2Fevil.com/"),
    ("GET", "//evil.com", 403, None),
]


@pytest.mark.parametrize(("method", "path", "status", "location"), CASES)
def test_redirects_answer_as_tornado_does(
    servers: dict[str, str], method: str, path: str, status: int, location: str | None
) -> None:
    seen = {}
    for name, base in servers.items():
        response = httpx.request(method, base + path, follow_redirects=False, timeout=10)
        seen[name] = (response.status_code, response.headers.get("Location"))
    assert seen["squall"] == seen["tornado"] == (status, location)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/rs/", 404),  # a wrong slash on another method: 404 (no body redirect)
        ("POST", "/as", 404),
        ("POST", "/rs", 200),  # the right form: the method runs
        ("POST", "/as/", 200),
        ("PUT", "/rs/", 405),  # no put(): 405 as always
        ("POST", "/old", 405),  # RedirectHandler redirects GET only
    ],
)
def test_other_methods_without_xsrf(
    squall_live_server: Callable[..., Any], method: str, path: str, status: int
) -> None:
    server = squall_live_server(_squall_app())
    response = httpx.request(method, server.url + path, follow_redirects=False, timeout=10)
    assert response.status_code == status
    assert "Location" not in response.headers


def test_head_is_redirected_like_get(squall_live_server: Callable[..., Any]) -> None:
    # Deliberately past Tornado (405 there): squall answers HEAD with get() when a handler
    # defines no head(), RedirectHandler included.
    server = squall_live_server(_squall_app())
    response = httpx.head(server.url + "/old?x=1", timeout=10)
    assert (response.status_code, response.headers["Location"]) == (301, "/new?x=1")


def test_a_refused_redirect_says_why(squall_live_server: Callable[..., Any]) -> None:
    server = squall_live_server(_squall_app())
    response = httpx.get(server.url + "/go//evil.com", timeout=10)
    assert response.status_code == 400
    assert response.reason_phrase == "Redirect URL cannot change the scheme or host"
    response = httpx.get(server.url + "/ex/%0d%0aSet-Cookie:%20x=1", timeout=10)
    assert response.reason_phrase == "Redirect URL contains control characters"
    assert "set-cookie" not in response.headers


def test_cross_origin_protection_does_not_turn_error_pages_into_403(
    squall_live_server: Callable[..., Any],
) -> None:
    server = squall_live_server(_squall_app(cross_origin_protection=True))
    headers = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert httpx.post(server.url + "/gone/x", headers=headers, timeout=10).status_code == 410
    assert httpx.post(server.url + "/nowhere", headers=headers, timeout=10).status_code == 404


def test_error_handler_is_the_default_404_handler() -> None:
    app = Application([])

    class Request:
        path = "/missing"
        host_name = "localhost"
        headers: dict[str, str] = {}

    handler_class, kwargs, _args, _kw = app.find_handler(Request())  # type: ignore[arg-type]
    assert handler_class is ErrorHandler and kwargs == {"status_code": 404}


def test_redirect_handler_decorators_keep_names_and_docs() -> None:
    class H(RequestHandler):
        @addslash
        def get(self) -> None:
            """Doc of get."""

        @removeslash
        def put(self) -> None:
            """Doc of put."""

    assert H.get.__name__ == "get" and H.get.__doc__ == "Doc of get."
    assert H.put.__name__ == "put" and H.put.__doc__ == "Doc of put."
    assert issubclass(RedirectHandler, RequestHandler)
