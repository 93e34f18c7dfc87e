"""A third-party squall.web plugin: one route and one default header, no subclassing."""

from __future__ import annotations

from typing import Any

from squall.web import RequestHandler, hookimpl


class FromPlugin(RequestHandler):
    """Answers ``/from-plugin``."""

    def get(self) -> None:
        self.write("hello from a plugin")


@hookimpl
def squall_web_routes(app: Any) -> list[Any]:
    """Add ``/from-plugin``."""
    return [(r"/from-plugin", FromPlugin)]


@hookimpl
def squall_web_default_headers(app: Any) -> list[tuple[str, str]]:
    """Add ``X-Test-Plugin: yes`` to every response."""
    return [("X-Test-Plugin", "yes")]
