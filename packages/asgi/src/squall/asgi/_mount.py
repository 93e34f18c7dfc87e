"""ASGIHandler and ``mount``: an ASGI application under a path prefix of a squall.web app.

``mount("/api", fastapi_app)`` is the rule ``(r"/api(/.*)?$", ASGIHandler, {"app":
fastapi_app})``. The handler streams the request body to the application (it is a
``stream_request_body`` handler: each piece goes to ``receive()`` as it arrives, with
back-pressure) and maps the response messages onto the handler's own output: the status
and headers replace web's defaults, each ``more_body`` piece is ``write`` + ``flush``, and
the last ends the response. The ASGI scope has ``root_path`` set to the prefix and
``path`` the whole path (ASGI's convention, which Starlette's routing and FastAPI's
``root_path`` follow). The prefix is what the rule's last group did not match: the
remainder of the path is captured by the rule's group.

Web computes no ETag for these responses (the mounted application owns its caching).
The mounted application's lifespan is not run: an Application's startup hooks are the
place for shared resources.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar
from urllib.parse import unquote

from squall.asgi._body import BodyChannel
from squall.asgi._types import ASGIApp, Message
from squall.http import StreamClosedError, responses
from squall.web import RequestHandler, stream_request_body

__all__ = ["ASGIHandler", "mount"]

_ASGI = {"version": "3.0", "spec_version": "2.4"}


@stream_request_body
class ASGIHandler(RequestHandler):
    """A RequestHandler running an ASGI application (``initialize(app, root_path=None)``).

    The rule's last group is the path below the mount point: ``root_path`` is what
    precedes it (``/api`` for ``/api/items`` under ``r"/api(/.*)"``), unless given.
    """

    SUPPORTED_METHODS: ClassVar[tuple[str, ...]] = (
        "GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS",
    )  # fmt: skip

    def initialize(self, app: ASGIApp, root_path: str | None = None) -> None:
        """``app``: the ASGI application; ``root_path``: the mount point (see the class)."""
        self.asgi_app = app
        self.root_path = root_path
        self._channel = BodyChannel()
        self._task: asyncio.Task[None] | None = None
        self._status = 0
        self._started = False

    def compute_etag(self) -> None:
        """No ETag (nor 304) computed by web: the mounted application owns its caching."""
        return None

    def prepare(self) -> None:
        """Start the ASGI call as soon as the head is here (the body streams to it)."""
        self._task = asyncio.ensure_future(self._call())

    def data_received(self, chunk: bytes) -> asyncio.Future[None] | None:
        """A piece of the request body, for the application's ``receive()``."""
        return self._channel.feed(chunk)

    def on_connection_close(self) -> None:
        """The client left: the application's ``receive()`` answers ``http.disconnect``."""
        self._channel.client_left()

    async def _serve(self, *args: str | None) -> None:
        self._channel.end()
        assert self._task is not None
        await self._task

    # web calls these by the request's method; every method goes to the ASGI app
    get = head = post = delete = patch = put = options = _serve  # type: ignore[assignment]

    def _scope(self) -> Message:
        request = self.request
        path = request.path
        decoded = unquote(path) if "%" in path else path
        root = self.root_path
        if root is None:
            # path_args are decoded: the prefix is the decoded path less the last group
            rest = (self.path_args[-1] if self.path_args else None) or ""
            root = decoded[: len(decoded) - len(rest)] if decoded.endswith(rest) else decoded
        client = request.remote_ip
        return {
            "type": "http",
            "asgi": _ASGI,
            "http_version": request.version[5:],
            "method": request.method,
            "scheme": request.protocol,
            "path": decoded,
            "raw_path": path.encode("latin-1"),
            "query_string": request.query.encode("latin-1"),
            "root_path": root,
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.get_all()
            ],
            "client": (client, 0) if client else None,
            "server": None,
            "state": {},
        }

    async def _call(self) -> None:
        try:
            await self.asgi_app(self._scope(), self._channel.receive, self._send)
        except Exception:
            if self._started:
                # the status went out: the response can only be cut short
                self._channel.complete()
                raise
            self.clear()
            raise
        finally:
            self._channel.complete()
        if not self._status:
            raise RuntimeError(f"the ASGI application {self.asgi_app!r} sent no response")

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if self._channel._gone:
            raise _ClientGone("the client disconnected")
        if kind == "http.response.start":
            if self._status:
                raise RuntimeError("http.response.start sent twice")
            status = message["status"]
            self._status = status
            self.clear()
            self.clear_header("Content-Type")
            self.clear_header("Server")
            self.set_status(status, None if status in responses else "Unknown")
            for name, value in message.get("headers", ()):
                self.add_header(name.decode("latin-1"), value.decode("latin-1"))
        elif kind == "http.response.body":
            if not self._status:
                raise RuntimeError("http.response.body before http.response.start")
            body = message.get("body", b"")
            if body:
                self.write(body)
            if message.get("more_body", False):
                self._started = True
                try:
                    await self.flush()
                except StreamClosedError:
                    raise _ClientGone("the client disconnected") from None
            else:
                self._channel.complete()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an http scope")


class _ClientGone(OSError):
    """``send()`` after the client left (ASGI asks for an ``OSError``)."""


def mount(prefix: str, app: ASGIApp) -> tuple[str, type[ASGIHandler], dict[str, Any]]:
    """The rule serving ``app`` under ``prefix``: ``Application([mount("/api", api), ...])``.

    ``prefix`` is a literal path (``"/api"``), without a trailing slash; the application
    sees ``root_path = prefix`` and gets every path below it, ``prefix`` itself included.

    Raises:
        ValueError: ``prefix`` does not start with ``/`` or ends with one.
    """
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(f"mount prefix {prefix!r}: start with '/' and end without one")
    return (re.escape(prefix) + r"(/.*)?$", ASGIHandler, {"app": app, "root_path": prefix})
