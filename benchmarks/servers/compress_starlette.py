"""Starlette with GZipMiddleware on uvicorn (httptools + uvloop): /html and /json, gzip.

``compresslevel=6`` (Starlette's default is 9) so that the level is the one squall and
aiohttp use; ``minimum_size=1024`` as Tornado's.
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compress_bodies import HTML, JSON  # noqa: E402


async def html(request: Request) -> Response:
    return Response(HTML, media_type="text/html")


async def json_route(request: Request) -> Response:
    return Response(JSON, media_type="application/json")


app = Starlette(
    routes=[Route("/html", html), Route("/json", json_route), Route("/", html)],
    middleware=[Middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)],
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
