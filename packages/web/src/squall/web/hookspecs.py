"""The hook specifications of squall.web: the whole contract between web and its plugins.

Theory of operation
-------------------
Every hook here runs while an :class:`~squall.web.Application` is being configured, in its
constructor, and never again for that application: a pluggy call costs microseconds, the
request path must cost less, so what a hook returns is turned once into plain callables,
dicts and route tables that the request path uses directly.

Order of calls inside ``Application(...)``::

    squall_web_add_settings(registry)      # every plugin declares the settings it owns
    squall_web_setting_defaults(given)     # values for settings the user did not give
    (debug's implications derived; settings validated and defaulted)
    squall_web_configure(app)              # plugins check their settings, fill app.stash
    squall_web_routes(app)                 # extra rules, placed before the app's own
    squall_web_handler_functions(app)      # functions reachable from every handler
    squall_web_default_headers(app)        # headers on every response
    squall_web_request_hooks(app)          # per-request callables (before / after / complete)
    squall_web_transforms(app)             # output transform factories (compression, ...)
    squall_web_log_request(app)            # the access-log function (first result wins)

Plugins are registered in this order: web's ``DEFAULT_PLUGINS``, installed plugins (entry
points of group ``squall.web``), then ``Application(plugins=[...])``. Every hook is called in
that registration order, except ``squall_web_log_request``, which asks the most recently
registered plugin first (an explicit plugin overrides an installed one), and
``squall_web_shutdown``, which runs in reverse order (last started, first stopped).

``squall_web_startup`` and ``squall_web_shutdown`` run when the application starts serving
(``Application.listen`` / the pytest plugin's live server) and when it is shut down. What
they return follows the "value, callable or awaitable" rule: a callable is called, an
awaitable is awaited, anything else is ignored.

Every hook name starts with ``squall_web_``; a plugin that implements a hook with another
name under the ``squall_web_`` prefix is refused when it is registered (pluggy's
``check_pending``), so a typo cannot silently disable a plugin. Wrappers
(``hookwrapper=True`` / ``wrapper=True``) are allowed on every hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from squall.web._application import Application
    from squall.web._handler import RequestHandler
    from squall.web._hooktypes import TransformFactory
    from squall.web._plugins import RequestHooks
    from squall.web._settings import SettingsRegistry

PROJECT_NAME = "squall.web"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marker for hook specifications; only this module uses it."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker that plugins put on their hook implementations (also ``squall.web.hookimpl``)."""


# ---------------------------------------------------------------------------------------
# Settings phase
# ---------------------------------------------------------------------------------------


@hookspec
def squall_web_add_settings(registry: SettingsRegistry) -> None:
    """Declare the settings this plugin owns.

    Called once per Application, first of all hooks, before the settings given to
    ``Application(**settings)`` are validated.

    Args:
        registry: call ``registry.add(name, default=..., type=..., doc=..., owner=...)``
            once per setting. A declared setting is validated (its type, and its
            ``validate`` callable if given) and, when the user did not give it, present in
            ``app.settings`` with its default. Declaring a name twice is an error naming
            both owners.

    Returns:
        Nothing; the return value is ignored.
    """


