"""squall.http: A fast, strict HTTP/1.1 server: sans-I/O parser, asyncio Protocol, `HTTPServer`, `HTTPServerRequest`, `HTTPHeaders`, `HTTPFile`."""

from __future__ import annotations

from squall.http._version import __version__

__all__ = ["__version__"]
