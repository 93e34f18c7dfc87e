"""FallbackHandler: a squall.web rule handing its requests to an http request callback.

Tornado's ``tornado.web.FallbackHandler``, whose usual fallback is a ``WSGIContainer``:
``(r"/legacy/.*", FallbackHandler, {"fallback": WSGIContainer(flask_app)})`` serves a WSGI
application beside the squall handlers of one Application. The fallback answers through
``request.connection`` itself (the plain-callable contract of squall.http); the handler
then counts as finished, and web sends nothing more.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from squall.http import HTTPServerRequest
from squall.web import RequestHandler

__all__ = ["FallbackHandler"]


class FallbackHandler(RequestHandler):
    """Hand the request to ``fallback(request)`` (``initialize(fallback)``), as Tornado's."""

    def initialize(
        self, fallback: Callable[[HTTPServerRequest], Awaitable[None] | None | Any]
    ) -> None:
        """``fallback``: an http request callback (a ``WSGIContainer``, any callable)."""
        self.fallback = fallback

    async def prepare(self) -> None:
        """Run the fallback (awaited when it returns an awaitable); the response is its."""
        result = self.fallback(self.request)
        if inspect.isawaitable(result):
            await result
        # The fallback answered through the connection: web must not finish again (the
        # attribute Tornado's FallbackHandler sets too); on_finish still runs.
        self._finished = True
        self.on_finish()
