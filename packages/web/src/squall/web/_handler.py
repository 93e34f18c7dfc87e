"""RequestHandler: the lifecycle of one request, composed from focused parts.

Lifecycle (the notes' 接口调用顺序, exactly)::

    __init__ → clear() → set_default_headers()      defaults first
             → initialize(**kwargs)                 the rule's dict
    before-hooks of plugins (RequestHooks.before)
    prepare()                                       may be async; may finish the request
    get()/post()/...                                may be async
    finish() → access log → after-hooks → complete-hooks (with the exception) → on_finish()

    on an error (HTTPError, any exception, send_error):
    clear() → set_default_headers() → write_error(status, **kwargs) → finish() → on_finish()

Why it runs synchronously when it can: a handler whose hooks, ``prepare`` and method are
plain functions is run to the end inside the server's callback, with no coroutine and no
Task (the common hello-world and JSON cases). The moment one of them returns an awaitable,
the rest of the lifecycle continues in a coroutine (a Task) from exactly that point. The
already-complete ``DONE`` that ``finish()``/``flush()`` return does not count, so Tornado's
``return self.finish()`` in a plain method stays synchronous.

The parts: ``_arguments.ArgumentsMixin`` (argument getters), ``_headers.HeadersMixin``
(status, headers), ``_output.OutputMixin`` (write/flush/finish/redirect/ETag, on_finish),
``_json.JSONBodyMixin`` (get_json_body), ``_error_handling.ErrorsMixin``
(send_error/write_error/exceptions), ``_cookies.CookiesMixin``
(cookies, signed cookies), ``_xsrf.XSRFMixin`` (XSRF token, Origin check), ``_auth.AuthMixin``
(``get_login_url``; the ``authenticated`` decorator lives there too), ``_i18n.LocaleMixin``
(``locale``, ``get_user_locale``, ``get_browser_locale``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import unquote_to_bytes

from squall.web._arguments import ArgumentsMixin
from squall.web._auth import AuthMixin
from squall.web._base import DONE
from squall.web._cookies import CookiesMixin
from squall.web._error_handling import ErrorsMixin
from squall.web._errors import HTTPError, MissingPluginError, install_hint
from squall.web._i18n import LocaleMixin
from squall.web._json import JSONBodyMixin
from squall.web._output import OutputMixin
from squall.web._xsrf import XSRFMixin

if TYPE_CHECKING:
    from squall.http import HTTPServerRequest
    from squall.web._application import Application

app_log = logging.getLogger("squall.application")

_H = TypeVar("_H", bound=type["RequestHandler"])

_PLUGIN_PACKAGES = {
    "static_url": "squall-static",
    "render": "squall-template",
    "render_string": "squall-template",
    "ui": "squall-template",
}


def _unimplemented_method(self: RequestHandler, *args: Any, **kwargs: Any) -> None:
    """Answer this HTTP method (override it); not overridden, the method is a 405.

    Path groups of the rule arrive as arguments: unnamed groups positionally, named groups
    as keywords. May be ``async def``.
    """
    raise HTTPError(405)


def _is_awaitable(value: object) -> bool:
    """Whether ``value`` is something to await: None and ``DONE`` are not.

    ``DONE`` is what ``finish()``/``flush()`` return when nothing is left to wait for, so
    ``return self.finish()`` in a synchronous method completes synchronously (no Task).
    """
    return value is not None and value is not DONE and inspect.isawaitable(value)


class RequestHandler(
    ArgumentsMixin,
    JSONBodyMixin,
    OutputMixin,
    ErrorsMixin,
    CookiesMixin,
    XSRFMixin,
    AuthMixin,
    LocaleMixin,
):
    """Base class of request handlers: subclass it and define ``get``, ``post``, ...

    Attributes:
        application: the Application serving the request.
        request: the ``squall.http.HTTPServerRequest``.
        path_args: the unnamed groups of the rule's pattern, decoded.
        path_kwargs: the named groups of the rule's pattern, decoded.
        max_body_size: (class attribute) this handler's request-body limit in bytes, lower
            or higher than the server's; None keeps the server's.
    """

    SUPPORTED_METHODS: ClassVar[tuple[str, ...]] = (
        "GET",
        "HEAD",
        "POST",
        "DELETE",
        "PATCH",
        "PUT",
        "OPTIONS",
    )
    max_body_size: ClassVar[int | None] = None
    _stream_request_body: ClassVar[bool] = False

    def __init__(self, application: Application, request: HTTPServerRequest, **kwargs: Any) -> None:
        self.application = application
        self.request = request
        self.path_args = []
        self.path_kwargs = {}
        self._headers_written = False
        self._finished = False
        self._auto_finish = True
        self._new_cookie = None
        self._prepared = None
        cls = type(self)
        if cls.clear is _CLEAR and cls.set_default_headers is _SET_DEFAULT_HEADERS:
            # clear() inline, minus its call of the base no-op set_default_headers().
            self._headers = application._base_headers.copy()
            self._multi_headers = None
            self._write_buffer = []
            self._status_code = 200
            self._reason = "OK"
            self._custom_reason = False
        else:
            self.clear()
        if kwargs or cls.initialize is not _initialize_nothing:
            self.initialize(**kwargs)

    # -- overridable lifecycle -------------------------------------------------------------

    def _initialize(self, **kwargs: Any) -> None:
        """Called with the rule's kwargs (``(r"/show", Show, {"op": ...})``) at construction.

        Override it with the arguments your rules give (``def initialize(self, op)``).
        """
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}.initialize() got arguments {sorted(kwargs)!r} "
                "but does not define initialize() to take them"
            )

    # Typed as "any signature" so that subclasses may declare their own arguments.
    initialize: Callable[..., None] = _initialize

    def set_default_headers(self) -> None:
        """Set headers every response of this handler starts with (also before errors)."""

    def prepare(self) -> Awaitable[None] | None:
        """Called before the method whatever the HTTP method; may be ``async``."""
        return None

    def on_connection_close(self) -> None:
        """Called when the client closes the connection before the response is finished."""

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        """Receive a piece of the body (only for ``@stream_request_body`` handlers)."""
        raise NotImplementedError(
            f"{type(self).__name__} is @stream_request_body but defines no data_received()"
        )

    head = get = post = delete = patch = put = options = _unimplemented_method
    # Also under its own name, as in Tornado's class: CORS mixins list the methods a
    # handler implements by looking the method's __name__ up in each class of the MRO,
    # and count a method not found there as implemented (every 405 one advertised).
    _unimplemented_method = _unimplemented_method
    # CONNECT is answered by a handler that defines ``connect`` (it is not in
    # SUPPORTED_METHODS, as in Tornado, so every other handler answers it 405). squall.http
    # reads no body for it and closes the connection after the answer: no tunnel.
    connect = _unimplemented_method

    def clear(self) -> None:
        """Reset headers (to the defaults, then ``set_default_headers``), buffer and status."""
        self._headers = self.application._base_headers.copy()
        self._multi_headers = None
        self.set_default_headers()
        self._write_buffer = []
        self._status_code = 200
        self._reason = "OK"
        self._custom_reason = False

    # -- context ---------------------------------------------------------------------------

    @property
    def settings(self) -> dict[str, Any]:
        """The settings of the application (``self.application.settings``)."""
        return self.application.settings

    def get_template_path(self) -> Any:
        """The folder of this handler's templates: the ``template_path`` setting (or None).

        Override it to give a handler its own folder (squall-template honours it, as
        Tornado does); code of its own that reads templates (another template engine) can
        call it. None means: beside the module that defines the handler class.
        """
        return self.application.settings.get("template_path")

    @property
    def current_user(self) -> Any:
        """The user of this request: ``get_current_user()``, computed once (settable).

        Override ``get_current_user`` (sync), or set ``self.current_user`` in an async
        ``prepare`` when finding the user needs I/O.
        """
        # Left unset until computed, as in Tornado: handlers that override this property
        # with the `if not hasattr(self, "_current_user")` idiom compute their user then.
        try:
            return self._current_user
        except AttributeError:
            self._current_user = self.get_current_user()
            return self._current_user

    @current_user.setter
    def current_user(self, value: Any) -> None:
        self._current_user = value

    def get_current_user(self) -> Any:
        """Return the user of this request (override); None by default."""
        return None

    def reverse_url(self, name: str, *args: Any) -> str:
        """The path of the rule named ``name`` with ``args`` filled in (see Application)."""
        return self.application.reverse_url(name, *args)

    def plugin_function(self, name: str) -> Callable[..., Any]:
        """The function ``name`` offered by a plugin, bound to this handler.

        Raises:
            MissingPluginError: no loaded plugin offers ``name``.
        """
        func = self.application.handler_functions.get(name)
        if func is None:
            package = _PLUGIN_PACKAGES.get(name)
            if package is not None:
                raise MissingPluginError(
                    f"{name}() needs the {package} package: {install_hint(package)}"
                )
            raise MissingPluginError(f"no loaded squall.web plugin provides {name!r}")

        def bound(*args: Any, **kwargs: Any) -> Any:
            return func(self, *args, **kwargs)

        return bound

    def static_url(self, path: str, include_host: bool | None = None, **kwargs: Any) -> str:
        """The URL of a static file, with a content hash (needs squall-static)."""
        result: str = self.plugin_function("static_url")(path, include_host=include_host, **kwargs)
        return result

    def render(self, template_name: str, **kwargs: Any) -> Any:
        """Render a template and finish the response (needs squall-template)."""
        return self.plugin_function("render")(template_name, **kwargs)

    def render_string(self, template_name: str, **kwargs: Any) -> bytes:
        """Render a template to bytes (needs squall-template)."""
        result: bytes = self.plugin_function("render_string")(template_name, **kwargs)
        return result

    @property
    def ui(self) -> Any:
        """The UI methods of the ``ui_methods`` setting bound to this handler, and the UI
        modules as ``ui.modules`` (needs squall-template); the same object templates see.

        Raises:
            MissingPluginError: squall-template is not installed.
        """
        return self.plugin_function("ui")()

    def get_template_namespace(self) -> dict[str, Any]:
        """The names every template rendered by this handler sees (override to add some).

        ``handler``, ``request``, ``current_user``, ``locale`` with its ``_`` (translate)
        and ``pgettext``, ``reverse_url``, and ``static_url`` when a plugin (squall-static)
        offers it or the handler defines its own. Extend it Tornado's way::

            def get_template_namespace(self):
                namespace = super().get_template_namespace()
                namespace["user_name"] = "ann"
                return namespace

        A template plugin (squall-template) starts every render from it; the keyword
        arguments of ``render()`` win over it.
        """
        locale = self.locale
        namespace: dict[str, Any] = {
            "handler": self,
            "request": self.request,
            "current_user": self.current_user,
            "locale": locale,
            "_": locale.translate,
            "pgettext": locale.pgettext,
            "reverse_url": self.reverse_url,
        }
        # A handler that defines its own static_url (Tornado apps do, for a CDN) offers
        # it to templates even without squall-static.
        if (
            "static_url" in self.application.handler_functions
            or type(self).static_url is not RequestHandler.static_url
        ):
            namespace["static_url"] = self.static_url
        return namespace

    def _request_summary(self) -> str:
        r = self.request
        return f"{r.method} {r.uri} ({r.remote_ip})"

    @classmethod
    def _allowed_methods(cls) -> list[str]:
        allowed = [
            m
            for m in cls.SUPPORTED_METHODS
            if getattr(cls, m.lower(), None) is not _unimplemented_method
        ]
        if "GET" in allowed and "HEAD" not in allowed and "HEAD" in cls.SUPPORTED_METHODS:
            allowed.insert(allowed.index("GET") + 1, "HEAD")
        if "CONNECT" not in allowed and cls._method_name("CONNECT") is not None:
            allowed.append("CONNECT")
        return allowed

    @classmethod
    def _method_name(cls, method: str) -> str | None:
        """The attribute answering ``method`` (``"get"`` for HEAD without ``head``), cached."""
        # Cached in the class's own __dict__ (not inherited: a subclass gets its own table).
        table: dict[str, str | None] | None = cls.__dict__.get("_squall_method_table")
        if table is None:
            table = {}
            for m in cls.SUPPORTED_METHODS:
                table[m] = m.lower()
            if (
                "HEAD" in table
                and getattr(cls, "head", None) is _unimplemented_method
                and getattr(cls, "get", None) is not _unimplemented_method
            ):
                table["HEAD"] = "get"
            if getattr(cls, "connect", _unimplemented_method) is not _unimplemented_method:
                table.setdefault("CONNECT", "connect")
            cls._squall_method_table = table  # type: ignore[attr-defined]
        return table.get(method)

    # -- running ---------------------------------------------------------------------------

    def _decode_path(self, args: tuple[str | None, ...], kwargs: dict[str, str | None]) -> None:
        decode = self.decode_argument
        # A group without "%" is already its own UTF-8 decoding, unless the handler decodes
        # arguments its own way: then every group goes through its decode_argument, as in
        # Tornado (a latin-1 handler, or one keeping bytes).
        custom = type(self).decode_argument is not ArgumentsMixin.decode_argument
        if args:
            self.path_args = [
                a
                if a is None or ("%" not in a and not custom)
                else decode(unquote_to_bytes(a), None)
                for a in args
            ]
        if kwargs:
            self.path_kwargs = {
                k: v
                if v is None or ("%" not in v and not custom)
                else decode(unquote_to_bytes(v), k)
                for k, v in kwargs.items()
            }

    def _start(self) -> asyncio.Task[None] | None:
        """Before-hooks and ``prepare``; None when done synchronously, else a Task."""
        try:
            hooks = self.application._before_hooks
            for i, hook in enumerate(hooks):
                result = hook(self)
                if _is_awaitable(result):
                    return self._spawn(self._start_async(result, hooks[i + 1 :], True))
                if self._finished:
                    return None
            result = self.prepare()
            if _is_awaitable(result):
                return self._spawn(self._start_async(result, (), False))  # type: ignore[arg-type]
        except Exception as e:
            self._handle_request_exception(e)
        except asyncio.CancelledError as e:
            if self._cancelled(e):
                raise
        return None

    async def _start_async(
        self, pending: Awaitable[Any], hooks: tuple[Callable[..., Any], ...], prepare: bool
    ) -> None:
        try:
            await pending
            if self._finished:
                return
            for hook in hooks:
                result = hook(self)
                if _is_awaitable(result):
                    await result
                if self._finished:
                    return
            if prepare:
                result = self.prepare()
                if _is_awaitable(result):
                    await result  # type: ignore[misc]
        except Exception as e:
            self._handle_request_exception(e)
        except asyncio.CancelledError as e:
            if self._cancelled(e):
                raise

    def _run_method(self, method_name: str) -> asyncio.Task[None] | None:
        """Call the method and finish; None when done synchronously, else a Task."""
        if self._finished:
            return None
        try:
            result = getattr(self, method_name)(*self.path_args, **self.path_kwargs)
            if _is_awaitable(result):
                return self._spawn(self._finish_async(result))
            if self._auto_finish and not self._finished:
                self.finish()
        except Exception as e:
            self._handle_request_exception(e)
        except asyncio.CancelledError as e:
            if self._cancelled(e):
                raise
        return None

    async def _finish_async(self, pending: Awaitable[Any]) -> None:
        try:
            await pending
            if self._auto_finish and not self._finished:
                self.finish()
        except Exception as e:
            self._handle_request_exception(e)
        except asyncio.CancelledError as e:
            if self._cancelled(e):
                raise

    def _cancelled(self, e: asyncio.CancelledError) -> bool:
        """Handle a ``CancelledError`` out of handler code; True: the caller re-raises it.

        When this request's own task is being cancelled (shutdown, a timeout around it),
        a 500 goes out unlogged so the client is not left waiting, and the cancellation
        goes on. Otherwise something the handler awaited was cancelled: that is an uncaught
        exception like any other (logged, 500), as in Tornado.
        """
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            if not self._finished:
                try:
                    self.send_error(500)
                except Exception:
                    app_log.error("Exception in exception handler", exc_info=True)
            return True
        self._handle_request_exception(e)
        return False

    async def _after_start(self, started: Awaitable[None], method_name: str) -> None:
        await started
        result = self._run_method(method_name)
        if result is not None:
            await result

    def _execute(
        self,
        method_name: str | None,
        args: tuple[str | None, ...],
        kwargs: dict[str, str | None],
    ) -> asyncio.Task[None] | None:
        """Run the whole lifecycle; returns None when it completed synchronously.

        The common case (no before-hooks, sync ``prepare`` and method) stays in this one
        frame: no coroutine is created unless something returns an awaitable.
        """
        try:
            if method_name is None:
                raise HTTPError(405)
            if args or kwargs:
                self._decode_path(args, kwargs)
            if self.application._before_hooks:
                started = self._start()
                if started is not None:
                    return self._spawn(self._after_start(started, method_name))
                if self._finished:
                    return None  # a hook or prepare answered (an XSRF 403, a redirect)
            elif type(self).prepare is not _PREPARE:  # the base prepare does nothing
                result = self.prepare()
                if result is not None and result is not DONE and inspect.isawaitable(result):
                    return self._spawn(self._after_prepare(result, method_name))
                if self._finished:
                    return None
            elif self._finished:
                # Answered before its method could run: by initialize(), or by a wrapper of
                # _execute (the widespread JWT recipe finishes a 401 there, then calls the
                # original). As in Tornado, the method must not run: its side effects would
                # happen for a refused request.
                return None
            # Read after prepare, which may change them (as in Tornado).
            path_args = self.path_args
            path_kwargs = self.path_kwargs
            if path_args or path_kwargs:
                result = getattr(self, method_name)(*path_args, **path_kwargs)
            else:
                result = getattr(self, method_name)()
            if result is not None and result is not DONE and inspect.isawaitable(result):
                return self._spawn(self._finish_async(result))
            if self._auto_finish and not self._finished:
                self.finish()
        except Exception as e:
            self._handle_request_exception(e)
        except asyncio.CancelledError as e:
            if self._cancelled(e):
                raise
        return None

    async def _after_prepare(self, pending: Awaitable[None], method_name: str) -> None:
        try:
            await pending
        except Exception as e:
            self._handle_request_exception(e)
            return
        except asyncio.CancelledError as e:
            if self._cancelled(e):
                raise
            return
        result = self._run_method(method_name)
        if result is not None:
            await result

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        tasks = self.application._tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task


_PREPARE = RequestHandler.prepare
_CLEAR = RequestHandler.clear
_SET_DEFAULT_HEADERS = RequestHandler.set_default_headers
_initialize_nothing = RequestHandler._initialize


def stream_request_body(cls: _H) -> _H:
    """Class decorator: the handler receives the body piece by piece in ``data_received``.

    ``prepare`` runs as soon as the headers are in (before any body), then
    ``data_received(chunk)`` for each piece (an awaitable it returns pauses reading: flow
    control), then the method once the body is complete. ``request.body`` stays empty.
    Set the class attribute ``max_body_size`` to change the body limit for this handler.
    """
    if not (isinstance(cls, type) and issubclass(cls, RequestHandler)):
        raise TypeError(f"@stream_request_body needs a RequestHandler subclass, got {cls!r}")
    cls._stream_request_body = True
    return cls