@hookspec
def squall_web_setting_defaults(given: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Values for settings the user did not give (a command-line ``--debug``, a config file).

    Called once per Application, right after ``squall_web_add_settings`` and before the
    settings are validated. The user's explicit keys always win: a key given to
    ``Application(**settings)`` is never replaced, whatever a plugin returns. When two
    plugins supply the same key, the one registered later wins (an explicit
    ``Application(plugins=[...])`` over an installed one).

    What ``debug`` implies is derived *after* this hook, from the merged settings: a
    plugin-supplied ``debug=True`` turns on ``autoreload``, ``serve_traceback`` and the rest
    unless the user set them. Supplied values are validated like the user's own (a bad type
    fails ``Application(...)`` naming the setting).

    Args:
        given: the settings given to ``Application(**settings)``, read-only.

    Returns:
        A mapping setting name → value, or None to supply nothing.
    """


# ---------------------------------------------------------------------------------------
# Configuration phase
# ---------------------------------------------------------------------------------------


@hookspec
def squall_web_configure(app: Application) -> None:
    """Check this plugin's settings and prepare its per-application state.

    Called once per Application, after settings were validated and defaulted, before
    routes are built. Keep state in ``app.stash`` under a module-level ``StashKey``, never
    in attributes added to ``app``.

    Args:
        app: the Application being built; ``app.settings`` is final.

    Returns:
        Nothing. Raise ``squall.web.ConfigurationError`` (with a message naming the bad
        setting and its value) to refuse the configuration: the constructor fails loudly.
    """


@hookspec
def squall_web_routes(app: Application) -> Sequence[Any] | None:
    """Rules this plugin adds to the application.

    Called once per Application. Plugin routes belong to the application's default host.

    Args:
        app: the Application being built.

    Returns:
        A sequence of rules in any form ``Application`` accepts (``(regex, Handler)``,
        ``(regex, Handler, kwargs)``, ``url(...)``) or None. They are placed *before* the
        application's own rules (as Tornado places its static routes), in the order the
        plugins were registered, so ``/static/...`` wins over a catch-all ``r"/(.*)"``.
    """


@hookspec
def squall_web_handler_functions(app: Application) -> dict[str, Callable[..., Any]] | None:
    """Functions this plugin offers to every RequestHandler of the application.

    Called once per Application. The dicts of all plugins are merged into
    ``app.handler_functions``; a name given by two plugins is an error naming both.

    Well-known names, reached through methods of ``RequestHandler``:
    ``static_url(handler, path, include_host=None, **kwargs) -> str`` (squall-static),
    ``render(handler, template_name, **kwargs) -> Awaitable[None] | None`` and
    ``render_string(handler, template_name, **kwargs) -> bytes`` and ``ui(handler)`` (the
    object ``RequestHandler.ui`` returns) (squall-template). Other
    names are reachable with ``handler.plugin_function(name)``.

    Args:
        app: the Application being built.

    Returns:
        A dict name → callable (each called with the handler as first argument), or None.
    """


@hookspec
def squall_web_default_headers(app: Application) -> Sequence[tuple[str, str]] | None:
    """Headers this plugin adds to every response of the application.

    Called once per Application. The headers are set on each handler right after web's own
    defaults (``Server``, ``Content-Type``; ``Date`` is added by squall.http when absent)
    and *before* the handler's ``set_default_headers``, so a handler can still override
    them. They are also on error pages (``clear()`` restores them). Invalid values (CR/LF)
    make ``Application(...)`` fail with a ``ConfigurationError`` naming the plugin.

    Returns:
        A sequence of ``(name, value)`` pairs, or None.
    """


@hookspec
def squall_web_request_hooks(app: Application) -> RequestHooks | None:
    """Per-request behaviour without subclassing.

    Called once per Application; the callables it returns are then called on every
    request (they are plain calls, no pluggy on the request path).

    Returns:
        A ``squall.web.RequestHooks(before=..., after=...)`` or None. ``before(handler)`` runs
        after ``initialize`` and before ``prepare``; it may return an awaitable, which is
        awaited, and it may finish the request (``handler.finish()`` / raise ``HTTPError``),
        in which case neither ``prepare`` nor the method runs. ``after(handler)`` runs once
        the response is finished, just before ``on_finish``; its return value is ignored.
        ``complete(handler, exception)`` runs after every ``after``, for every request
        (also one no ``before`` saw, a 405), with the exception the handler's code raised
        (``HTTPError`` included) or None, and ``handler.get_status()`` the status sent:
        before + complete is how a tracing or metrics plugin wraps the handler call
        without monkeypatching (open a span in ``before``, close it in ``complete``).
    """


@hookspec
def squall_web_transforms(app: Application) -> Sequence[TransformFactory] | None:
    """Output transforms this plugin puts on every response (Tornado's ``OutputTransform``).

    Called once per Application. Each factory is called once per request with the
    ``HTTPServerRequest`` and returns an object with ``transform_first_chunk(status_code,
    headers, chunk, finishing) -> (status_code, headers, chunk)`` and
    ``transform_chunk(chunk, finishing) -> chunk`` (subclass
    ``squall.web.OutputTransform``; the class itself is a factory). The handler passes
    the status, the headers (an ``HTTPHeaders``) and the first chunk through every
    transform when the headers go out — ``finish()`` of a buffered response
    (``finishing=True``, the whole body) or the first ``flush()`` — then every later
    chunk, the last one from ``finish()`` with ``finishing=True`` (possibly empty).
    ``Content-Length`` of a buffered response is computed from the transformed body.

    Order: the factories of plugins, in registration order, then the ``transforms``
    setting, then ``Application.add_transform`` (Tornado's order: its gzip transform comes
    before the application's). Each transform gets what the previous returned. An
    application with no transform pays nothing per request.

    Returns:
        A sequence of factories, or None.
    """


@hookspec(firstresult=True)
def squall_web_log_request(app: Application) -> Callable[[RequestHandler], None] | None:
    """The access-log function of the application.

    Called once per Application; the first plugin to return a callable wins (pluggy
    ``firstresult``), and that callable is called once per finished request instead of web's
    default (which logs to ``squall.access``). A ``log_function`` setting given by the user
    wins over every plugin.

    Returns:
        ``f(handler) -> None`` or None to leave the choice to the next plugin / the default.
    """


# ---------------------------------------------------------------------------------------
# Serving phase
# ---------------------------------------------------------------------------------------


@hookspec
def squall_web_startup(app: Application) -> Any:
    """Called once when the application starts serving (``listen``, the live-server fixture).

    Returns:
        A value (ignored), a callable (called with no argument) or an awaitable (awaited
        before the first request is accepted).
    """


@hookspec
def squall_web_shutdown(app: Application) -> Any:
    """Called once when the application is shut down (graceful shutdown, SIGTERM).

    Returns:
        As ``squall_web_startup``: value, callable or awaitable.
    """
