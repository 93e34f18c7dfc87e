"""The examples as ASGI applications, for test_asgi_servers.py (uvicorn, Hypercorn, Granian).

``module:attribute`` targets for the servers' command lines: each is ``squall.asgi.to_asgi``
of an example's Application (its module-level ``app`` or its ``make_app()`` factory), plus
``features``: streamed output, a streamed request body, the client's address and scheme,
and a startup hook (run by the servers' lifespan).
"""

from __future__ import annotations

from typing import Any

import examples.hello
import examples.write
import squall.web
from squall.asgi import to_asgi


class Started:
    """A plugin whose startup hook marks the application (the lifespan runs it)."""

    @squall.web.hookimpl
    def squall_web_startup(self, app: squall.web.Application) -> Any:
        app.settings["started_by"] = "lifespan"


class Info(squall.web.RequestHandler):
    def get(self) -> None:
        self.write(
            {
                "started": self.settings.get("started_by"),
                "ip": self.request.remote_ip,
                "protocol": self.request.protocol,
                "version": self.request.version,
                "uri": self.request.uri,
            }
        )


class Pieces(squall.web.RequestHandler):
    async def get(self) -> None:
        for i in range(4):
            self.write(f"piece{i}\n")
            await self.flush()


@squall.web.stream_request_body
class Count(squall.web.RequestHandler):
    def prepare(self) -> None:
        self.pieces = 0
        self.size = 0

    def data_received(self, chunk: bytes) -> None:
        self.pieces += 1
        self.size += len(chunk)

    def put(self) -> None:
        self.write({"pieces": self.pieces, "size": self.size})


hello = to_asgi(examples.hello.app)
write = to_asgi(examples.write.make_app())
features = to_asgi(
    squall.web.Application(
        [(r"/info", Info), (r"/pieces", Pieces), (r"/count", Count)],
        plugins=[Started()],
    )
)
