"""WSGIContainer: a WSGI application (Flask, Django...) served by squall.http.

Tornado's ``tornado.wsgi.WSGIContainer`` under the same name and contract: an
``HTTPServer`` request callback (``HTTPServer(WSGIContainer(flask_app))``) that builds a
PEP 3333 environ from the complete request, runs the application on an executor, collects
the whole response (``start_response``'s ``write`` included) and answers it in one
``respond``. The executor is a thread pool by default (Tornado 6.3 ran the application on
the loop's thread unless given one, and announced the pool for 7.0): the loop keeps
serving while a WSGI call blocks. Each request writes one access line (``squall.access``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from squall.http import HTTPServerRequest, StreamClosedError, split_host_and_port

__all__ = ["WSGIContainer"]

access_log: Final = logging.getLogger("squall.access")
app_log: Final = logging.getLogger("squall.application")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_DEFAULT_WORKERS: Final = 16


class WSGIError(RuntimeError):
    """The WSGI application broke the protocol (no ``start_response``, a str body...)."""


class WSGIContainer:
    """Serve a WSGI application on squall.http (see the module docstring).

    Args:
        wsgi_application: the PEP 3333 callable.
        executor: where the application runs; a ``ThreadPoolExecutor`` of
            ``_DEFAULT_WORKERS`` threads by default (``ProcessPoolExecutor`` is refused:
            the environ holds file objects).

    Raises:
        TypeError: ``executor`` is a process pool, or the application is not callable.
    """

    def __init__(
        self,
        wsgi_application: WSGIApp,
        executor: concurrent.futures.Executor | None = None,
    ) -> None:
        if not callable(wsgi_application):
            raise TypeError(
                f"a WSGI application is a callable, not {type(wsgi_application).__name__}"
            )
        if isinstance(executor, concurrent.futures.ProcessPoolExecutor):
            raise TypeError("WSGIContainer needs a thread pool, not a ProcessPoolExecutor")
        self.wsgi_application = wsgi_application
        self.executor = executor or concurrent.futures.ThreadPoolExecutor(
            _DEFAULT_WORKERS, thread_name_prefix="squall-wsgi"
        )

    def __call__(self, request: HTTPServerRequest) -> Awaitable[None]:
        """The ``HTTPServer`` request callback: answer ``request`` through the WSGI app."""
        return self.handle_request(request)

    async def handle_request(self, request: HTTPServerRequest) -> None:
        """Run the application on the executor and answer with what it returned."""
        loop = asyncio.get_running_loop()
        try:
            status, headers, body = await loop.run_in_executor(
                self.executor, self._run, self.environ(request)
            )
        except Exception:
            app_log.error("Uncaught exception in WSGI application %s", request.uri, exc_info=True)
            status, headers, body = "500 Internal Server Error", [], b"Internal Server Error"
            headers = [("Content-Type", "text/plain")]
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        names = {name.lower() for name, _ in headers}
        if code != 304 and "content-type" not in names:
            headers.append(("Content-Type", "text/html; charset=UTF-8"))
        connection = request.connection
        assert connection is not None
        try:
            connection.respond(code, headers, body, reason or None)
        except StreamClosedError:
            pass  # the client left: nothing to answer
        self._log(code, request)

    def _run(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        """On the executor: call the application and collect status, headers and body."""
        data: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if data and exc_info is None:
                raise WSGIError("start_response() called twice without exc_info")
            data["status"] = status
            data["headers"] = list(headers)
            return written.append

        result = self.wsgi_application(environ, start_response)
        try:
            iterator: Iterator[bytes] = iter(result)
            for chunk in iterator:
                if not isinstance(chunk, bytes | bytearray):
                    raise WSGIError(
                        f"the WSGI application yielded {type(chunk).__name__}, not bytes"
                    )
                written.append(bytes(chunk))
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not data:
            raise WSGIError("the WSGI application did not call start_response")
        return data["status"], data["headers"], b"".join(written)

    def environ(self, request: HTTPServerRequest) -> dict[str, Any]:
        """The PEP 3333 environ of ``request``."""
        host, port = split_host_and_port(request.host)
        if port is None:
            port = 443 if request.protocol == "https" else 80
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            # PEP 3333: the decoded path's bytes as a latin-1 str
            "PATH_INFO": unquote_to_bytes(request.path).decode("latin-1"),
            "QUERY_STRING": request.query,
            "REMOTE_ADDR": request.remote_ip,
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": request.version,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": request.protocol,
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": isinstance(self.executor, concurrent.futures.ThreadPoolExecutor),
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        headers = request.headers
        if "Content-Type" in headers:
            environ["CONTENT_TYPE"] = headers["Content-Type"]
        if "Content-Length" in headers:
            environ["CONTENT_LENGTH"] = headers["Content-Length"]
        for name in headers:
            if name in ("Content-Type", "Content-Length"):
                continue
            key = "HTTP_" + name.replace("-", "_").upper()
            environ[key] = ",".join(headers.get_list(name))
        return environ

    def _log(self, code: int, request: HTTPServerRequest) -> None:
        if code < 400:
            log = access_log.info
        elif code < 500:
            log = access_log.warning
        else:
            log = access_log.error
        log(
            "%d %s %s (%s) %.2fms",
            code,
            request.method,
            request.uri,
            request.remote_ip,
            1000.0 * request.request_time(),
        )
