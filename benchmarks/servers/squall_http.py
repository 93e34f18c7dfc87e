"""squall.http alone: HTTPServer with a plain callable.

It answers ``{"message": "Hello, World!"}`` (the stdlib's ``json.dumps`` at each request) on
``/json`` and "hello word" on every other path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

HEADERS = [("Content-Type", "text/plain")]
JSON_HEADERS = [("Content-Type", "application/json")]


def hello(request: Any) -> None:
    """The plain-callable contract of docs/interfaces.md: answer through the connection."""
    if request.path == "/json":
        body = json.dumps({"message": "Hello, World!"}).encode()
        request.connection.respond(200, JSON_HEADERS, body)
    else:
        request.connection.respond(200, HEADERS, b"hello word")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    if args.loop == "asyncio":
        # Before squall is imported, so that nothing in it picks uvloop behind our back.
        os.environ["SQUALL_NO_UVLOOP"] = "1"
    import squall.http
    from squall.http import HTTPServer

    if os.environ.get("SQUALL_BENCH_COMPILED") == "1" and not squall.http.compiled():
        sys.exit("error: this row measures the mypyc build, but squall.http here is pure Python")

    async def serve() -> None:
        server = HTTPServer(hello)
        server.listen(args.port, "127.0.0.1")
        await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
