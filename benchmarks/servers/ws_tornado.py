"""Tornado's WebSocketHandler: echo + ``!bcast`` broadcast (as ws_squall.py), on uvloop."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import tornado.web
import tornado.websocket


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    clients: set[Any] = set()

    class Echo(tornado.websocket.WebSocketHandler):
        def check_origin(self, origin: str) -> bool:
            return True

        def open(self) -> None:
            clients.add(self)

        def on_message(self, message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith("!bcast "):
                payload = message[7:]
                for c in list(clients):
                    try:
                        c.write_message(payload)
                    except tornado.websocket.WebSocketClosedError:
                        clients.discard(c)
                return
            self.write_message(message, binary=isinstance(message, bytes))

        def on_close(self) -> None:
            clients.discard(self)

    async def serve() -> None:
        app = tornado.web.Application([(r"/", Echo)], websocket_max_message_size=16 * 1024 * 1024)
        app.listen(args.port, "127.0.0.1", backlog=4096)
        await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
