"""Starlette's WebSocket on uvicorn (uvloop, httptools, ``websockets`` protocol): echo +
``!bcast`` broadcast (as ws_squall.py)."""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()


async def echo(ws: WebSocket) -> None:
    await ws.accept()
    clients.add(ws)
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            text = msg.get("text")
            if text is not None:
                if text.startswith("!bcast "):
                    for c in list(clients):
                        try:
                            await c.send_text(text[7:])
                        except (WebSocketDisconnect, RuntimeError):
                            clients.discard(c)
                else:
                    await ws.send_text(text)
            else:
                await ws.send_bytes(msg["bytes"])
    finally:
        clients.discard(ws)


app = Starlette(routes=[WebSocketRoute("/", echo)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["uvloop"], default="uvloop")
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets",
        ws_max_size=16 * 1024 * 1024,
        ws_ping_interval=None,
        ws_per_message_deflate=False,
        access_log=False,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
