"""A third-party squall.web plugin: one route and one default header, through the hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import squall.web
from squall.web import hookimpl


class PluginHelloHandler(squall.web.RequestHandler):
    """Answers the route this plugin adds."""

    def get(self) -> None:
        self.write("hello from a plugin")


@hookimpl
def squall_web_routes(app: Any) -> Sequence[Any]:
    """The plugin's route."""
    return [(r"/plugin-hello", PluginHelloHandler)]


@hookimpl
def squall_web_default_headers(app: Any) -> Sequence[tuple[str, str]]:
    """A header on every response of every application."""
    return [("X-Hello-Plugin", "1")]
