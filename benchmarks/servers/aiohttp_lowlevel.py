"""aiohttp's low-level server (``web.Server``, no router): "hello word" on every path."""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web


async def hello(request: web.BaseRequest) -> web.Response:
    return web.Response(text="hello word")


async def serve(port: int) -> None:
    runner = web.ServerRunner(web.Server(hello))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
