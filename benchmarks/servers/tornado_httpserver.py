"""Tornado's HTTPServer with a plain callback (no web layer): "hello word" on every path."""

from __future__ import annotations

import argparse
import asyncio

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine

START = ResponseStartLine("HTTP/1.1", 200, "OK")
BODY = b"hello word"


def hello(request: HTTPServerRequest) -> None:
    headers = HTTPHeaders({"Content-Type": "text/plain", "Content-Length": str(len(BODY))})
    assert request.connection is not None
    request.connection.write_headers(START, headers, BODY)
    request.connection.finish()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    async def serve() -> None:
        server = HTTPServer(hello)
        server.listen(args.port, "127.0.0.1")
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
