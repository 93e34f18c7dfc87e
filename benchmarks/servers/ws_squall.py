"""squall.websocket echo + broadcast server for benchmarks/websocket.py.

``/`` echoes every message (text as text, binary as binary); a text message starting with
``!bcast `` sends the rest to every open WebSocket instead. No compression (the client
offers none). ``--loop uvloop`` (default) or ``asyncio``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    if args.loop == "asyncio":
        os.environ["SQUALL_NO_UVLOOP"] = "1"

    import squall.web
    from squall.websocket import WebSocketClosedError, WebSocketHandler

    clients: set[Any] = set()

    class Echo(WebSocketHandler):  # type: ignore[misc]
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
                    except WebSocketClosedError:
                        clients.discard(c)
                return
            self.write_message(message, binary=isinstance(message, bytes))

        def on_close(self) -> None:
            clients.discard(self)

    app = squall.web.Application([(r"/", Echo)], websocket_max_message_size=16 * 1024 * 1024)

    async def serve() -> None:
        app.listen(args.port, "127.0.0.1", backlog=4096)
        await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
