"""aiohttp's web layer: "hello word" on /, a JSON route on /json, ``--static DIR`` on /static/.

Run with ``web.run_app`` (aiohttp's documented way) on the default asyncio loop.
"""

from __future__ import annotations

import argparse

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello word")


async def json_route(request: web.Request) -> web.Response:
    return web.json_response({"message": "Hello, World!"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--static")
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/json", json_route)
    if args.static:
        app.router.add_static("/static/", args.static)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
