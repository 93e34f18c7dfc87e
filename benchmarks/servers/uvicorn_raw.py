"""uvicorn running a raw ASGI callable, its production setup: httptools + uvloop, no access log.

"hello word" on every path but ``/json``, which answers ``{"message": "Hello, World!"}``
encoded with the stdlib's ``json.dumps`` at each request.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import uvicorn

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"10")],
}
BODY = {"type": "http.response.body", "body": b"hello word"}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["path"] == "/json":
        body = json.dumps({"message": "Hello, World!"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    await send(START)
    await send(BODY)


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
        lifespan="off",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
