"""squall.web: `Application`, routing, `RequestHandler`, `HTTPError`, debug mode, and the pluggy hooks plugins use."""

from __future__ import annotations

from squall.web._version import __version__

__all__ = ["__version__"]
