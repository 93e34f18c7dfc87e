"""Tornado's echo server for the Autobahn comparison run (``run.py --server tornado``).

The same behaviour as squall's examples/websocket_echo.py: every message echoed as it
came, permessage-deflate offered, messages up to 64 MiB, any origin.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import tornado.web
import tornado.websocket


class EchoHandler(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin: str) -> bool:
        return True

    def get_compression_options(self) -> dict[str, Any]:
        return {}

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


async def serve(port: int) -> None:
    app = tornado.web.Application(
        [(r"/.*", EchoHandler)], websocket_max_message_size=64 * 1024 * 1024
    )
    app.listen(port, "127.0.0.1")
    print(f"serving on http://127.0.0.1:{port}/", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9002)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
