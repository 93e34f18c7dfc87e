"""squall.static: `static_path`, `static_url()`, `StaticFileHandler` (ETag, Range, sendfile)."""

from __future__ import annotations

from squall.static._version import __version__

__all__ = ["__version__"]
