"""The limit for a Python server: a bare asyncio Protocol that answers every request head.

Every ``\\r\\n\\r\\n`` seen gets a fixed response (an 80-byte head plus "hello word"): no
parsing, no routing, no Date header. Nothing a real server does can be faster on this loop.
With ``--json`` the fixed body is ``{"message":"Hello, World!"}`` (the JSON table's limit).
"""

from __future__ import annotations

import argparse
import asyncio

BODY = b"hello word"
# Exactly 80 bytes, as in the anchors.
HEAD = b"HTTP/1.1 200 OK\r\nServer: limit\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n"
assert len(HEAD) == 80
RESPONSE = HEAD + BODY
JSON_BODY = b'{"message":"Hello, World!"}'
JSON_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: limit\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(JSON_BODY) + JSON_BODY
)


class Limit(asyncio.Protocol):
    """Counts request heads in the byte stream and answers each with RESPONSE."""

    response = RESPONSE

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data
        n = buf.count(b"\r\n\r\n")
        if n:
            assert self.transport is not None
            self.transport.write(self.response * n)
            buf = buf[buf.rfind(b"\r\n\r\n") + 4 :]
        self.buf = buf


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Limit, "127.0.0.1", port, backlog=2048)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--json", action="store_true", help="answer with the JSON body")
    args = parser.parse_args()
    if args.json:
        Limit.response = JSON_RESPONSE
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve(args.port))
    else:
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
