"""The state every part of RequestHandler shares, declared once for the type checker.

``RequestHandler`` is composed of focused mixins (arguments, headers, output, errors); each
reads and writes the attributes below. They are slots of ``RequestHandler`` (declared there,
so there is one layout); the mixins declare ``__slots__ = ()`` and only annotate.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from squall.http import HTTPServerRequest
    from squall.web._application import Application


class Done:
    """An awaitable that is already complete (``flush()``/``finish()`` with nothing to wait).

    Tornado returns a Future there, and code written for it uses the Future's methods
    (``self.flush().add_done_callback(cb)``, as sockjs-tornado's transports do): the
    read-only part of that interface is offered, without the cost of a Future per request.
    """

    __slots__ = ()

    def __await__(self) -> Any:
        return iter(())

    def done(self) -> bool:
        """Always True: there is nothing to wait for."""
        return True

    def cancelled(self) -> bool:
        """Always False."""
        return False

    def result(self) -> None:
        """None, as the Future of a completed flush or finish."""
        return None

    def exception(self) -> BaseException | None:
        """None: nothing failed."""
        return None

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: contextvars.Context | None = None
    ) -> None:
        """Schedule ``fn(self)`` on the running loop, as a done Future does."""
        asyncio.get_running_loop().call_soon(fn, self, context=context)

    def remove_done_callback(self, fn: Callable[[Any], object]) -> int:
        """0: a callback added here is already scheduled, as on a done Future.

        ``asyncio.wait([self.flush()])`` calls it once the wait is over.
        """
        return 0


DONE: Awaitable[None] = Done()


class HandlerBase:
    """The shared handler state (slots, so one layout for every part); no behaviour."""

    __slots__ = (
        "application",
        "request",
        "path_args",
        "path_kwargs",
        "_headers",
        "_multi_headers",
        "_new_cookie",
        "_status_code",
        "_reason",
        "_custom_reason",
        "_write_buffer",
        "_headers_written",
        "_finished",
        "_auto_finish",
        "_prepared",
        "_current_user",  # unset (AttributeError) until current_user is first read or set
        "_json_body",  # set by get_json_body() only; unset (AttributeError) until then
        "_transforms",  # set only when the application has output transforms
        "_exception",  # set only when handler code raised; read only by complete-hooks
        "__weakref__",
    )

    application: Application
    request: HTTPServerRequest
    path_args: list[Any]  # str, or None for an optional group that did not match
    path_kwargs: dict[str, Any]
    _headers: dict[str, str]
    _multi_headers: dict[str, list[str]] | None
    _new_cookie: SimpleCookie | None
    _status_code: int
    _reason: str
    _custom_reason: bool
    _write_buffer: list[bytes]
    _headers_written: bool
    _finished: bool
    _auto_finish: bool
    _prepared: asyncio.Task[None] | None
    _current_user: Any
    _json_body: Any
    _transforms: list[Any]
    _exception: BaseException

    if TYPE_CHECKING:
        # Provided by the other parts of RequestHandler; declared here for the type checker.
        def write(self, chunk: str | bytes | dict[str, Any]) -> None: ...
        def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> Awaitable[None]: ...
        def flush(self, include_footers: bool = False) -> Awaitable[None]: ...
        def clear(self) -> None: ...
        def set_status(self, status_code: int, reason: str | None = None) -> None: ...
        def set_header(self, name: str, value: Any) -> None: ...
        def clear_header(self, name: str) -> None: ...
        def set_default_headers(self) -> None: ...
        def write_error(self, status_code: int, **kwargs: Any) -> None: ...
        def on_finish(self) -> None: ...
        def log_exception(self, typ: Any, value: Any, tb: Any) -> None: ...
        def _request_summary(self) -> str: ...
        def _after_finish(self) -> None: ...
        @property
        def settings(self) -> dict[str, Any]: ...
