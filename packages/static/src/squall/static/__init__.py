"""squall.static: ``static_path``, ``static_url()``, ``StaticFileHandler`` (ETag, Range, sendfile).

A squall.web plugin: installed, it is found through the ``squall.web`` entry-point group;
otherwise pass its plugin module explicitly:
``Application(..., plugins=[squall.static.plugin], autoload_plugins=False)``.
"""

from __future__ import annotations

from squall.static import _plugin as plugin
from squall.static._handler import StaticFileHandler
from squall.static._version import __version__

make_static_url = StaticFileHandler.make_static_url
"""``make_static_url(settings, path, include_version=True) -> str`` for templates and scripts."""

__all__ = ["StaticFileHandler", "__version__", "make_static_url", "plugin"]
