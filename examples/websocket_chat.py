"""A chat room: a page with a little JavaScript, and a WebSocket every browser tab joins.

Run: python examples/websocket_chat.py [--port=8888]   then open http://127.0.0.1:8888/
 or: squall run examples.websocket_chat:app --port 8888   (from the repository's root)

Each message a tab sends is broadcast to every open tab as JSON ``{"text": ...}``;
``write_message`` to a tab that is gone is skipped. Needs squall-websocket installed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import squall.loop
import squall.web
from squall.websocket import WebSocketClosedError, WebSocketHandler

PAGE = Path(__file__).with_name("websocket_chat.html")


class PageHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.write(PAGE.read_bytes())


class ChatHandler(WebSocketHandler):
    def initialize(self, room: set[ChatHandler]) -> None:
        self.room = room

    def open(self) -> None:
        self.room.add(self)

    def on_message(self, message: str | bytes) -> None:
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        for member in list(self.room):
            try:
                member.write_message({"text": text[:1000]})
            except WebSocketClosedError:
                self.room.discard(member)

    def on_close(self) -> None:
        self.room.discard(self)


def make_app(**settings: Any) -> squall.web.Application:
    """The chat application; each one has its own room."""
    room: set[ChatHandler] = set()
    return squall.web.Application(
        [(r"/", PageHandler), (r"/chat", ChatHandler, {"room": room})],
        websocket_max_message_size=64 * 1024,
        **settings,
    )


app = make_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args()
    app.listen(args.port, "127.0.0.1")
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
