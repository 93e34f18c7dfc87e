"""The ``websockets`` library's asyncio server: echo + ``!bcast`` (its ``broadcast()``), uvloop.

Compression off (``compression=None``): the client offers none anyway.
"""

from __future__ import annotations

import argparse
import asyncio

from websockets.asyncio.server import ServerConnection, broadcast, serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    clients: set[ServerConnection] = set()

    async def echo(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            async for message in ws:
                if isinstance(message, str) and message.startswith("!bcast "):
                    broadcast(clients, message[7:])
                else:
                    await ws.send(message)
        finally:
            clients.discard(ws)

    async def run() -> None:
        async with serve(
            echo,
            "127.0.0.1",
            args.port,
            compression=None,
            max_size=16 * 1024 * 1024,
            ping_interval=None,
            backlog=4096,
        ):
            await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(run())
    else:
        asyncio.run(run())


if __name__ == "__main__":
    main()
