"""A chat room: a page with a little JavaScript, and a WebSocket every browser tab joins.

Run: python examples/websocket_chat.py [--port=8888]   then open http://127.0.0.1:8888/
 or: squall run examples.websocket_chat:app --port 8888   (from the repository's root)

Each tab picks a name; each message it sends (JSON ``{"name": ..., "text": ...}``; plain
text counts as from "anonymous") is broadcast to every open tab as JSON ``{"name": ...,
"text": ...}``; ``write_message`` to a tab that is gone is skipped. Needs squall-websocket
installed.
"""

from __future__ import annotations

import argparse
import json
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
        name, text = parse_message(message)
        for member in list(self.room):
            try:
                member.write_message({"name": name, "text": text})
            except WebSocketClosedError:
                self.room.discard(member)

    def on_close(self) -> None:
        self.room.discard(self)


def parse_message(message: str | bytes) -> tuple[str, str]:
    """The (name, text) a tab sent: JSON with both as strings, else anonymous plain text."""
    raw = message if isinstance(message, str) else message.decode("utf-8", "replace")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        name = data.get("name")
        name = name.strip()[:40] if isinstance(name, str) else ""
        return name or "anonymous", data["text"][:1000]
    return "anonymous", raw[:1000]


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
