"""aiohttp's WebSocketResponse: echo + ``!bcast`` broadcast (as ws_squall.py), on uvloop."""

from __future__ import annotations

import argparse

from aiohttp import WSMsgType, web


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    clients: set[web.WebSocketResponse] = set()

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        clients.add(ws)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    if msg.data.startswith("!bcast "):
                        payload = msg.data[7:]
                        for c in list(clients):
                            if not c.closed:
                                await c.send_str(payload)
                    else:
                        await ws.send_str(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await ws.send_bytes(msg.data)
        finally:
            clients.discard(ws)
        return ws

    app = web.Application()
    app.router.add_get("/", echo)
    loop = None
    if args.loop == "uvloop":
        import asyncio

        import uvloop

        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, backlog=4096, loop=loop)


if __name__ == "__main__":
    main()
