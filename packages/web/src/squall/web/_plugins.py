"""The plugin manager of one Application: defaults, entry points and explicit plugins.

Strategy:

- One ``pluggy.PluginManager`` per Application, never a module-global one, so two apps in one
  process (or in one test session) cannot see each other's plugins.
- Plugins come from three places, registered in this order: ``DEFAULT_PLUGINS`` (web's own,
  always), the entry-point group ``squall.web`` (unless ``autoload_plugins=False`` or the
  environment variable ``SQUALL_WEB_NO_AUTOLOAD=1``), and ``Application(plugins=[...])``.
- Scanning entry points reads the metadata of every installed distribution, so the scan is
  done once per process and cached, and done by ``_entrypoints`` without importing
  ``importlib.metadata`` (whose import alone costs more than the scan): start-up time
  matters (time to first accept).
- Any attribute named ``squall_web_*`` counts as a hook implementation even without the
  ``@hookimpl`` marker, so that ``check_pending()`` refuses a misspelt hook name instead of
  silently ignoring it (as pytest does for ``pytest_*``).
- Registering looks at every attribute of a plugin (a module: its imports too), and so
  does adding the hookspecs; pluggy reads each one with ``inspect.getattr_static``
  (≈ 10 µs). For a plain module the manager reads the module's ``__dict__`` instead and
  gives pluggy's answer itself for what cannot be a hook (classes, modules, constants) and
  for plain functions (their ``@hookimpl`` / ``@hookspec`` marker's options), which cuts
  the registration time of an Application by about two thirds (start-up). Anything else
  (a plugin object, a builtin, a staticmethod) is asked of pluggy.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from types import FunctionType, ModuleType
from typing import Any, cast

import pluggy

from squall.web import _builtin, _health, _security, hookspecs
from squall.web._entrypoints import PluginEntryPoint, scan
from squall.web._errors import ConfigurationError
from squall.web._hooktypes import RequestHooks as RequestHooks  # re-exported

gen_log = logging.getLogger("squall.general")

ENTRY_POINT_GROUP = "squall.web"
NO_AUTOLOAD_ENV = "SQUALL_WEB_NO_AUTOLOAD"

DEFAULT_PLUGINS: tuple[object, ...] = (_builtin, _health, _security)
"""web's own built-in plugins, registered first in every Application."""

HOOK_PREFIX = "squall_web_"

_ABSENT = object()
_ASK_PLUGGY = object()
_ROUTINE_TYPES: dict[type, bool] = {}


def _module_marker(namespace: object, name: str, marker: str) -> Any:
    """pluggy's answer for attribute ``name`` of a plain module, or ``_ASK_PLUGGY``.

    The answer: the options of the ``marker`` attribute of a plain function (``@hookimpl``,
    ``@hookspec``), None for what cannot be a hook (classes, modules, constants). Anything
    else (a plugin object, a builtin, a staticmethod) is left to pluggy.
    """
    # Exactly ModuleType: a subclass could put a descriptor of that name on its type,
    # which pluggy's static lookup would find before the module's __dict__.
    if type(namespace) is not ModuleType:
        return _ASK_PLUGGY
    value = namespace.__dict__.get(name, _ABSENT)
    kind = type(value)
    if kind is FunctionType:
        opts = getattr(value, marker, None)
        return opts if isinstance(opts, dict) else None
    # isroutine: functions, builtins, bound methods, staticmethod and classmethod objects
    # (method descriptors), all that pluggy may accept. Its answer depends on the type
    # alone (isinstance and type attribute checks), so it is kept per type.
    routine = _ROUTINE_TYPES.get(kind)
    if routine is None:
        routine = _ROUTINE_TYPES[kind] = inspect.isroutine(value)
    if value is _ABSENT or routine:
        return _ASK_PLUGGY
    return None


