"""``AsyncHTTPTestCase`` and ``AsyncHTTPSTestCase``: an app served on 127.0.0.1 per test."""

from __future__ import annotations

import inspect
import os
from typing import Any

from squall.http import HTTPServer
from squall.httpclient import AsyncHTTPClient, HTTPResponse
from squall.loop import bind_unused_port
from squall.testing._case import AsyncTestCase
from squall.testing._timeout import get_async_test_timeout

__all__ = ["AsyncHTTPSTestCase", "AsyncHTTPTestCase"]

_CERTS = os.path.join(os.path.dirname(__file__), "certs")


class AsyncHTTPTestCase(AsyncTestCase):
    """A test case that serves ``get_app()`` on a fresh port for each test::

        class TestHello(AsyncHTTPTestCase):
            def get_app(self):
                return hello.make_app()

            def test_homepage(self):
                response = self.fetch("/")
                self.assertEqual(response.code, 200)

    ``self.http_server`` (a ``squall.http.HTTPServer``) serves the app on 127.0.0.1;
    ``self.http_client`` is the IOLoop's ``AsyncHTTPClient``. An app with ``startup()``
    and ``shutdown()`` (``squall.web.Application``: its plugins' hooks) gets them run
    around each test.
    """

    def setUp(self) -> None:
        """Bind a free port, make the client, the app and the server."""
        super().setUp()
        sock, port = bind_unused_port()
        self.__port = port
        self.http_client = self.get_http_client()
        self._app = self.get_app()
        self.http_server = self.get_http_server()
        self.http_server.add_sockets([sock])
        self.__run_app_hook("startup")

    def __run_app_hook(self, name: str) -> None:
        hook = getattr(self._app, name, None)
        if hook is not None and inspect.iscoroutinefunction(hook):
            self.io_loop.run_sync(hook, timeout=get_async_test_timeout())

    def get_http_client(self) -> AsyncHTTPClient:
        """The client of the tests (default: the IOLoop's shared ``AsyncHTTPClient``)."""
        return AsyncHTTPClient()

    def get_http_server(self) -> HTTPServer:
        """The server of the app, with :meth:`get_httpserver_options`."""
        return HTTPServer(self._app, **self.get_httpserver_options())

    def get_app(self) -> Any:
        """Override: the ``squall.web.Application`` (or ``HTTPServer`` callback) to test."""
        raise NotImplementedError()

    def get_httpserver_options(self) -> dict[str, Any]:
        """Override: keyword arguments for ``HTTPServer`` (``xheaders``, limits...)."""
        return {}

    def fetch(self, path: str, raise_error: bool = False, **kwargs: Any) -> HTTPResponse:
        """Fetch ``path`` from the test server and wait for the answer.

        Args:
            path: a path (``/page?x=1``) on the test server, or a full ``http(s)://`` URL.
            raise_error: False (default, unlike ``AsyncHTTPClient.fetch``): a non-2xx
                answer is returned; a fetch without an answer still raises.
            **kwargs: ``HTTPRequest`` fields (``method="POST"``, ``body=...``).
        """
        url = path if path.lower().startswith(("http://", "https://")) else self.get_url(path)
        response: HTTPResponse = self.io_loop.run_sync(
            lambda: self.http_client.fetch(url, raise_error=raise_error, **kwargs),
            timeout=get_async_test_timeout(),
        )
        return response

    def get_http_port(self) -> int:
        """The port of this test's server (a new one for each test)."""
        return self.__port

    def get_protocol(self) -> str:
        """``http`` (``https`` in ``AsyncHTTPSTestCase``)."""
        return "http"

    def get_url(self, path: str) -> str:
        """The absolute URL of ``path`` on the test server."""
        return f"{self.get_protocol()}://127.0.0.1:{self.get_http_port()}{path}"

    def tearDown(self) -> None:
        """Stop the server, close its connections and the client, then the loop."""
        self.http_server.stop()
        self.io_loop.run_sync(
            self.http_server.close_all_connections, timeout=get_async_test_timeout()
        )
        self.http_client.close()
        self.__run_app_hook("shutdown")
        del self.http_server
        del self._app
        super().tearDown()


class AsyncHTTPSTestCase(AsyncHTTPTestCase):
    """``AsyncHTTPTestCase`` over TLS, with a self-signed certificate for 127.0.0.1.

    The client (its own, not the shared one) does not check certificates.
    """

    def get_http_client(self) -> AsyncHTTPClient:
        """A client of its own that accepts the test certificate."""
        return AsyncHTTPClient(force_instance=True, defaults={"validate_cert": False})

    def get_httpserver_options(self) -> dict[str, Any]:
        """``ssl_options`` from :meth:`get_ssl_options`."""
        return {"ssl_options": self.get_ssl_options()}

    def get_ssl_options(self) -> dict[str, Any]:
        """Override to choose the server's TLS settings (default: the shipped certificate)."""
        return AsyncHTTPSTestCase.default_ssl_options()

    @staticmethod
    def default_ssl_options() -> dict[str, Any]:
        """Tornado's dict for the certificate shipped with squall-testing.

        ``certs/localhost.crt`` / ``.key``: self-signed for ``127.0.0.1`` and ``localhost``,
        valid for 100 years, for tests only (its private key is public).
        """
        return {
            "certfile": os.path.join(_CERTS, "localhost.crt"),
            "keyfile": os.path.join(_CERTS, "localhost.key"),
        }

    def get_protocol(self) -> str:
        """``https``."""
        return "https"
