"""squall.static: ``static_path``, ``static_url()``, ``StaticFileHandler`` (ETag, Range, sendfile).

A squall.web plugin: installed, it is found through the ``squall.web`` entry-point group;
otherwise pass its plugin module explicitly:
``Application(..., plugins=[squall.static.plugin], autoload_plugins=False)``.

``make_static_url(settings, path, include_version=True) -> str`` builds the URL of a static
file for templates and scripts (``StaticFileHandler.make_static_url``).

``StaticFileHandler``, ``make_static_url`` and ``__version__`` are loaded on first access (PEP 562
``__getattr__``): the handler and its cache cost ≈ 6-8 ms to import, and this package is
imported at every ``Application()`` through the plugin's entry point, static files or not.
"""

from __future__ import annotations

import importlib
import typing

from squall.static import _plugin as plugin

if typing.TYPE_CHECKING:
    from squall.static._handler import StaticFileHandler, StaticRootMissingError
    from squall.static._version import __version__

    make_static_url = StaticFileHandler.make_static_url

__all__ = [
    "StaticFileHandler",
    "StaticRootMissingError",
    "__version__",
    "make_static_url",
    "plugin",
]

# Public name -> (module, attribute path), imported on first access (see the docstring).
_LAZY = {
    "StaticFileHandler": ("squall.static._handler", "StaticFileHandler"),
    "StaticRootMissingError": ("squall.static._handler", "StaticRootMissingError"),
    "make_static_url": ("squall.static._handler", "StaticFileHandler.make_static_url"),
    "__version__": ("squall.static._version", "__version__"),  # one module fewer at startup
}


def __getattr__(name: str) -> typing.Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'squall.static' has no attribute {name!r}")
    value: typing.Any = importlib.import_module(where[0])
    for attr in where[1].split("."):
        value = getattr(value, attr)
    globals()[name] = value  # later accesses are plain attribute lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