class PluginManager(pluggy.PluginManager):
    """pluggy's manager with the ``squall_web_`` prefix rule (see the module docstring)."""

    def parse_hookspec_opts(self, module_or_class: Any, name: str) -> pluggy.HookspecOpts | None:
        opts = _module_marker(module_or_class, name, self.project_name + "_spec")
        if opts is _ASK_PLUGGY:
            return super().parse_hookspec_opts(module_or_class, name)
        return cast("pluggy.HookspecOpts | None", opts)

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        opts = _module_marker(plugin, name, self.project_name + "_impl")
        if opts is _ASK_PLUGGY:
            opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(HOOK_PREFIX):
            method = getattr(plugin, name, None)
            if inspect.isroutine(method):
                return {
                    "wrapper": False,
                    "hookwrapper": False,
                    "optionalhook": False,
                    "tryfirst": False,
                    "trylast": False,
                    "specname": None,
                }
        return cast("pluggy.HookimplOpts | None", opts)


_entry_points_cache: tuple[PluginEntryPoint, ...] | None = None


def plugin_entry_points() -> tuple[PluginEntryPoint, ...]:
    """The entry points of group ``squall.web``, scanned once per process (``_entrypoints``)."""
    global _entry_points_cache
    if _entry_points_cache is None:
        _entry_points_cache = scan(ENTRY_POINT_GROUP)
    return _entry_points_cache


def clear_entry_point_cache() -> None:
    """Forget the cached entry-point scan (tests that install a plugin at run time)."""
    global _entry_points_cache
    _entry_points_cache = None


def autoload_enabled(autoload_plugins: bool | None) -> bool:
    """Whether entry points are loaded: the argument wins, then ``SQUALL_WEB_NO_AUTOLOAD``."""
    if autoload_plugins is not None:
        return autoload_plugins
    return os.environ.get(NO_AUTOLOAD_ENV, "") in ("", "0")


def make_plugin_manager(
    plugins: Sequence[object] = (), *, autoload_plugins: bool | None = None
) -> PluginManager:
    """Build the manager of one Application: defaults, entry points, then ``plugins``."""
    pm = PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for plugin in DEFAULT_PLUGINS:
        pm.register(plugin)
    if autoload_enabled(autoload_plugins):
        for ep in plugin_entry_points():
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                raise ImportError(
                    f"cannot load the squall.web plugin {ep.name!r} ({ep.value}) "
                    f"declared by {ep.dist}: {exc}"
                ) from exc
            if pm.is_registered(plugin):
                continue
            pm.register(plugin, name=ep.name)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    pm.check_pending()
    return pm


def call_with_owners(hook: Any, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call ``hook`` and pair each non-None result with the name of the plugin that gave it.

    Results come in registration order. When a wrapper is involved the hook is called the
    normal way (wrappers must see the call) and the owners are only known as "a plugin".
    """
    impls = hook.get_hookimpls()
    if any(i.hookwrapper or i.wrapper for i in impls):
        return [("a plugin", r) for r in reversed(hook(**kwargs))]
    out: list[tuple[str, Any]] = []
    for impl in impls:  # pluggy keeps them in registration order (tryfirst/trylast aside)
        result = impl.function(*[kwargs[a] for a in impl.argnames])
        if result is not None:
            out.append((impl.plugin_name, result))
    return out


def merge_handler_functions(
    results: Iterable[tuple[str, dict[str, Callable[..., Any]] | None]],
) -> dict[str, Callable[..., Any]]:
    """Merge the dicts of ``squall_web_handler_functions``; a name given twice is an error."""
    merged: dict[str, Callable[..., Any]] = {}
    owners: dict[str, str] = {}
    for owner, funcs in results:
        for name, func in (funcs or {}).items():
            if name in merged:
                raise ConfigurationError(
                    f"handler function {name!r} provided twice: by {owners[name]} and by {owner}"
                )
            merged[name] = func
            owners[name] = owner
    return merged


async def call_value_callable_awaitable(result: Any) -> None:
    """Apply the "value, callable or awaitable" rule to what a startup/shutdown hook gave."""
    if callable(result):
        result = result()
    if inspect.isawaitable(result):
        await result
