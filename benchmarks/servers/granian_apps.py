"""The raw applications Granian serves in run.py's tables (imported by name in its worker).

``rsgi``: Granian's own interface (RSGI), the fastest way to answer on it; ``asgi``: the
same as a bare ASGI callable. Both answer ``hello word`` on ``/`` and
``{"message": "Hello, World!"}`` on ``/json``, encoded with the stdlib's ``json.dumps`` at
each request: the normal JSON path of an application with no framework.
"""

from __future__ import annotations

import json
from typing import Any

HELLO = b"hello word"
TEXT = [("content-type", "text/plain")]
JSON_TYPE = [("content-type", "application/json")]


async def rsgi(scope: Any, proto: Any) -> None:
    """RSGI: Granian reads the status, headers and body straight from this call."""
    if scope.path == "/json":
        proto.response_str(200, JSON_TYPE, json.dumps({"message": "Hello, World!"}))
    else:
        proto.response_bytes(200, TEXT, HELLO)


ASGI_HELLO_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"10")],
}
ASGI_HELLO_BODY = {"type": "http.response.body", "body": HELLO}


async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI callable (no lifespan: Granian goes on without it)."""
    if scope["type"] != "http":
        raise RuntimeError("no lifespan")
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
    else:
        await send(ASGI_HELLO_START)
        await send(ASGI_HELLO_BODY)
