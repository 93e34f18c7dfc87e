"""squall.template: Jinja2 behind `RequestHandler.render()` / `render_string()`, with the compiled-template cache."""

from __future__ import annotations

from squall.template._version import __version__

__all__ = ["__version__"]
