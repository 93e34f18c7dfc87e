"""Application: settings, plugins, routes, and the per-request delegate given to squall.http.

Construction (hooks run here, and only here — see ``hookspecs``)::

    plugin manager (defaults, entry points, plugins=[...]) → add_settings
    → setting_defaults → settings resolved
    → configure → routes → handler_functions → default_headers → request_hooks → transforms
    → log_request

Everything the request path needs is then a plain attribute: the route tables, the dict of
base headers each handler copies, tuples of before/after/complete callables and of output
transform factories, the log function.

The request path: ``HTTPServer`` calls ``start_request(connection)`` per request and gets a
``RequestDispatcher``. Its ``headers_received`` routes (and, for ``@stream_request_body``
handlers, creates the handler and runs ``prepare`` before the body); ``finish`` (body
complete) creates the handler and runs its lifecycle, synchronously when the handler is.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from squall.http import HTTPServer
from squall.loop import IOLoop
from squall.web import _autoreload
from squall.web._accesslog import log_request
from squall.web._dispatch import ErrorHandler, RequestDispatcher
from squall.web._errors import ConfigurationError
from squall.web._handler import RequestHandler
from squall.web._headers import convert_header_value, normalize_name
from squall.web._hooktypes import TransformFactory
from squall.web._plugins import (
    call_value_callable_awaitable,
    call_with_owners,
    make_plugin_manager,
    merge_handler_functions,
)
from squall.web._routing import Router, URLSpec, to_urlspec
from squall.web._settings import SettingsRegistry, Stash, merge_setting_defaults
from squall.web._version import __version__

if TYPE_CHECKING:
    from squall.http import HTTPServerRequest

app_log = logging.getLogger("squall.application")
gen_log = logging.getLogger("squall.general")


class Application:
    """A collection of request handlers: routes, settings, plugins; the server's callback.

    Args:
        handlers: rules — ``(regex, Handler)``, ``(regex, Handler, kwargs)`` or ``url(...)``.
        default_host: host whose rules answer requests for a host no pattern matches.
        plugins: plugin modules or objects to register besides the installed ones.
        autoload_plugins: False turns off entry-point discovery (None: on unless the
            environment variable ``SQUALL_WEB_NO_AUTOLOAD=1``).
        **settings: ``debug``, ``serve_traceback``, ``log_function``, plugins' settings, and
            anything of your own (unknown keys are kept).

    Raises:
        MissingPluginError: a setting of a plugin that is not loaded (``static_path``).
        ConfigurationError: a setting with a bad value, a bad rule, a plugin refusing.
    """

    def __init__(
        self,
        handlers: Sequence[Any] | None = None,
        default_host: str | None = None,
        *,
        plugins: Sequence[object] = (),
        autoload_plugins: bool | None = None,
        **settings: Any,
    ) -> None:
        self.default_host = default_host
        self.stash = Stash()
        self.handler_functions: dict[str, Callable[..., Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        pm = self.plugin_manager = make_plugin_manager(plugins, autoload_plugins=autoload_plugins)
        hook = pm.hook

        registry = self.settings_registry = SettingsRegistry()
        # Registration order (web's own first), not pluggy's LIFO: a duplicate declaration
        # then blames the later plugin, and configure sees web's state before plugins'.
        call_with_owners(hook.squall_web_add_settings, registry=registry)
        supplied = call_with_owners(
            hook.squall_web_setting_defaults, given=MappingProxyType(settings)
        )
        if supplied:
            settings = merge_setting_defaults(settings, supplied)
        self.settings: dict[str, Any] = registry.resolve(settings)
        call_with_owners(hook.squall_web_configure, app=self)

        # Routes: plugin rules first (in registration order), then the application's.
        self._named: dict[str, URLSpec] = {}
        self._hosts: list[tuple[re.Pattern[str] | None, Router]] = []
        rules: list[Any] = []
        for _owner, plugin_rules in call_with_owners(hook.squall_web_routes, app=self):
            rules.extend(plugin_rules)
        rules.extend(handlers or ())
        router = self._make_router(rules)
        self._hosts.append((None, router))
        # The dispatcher's first look-up (one dict get for a literal path): only while the
        # rules match any host and find_handler is this class's own (add_handlers and a
        # subclass's find_handler route everything through find_handler).
        self._direct_routes: dict[str, URLSpec] | None = (
            router.direct if type(self).find_handler is Application.find_handler else None
        )

        self.handler_functions.update(
            merge_handler_functions(call_with_owners(hook.squall_web_handler_functions, app=self))
        )

        base = {"Server": f"SquallServer/{__version__}", "Content-Type": "text/html; charset=UTF-8"}
        for owner, pairs in call_with_owners(hook.squall_web_default_headers, app=self):
            for name, value in pairs:
                try:
                    base[normalize_name(name)] = convert_header_value(value)
                except (TypeError, ValueError) as exc:
                    raise ConfigurationError(
                        f"default header {name!r}: {value!r} from {owner} is invalid: {exc}"
                    ) from exc
        self._base_headers = base

        before: list[Callable[[RequestHandler], Any]] = []
        after: list[Callable[[RequestHandler], Any]] = []
        complete: list[Callable[[RequestHandler, BaseException | None], Any]] = []
        for _owner, hooks in call_with_owners(hook.squall_web_request_hooks, app=self):
            if hooks.before is not None:
                before.append(hooks.before)
            if hooks.after is not None:
                after.append(hooks.after)
            if hooks.complete is not None:
                complete.append(hooks.complete)
        self._before_hooks = tuple(before)
        self._after_hooks = tuple(after)
        self._complete_hooks = tuple(complete)

        # Output transforms: plugins' (registration order), then the `transforms` setting
        # (Tornado's Application argument). An empty tuple keeps the request path as is.
        transforms: list[TransformFactory] = []
        for owner, factories in call_with_owners(hook.squall_web_transforms, app=self):
            for factory in factories:
                if not callable(factory):
                    raise ConfigurationError(f"transform {factory!r} from {owner} is not callable")
                transforms.append(factory)
        transforms.extend(self.settings.get("transforms") or ())
        self._transforms: tuple[TransformFactory, ...] = tuple(transforms)

        log_function = self.settings.get("log_function")
        if log_function is None:
            log_function = hook.squall_web_log_request(app=self)
        self._log_function: Callable[[RequestHandler], None] = log_function or log_request
        # What handlers call: a subclass's log_request override (Tornado's way to change
        # the access log) or, without one, the chosen function itself (one call less).
        self._log_request: Callable[[RequestHandler], None] = (
            self.log_request
            if type(self).log_request is not Application.log_request
            else self._log_function
        )

        default_class = self.settings.get("default_handler_class")
        if default_class is not None:
            self._default_handler: tuple[type[RequestHandler], dict[str, Any]] = (
                default_class,
                dict(self.settings.get("default_handler_args") or {}),
            )
        else:
            self._default_handler = (ErrorHandler, {"status_code": 404})

        if self.settings.get("autoreload"):
            # Restart on source changes while this app lives (squall.web._autoreload);
            # refused in a child of fork_processes, and marks this process unforkable.
            _autoreload.start_for(self)

    # -- routes ----------------------------------------------------------------------------

    def _make_router(self, rules: Sequence[Any]) -> Router:
        router = Router()
        for rule in rules:
            try:
                spec = to_urlspec(rule)
            except (TypeError, re.error) as exc:
                raise ConfigurationError(f"invalid rule {rule!r}: {exc}") from exc
            if not (
                isinstance(spec.handler_class, type)
                and issubclass(spec.handler_class, RequestHandler)
            ):
                raise ConfigurationError(
                    f"rule {spec.pattern!r}: {spec.handler_class!r} "
                    "is not a RequestHandler subclass"
                )
            if spec.name is not None:
                if spec.name in self._named:
                    app_log.warning(
                        "Multiple handlers named %s; replacing previous value", spec.name
                    )
                self._named[spec.name] = spec
            router.add(spec)
        return router

    def add_handlers(self, host_pattern: str, host_handlers: Sequence[Any]) -> None:
        """Add rules for the hosts matching ``host_pattern`` (a regex on the host name).

        They are tried before the rules given to the constructor (which match any host).
        """
        pattern = re.compile(host_pattern)
        router = self._make_router(host_handlers)
        index = len(self._hosts)
        if self._hosts and self._hosts[-1][0] is None:
            index -= 1
        self._hosts.insert(index, (pattern, router))
        self._direct_routes = None  # the host decides now: find_handler routes every request

    def find_handler(
        self, request: HTTPServerRequest
    ) -> tuple[type[RequestHandler], dict[str, Any], tuple[Any, ...], dict[str, Any]]:
        """Route ``request``: handler class, its kwargs, path args and path kwargs."""
        hosts = self._hosts
        path = request.path
        found = None
        if len(hosts) == 1:
            found = hosts[0][1].find(path)
        else:
            host = request.host_name
            for pattern, router in hosts:
                if pattern is None or pattern.fullmatch(host):
                    found = router.find(path)
                    if found is not None:
                        break
            if (
                found is None
                and self.default_host is not None
                and "X-Real-Ip" not in request.headers
            ):
                for pattern, router in hosts:
                    if pattern is not None and pattern.fullmatch(self.default_host):
                        found = router.find(path)
                        if found is not None:
                            break
        if found is None:
            cls, kwargs = self._default_handler
            return cls, kwargs, (), {}
        spec, match = found
        if match is None or not spec.has_groups:
            return spec.handler_class, spec.kwargs, (), {}
        if spec.has_named_groups:
            return spec.handler_class, spec.kwargs, (), match.groupdict()
        return spec.handler_class, spec.kwargs, match.groups(), {}

    def log_request(self, handler: RequestHandler) -> None:
        """Write the access-log line of a finished request (Tornado's hook for it).

        Handlers call the function chosen at construction directly (the ``log_function``
        setting, a plugin's ``squall_web_log_request``, or the ``squall.access`` log); this
        method calls the same function, for code written against Tornado. A subclass may
        override it (handlers then call the override, which may call ``super()``).
        """
        self._log_function(handler)

    def add_transform(self, transform_class: TransformFactory) -> None:
        """Add an output transform after the others (Tornado's ``add_transform``).

        ``transform_class`` is an ``OutputTransform`` subclass or any ``f(request)`` factory;
        it applies to requests that start after this call.
        """
        if not callable(transform_class):
            raise TypeError(f"add_transform() needs a callable, got {transform_class!r}")
        self._transforms = (*self._transforms, transform_class)

    def reverse_url(self, name: str, *args: Any) -> str:
        """The path of the rule named ``name``, its groups filled with ``args`` (quoted).

        Raises:
            KeyError: no rule is named ``name`` (the message names it).
        """
        spec = self._named.get(name)
        if spec is None:
            raise KeyError(f"{name!r} not found in named urls")
        return spec.reverse(*args)

    # -- serving ---------------------------------------------------------------------------

    def start_request(self, connection: Any) -> RequestDispatcher:
        """Called by ``HTTPServer`` once per request: the delegate that will handle it."""
        return RequestDispatcher(self, connection)

    def __call__(self, request: HTTPServerRequest) -> Awaitable[None] | None:
        """Handle a complete request (the plain-callable form of the http contract)."""
        dispatcher = RequestDispatcher(self, request.connection)
        dispatcher.headers_received(request)
        if dispatcher.stream_body and request.body:
            dispatcher.data_received(request.body)
        return dispatcher.finish()

    def listen(
        self,
        port: int,
        address: str = "",
        *,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        flags: int | None = None,
        reuse_port: bool = False,
        **server_options: Any,
    ) -> HTTPServer:
        """Start an ``HTTPServer`` for this application on ``port`` and return it.

        ``family``, ``flags`` and ``reuse_port`` say how the sockets are bound (Tornado's
        ``listen`` arguments, for ``squall.loop.bind_sockets``); the other
        ``server_options`` go to ``HTTPServer`` (``xheaders``, ``ssl_options``,
        ``max_body_size``, ``backlog``...). The plugins' startup hooks run here, and the
        server's ``shutdown()`` (also on the SIGTERM of ``install_signal_handlers``) runs
        this application's ``shutdown()``: the plugins' shutdown hooks.
        """
        server = HTTPServer(self, **server_options)
        server.add_shutdown_callback(self.shutdown)
        server.listen(port, address, family=family, flags=flags, reuse_port=reuse_port)
        self._run_startup_from_sync()
        return server

    def _run_startup_from_sync(self) -> None:
        pending = self._startup_now()
        if not pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            # Inside a running loop listen() cannot block: the awaitables finish as a task.
            task = loop.create_task(_await_all(pending))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        # No loop running yet (app.listen() before IOLoop.current().start()): finish them
        # now on the loop the IOLoop will use, so they are done before the first accept.
        ioloop = IOLoop.current()
        assert ioloop is not None  # current() with instance=True always gives one
        ioloop.run_sync(lambda: _await_all(pending))

    def _startup_now(self) -> list[Awaitable[Any]]:
        """Call the startup hooks (and the callables they return); return the awaitables."""
        if self._started:
            return []
        self._started = True
        pending: list[Awaitable[Any]] = []
        hook = self.plugin_manager.hook.squall_web_startup
        for _owner, result in call_with_owners(hook, app=self):
            if callable(result):
                result = result()
            if inspect.isawaitable(result):
                pending.append(result)
        return pending

    async def startup(self) -> None:
        """Run the plugins' ``squall_web_startup`` hooks once (value, callable or awaitable)."""
        await _await_all(self._startup_now())

    async def shutdown(self, timeout: float | None = 10.0) -> None:
        """Wait for running handlers (cancelled after ``timeout`` s), then the shutdown hooks.

        The plugins' ``squall_web_shutdown`` hooks run once (value, callable or awaitable).
        """
        if self._tasks:
            tasks = list(self._tasks)
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        if not self._started:
            return
        self._started = False
        for result in self.plugin_manager.hook.squall_web_shutdown(app=self):
            await call_value_callable_awaitable(result)


async def _await_all(pending: Sequence[Awaitable[Any]]) -> None:
    for awaitable in pending:
        await awaitable
