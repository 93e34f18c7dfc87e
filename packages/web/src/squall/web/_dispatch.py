"""The per-request delegate that squall.http drives, and the built-in 404 handler.

``HTTPServer`` calls ``Application.start_request(connection)`` once per request and gets a
``RequestDispatcher`` (the http contract's ``RequestDelegate``, see docs/interfaces.md):

- ``headers_received``: route. A request no rule matches is answered at once (its body is
  never read). A ``@stream_request_body`` handler is created here and runs ``prepare``
  before the body; ``stream_body`` / ``max_body_size`` tell the server how to read it, and
  an async ``prepare``'s Task is returned, so the body is read once it is done (the limits
  it set on ``request.connection`` apply, as in Tornado).
- ``data_received``: streamed pieces go to ``handler.data_received`` once ``prepare`` is
  done; an awaitable returned pauses the socket (flow control).
- ``finish``: the body is complete; the handler is created and its lifecycle runs,
  synchronously when the handler is.
- ``on_connection_close``: the client left before the response finished.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from squall.web._errors import HTTPError
from squall.web._handler import RequestHandler, _is_awaitable

if TYPE_CHECKING:
    from squall.http import HTTPServerRequest
    from squall.web._application import Application

app_log = logging.getLogger("squall.application")

# The path groups of a literal rule: none (shared, never written: handlers get their own).
_NO_GROUPS: dict[str, str | None] = {}

_ERROR_PAGE_500 = (
    b"<html><title>500: Internal Server Error</title><body>500: Internal Server Error</body></html>"
)


class ErrorHandler(RequestHandler):
    """Answers every request with the error ``status_code``, whatever the method.

    Squall uses it for requests no rule matches (404); an application may route to it,
    e.g. ``(r"/old-api/.*", ErrorHandler, {"status_code": 410})``. Neither the XSRF token
    nor ``cross_origin_protection`` is checked: a POST to an error page changes nothing,
    so it gets its error status rather than a 403.
    """

    def initialize(self, status_code: int = 404) -> None:
        self.set_status(status_code)

    def prepare(self) -> None:
        raise HTTPError(self._status_code)

    def check_xsrf_cookie(self) -> None:
        """No token needed: a POST to an error page changes nothing (a 404 stays a 404)."""

    def check_trusted_origin(self, origin: str) -> bool:
        """Every origin is trusted here, for the same reason as ``check_xsrf_cookie``."""
        return True


class RequestDispatcher:
    """The http ``RequestDelegate`` of one request (see docs/interfaces.md)."""

    __slots__ = (
        "application",
        "connection",
        "request",
        "handler",
        "handler_class",
        "handler_kwargs",
        "path_args",
        "path_kwargs",
        "stream_body",
        "max_body_size",
        "_created",
    )

    def __init__(self, application: Application, connection: Any) -> None:
        self.application = application
        self.connection = connection
        self.handler: RequestHandler | None = None
        self.stream_body = False
        self.max_body_size: int | None = None
        self._created = False  # a handler was made (or failed to be): never make a second

    def headers_received(self, request: HTTPServerRequest) -> Awaitable[None] | None:
        self.request = request
        direct = self.application._direct_routes
        spec = direct.get(request.path) if direct is not None else None
        if spec is not None:
            # A literal rule (Application.find_handler's answer, without its call and tuple).
            cls = spec.handler_class
            self.handler_class = cls
            self.handler_kwargs = spec.kwargs
            self.path_args = ()
            self.path_kwargs = _NO_GROUPS
        else:
            cls, kwargs, args, kw = self.application.find_handler(request)
            self.handler_class = cls
            self.handler_kwargs = kwargs
            self.path_args = args
            self.path_kwargs = kw
        self.max_body_size = cls.max_body_size
        if cls is ErrorHandler:
            # No rule matched: answer the 404 now, so a large body is never read for it.
            handler = self._make_handler()
            if handler is not None:
                handler._execute(cls._method_name(request.method), (), {})
            return None
        if cls._stream_request_body:
            self.stream_body = True
            handler = self._make_handler()
            if handler is None or not self._begin(handler):
                return None
            # An async prepare is awaited before the body is read (as Tornado does), so
            # the limits it sets (request.connection.set_max_body_size) apply to the body.
            handler._prepared = handler._start()
            return handler._prepared
        return None

    def _make_handler(self) -> RequestHandler | None:
        self._created = True
        try:
            handler = self.handler_class(self.application, self.request, **self.handler_kwargs)
        except Exception:
            self._construction_failed()
            return None
        self.handler = handler
        return handler

    def _construction_failed(self) -> None:
        """The handler's constructor raised (in an ``except`` block): log it, answer 500."""
        app_log.error(
            "Uncaught exception creating %s for %s %s",
            self.handler_class.__name__,
            self.request.method,
            self.request.uri,
            exc_info=True,
        )
        try:
            self.connection.respond(
                500, [("Content-Type", "text/html; charset=UTF-8")], _ERROR_PAGE_500
            )
        except Exception:
            pass  # something was already sent: the connection will be closed by http

    def _begin(self, handler: RequestHandler) -> bool:
        """Check the method and decode path arguments; False when an error was answered."""
        try:
            if self.handler_class._method_name(self.request.method) is None:
                raise HTTPError(405)
            if self.path_args or self.path_kwargs:
                handler._decode_path(self.path_args, self.path_kwargs)
        except Exception as e:
            handler._handle_request_exception(e)
            return False
        return True

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        handler = self.handler
        if handler is None or handler._finished:
            return None  # answered early (error, 413 ...): the rest of the body is dropped
        prepared = handler._prepared
        if prepared is not None and not prepared.done():
            return self._data_after(prepared, handler, chunk)
        try:
            result = handler.data_received(chunk)
        except Exception as e:
            handler._handle_request_exception(e)
            return None
        if _is_awaitable(result):
            return self._await_data(handler, result)  # type: ignore[arg-type]
        return None

    async def _data_after(
        self, prepared: Awaitable[None], handler: RequestHandler, chunk: bytes
    ) -> None:
        await prepared
        if handler._finished:
            return
        try:
            result = handler.data_received(chunk)
            if _is_awaitable(result):
                await result  # type: ignore[misc]
        except Exception as e:
            handler._handle_request_exception(e)

    @staticmethod
    async def _await_data(handler: RequestHandler, pending: Awaitable[None]) -> None:
        try:
            await pending
        except Exception as e:
            handler._handle_request_exception(e)

    def finish(self) -> Awaitable[None] | None:
        if self.stream_body:
            handler = self.handler
            if handler is None or handler._finished:
                return None
            name = self.handler_class._method_name(self.request.method)
            assert name is not None  # checked in _begin
            prepared = handler._prepared
            if prepared is not None and not prepared.done():
                return handler._spawn(handler._after_start(prepared, name))
            return handler._run_method(name)
        if self._created:
            return None  # answered in headers_received (404), or the constructor failed
        # _make_handler and _method_name inline: this is every request's path.
        self._created = True
        cls = self.handler_class
        kwargs = self.handler_kwargs
        request = self.request
        try:
            if kwargs:
                handler = cls(self.application, request, **kwargs)
            else:
                handler = cls(self.application, request)
        except Exception:
            self._construction_failed()
            return None
        self.handler = handler
        table = cls.__dict__.get("_squall_method_table")
        name = table.get(request.method) if table is not None else cls._method_name(request.method)
        return handler._execute(name, self.path_args, self.path_kwargs)

    def on_connection_close(self) -> None:
        handler = self.handler
        if handler is not None and not handler._finished:
            try:
                handler.on_connection_close()
            except Exception:
                app_log.error("Uncaught exception in on_connection_close", exc_info=True)
