"""The applications of benchmarks/asgi.py: "hello word" on / as a raw ASGI callable, as
Starlette, and as a squall.web Application through squall.asgi.to_asgi."""

from __future__ import annotations

from typing import Any

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"10")],
}
BODY = {"type": "http.response.body", "body": b"hello word"}


async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError("no lifespan")  # servers then go on without it
    await send(START)
    await send(BODY)


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello word")

    return Starlette(routes=[Route("/", hello)])


def _squallweb() -> Any:
    import squall.web
    from squall.asgi import to_asgi

    class Hello(squall.web.RequestHandler):
        def get(self) -> None:
            self.write("hello word")

    return to_asgi(squall.web.Application([(r"/", Hello)]))


def load(name: str) -> Any:
    """The application called ``name``: raw, starlette or squallweb."""
    return {"raw": lambda: raw, "starlette": _starlette, "squallweb": _squallweb}[name]()


def __getattr__(name: str) -> Any:  # `asgi_apps:starlette` for servers that import by name
    if name in ("starlette", "squallweb"):
        return load(name)
    raise AttributeError(name)
