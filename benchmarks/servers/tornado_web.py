"""Tornado's web layer: "hello word" on /, a JSON route on /json (as squall_web.py).

``--routes N`` serves exactly N literal routes ``/route/0`` … ``/route/N-1``; ``--static DIR``
sets ``static_path`` (StaticFileHandler on ``/static/…``). Run as Tornado 6 documents it:
``asyncio.run(main())`` on the default asyncio loop, or ``--loop uvloop``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import tornado.web


class IndexHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


class JsonHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write({"message": "Hello, World!"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--routes", type=int, default=0)
    parser.add_argument("--static")
    args = parser.parse_args()
    handlers: list[Any]
    if args.routes:
        handlers = [(f"/route/{i}", IndexHandler) for i in range(args.routes)]
    else:
        handlers = [(r"/", IndexHandler), (r"/json", JsonHandler)]
    settings: dict[str, Any] = {}
    if args.static:
        settings["static_path"] = args.static
    app = tornado.web.Application(handlers, **settings)

    async def serve() -> None:
        app.listen(args.port, "127.0.0.1")
        await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
