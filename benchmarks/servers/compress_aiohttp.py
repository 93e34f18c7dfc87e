"""aiohttp.web with ``Response.enable_compression()``: /html and /json, gzip (or what the
client accepts that aiohttp offers). Run with ``web.run_app`` on the default asyncio loop.

aiohttp compresses bodies over 1 KiB in a thread of its executor: the process's CPU time
counts that thread too.
"""

from __future__ import annotations

import argparse
import os
import sys

from aiohttp import web

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compress_bodies import HTML, JSON  # noqa: E402


async def html(request: web.Request) -> web.Response:
    resp = web.Response(body=HTML, content_type="text/html")
    resp.enable_compression()
    return resp


async def json_route(request: web.Request) -> web.Response:
    resp = web.Response(body=JSON, content_type="application/json")
    resp.enable_compression()
    return resp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/html", html)
    app.router.add_get("/json", json_route)
    app.router.add_get("/", html)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
