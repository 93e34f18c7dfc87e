"""A WebSocket echo server (text and binary, permessage-deflate offered): ws://127.0.0.1:9001/

Run: python examples/websocket_echo.py [--port=9001] [--no-compression]
 or: squall run examples.websocket_echo:app --port 9001   (from the repository's root)

The server the Autobahn|Testsuite fuzzing client and the echo benchmarks talk to: every
message comes back as it came, and messages up to 64 MiB are accepted (Autobahn's section 9
sends up to 16 MiB). Needs squall-websocket installed.
"""

from __future__ import annotations

import argparse
from typing import Any

import squall.loop
import squall.web
from squall.websocket import WebSocketHandler


class EchoHandler(WebSocketHandler):
    compression: dict[str, Any] | None = {}

    def check_origin(self, origin: str) -> bool:
        return True  # a test server: any page may connect

    def get_compression_options(self) -> dict[str, Any] | None:
        return self.compression

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


def make_app(compression: bool = True) -> squall.web.Application:
    """The echo application (``compression=False``: permessage-deflate never agreed)."""
    handler = EchoHandler if compression else type("Plain", (EchoHandler,), {"compression": None})
    return squall.web.Application([(r"/.*", handler)], websocket_max_message_size=64 * 1024 * 1024)


app = make_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()
    make_app(not args.no_compression).listen(args.port, "127.0.0.1")
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
