"""write: output is buffered and sent at the end; a dict is sent as JSON.

Run: python examples/write.py [--port=9000]

- ``/``: three ``write`` calls, one response (数据写到输出缓冲区最后一起发送).
- ``/jsonone``: ``write(dict)`` — JSON, ``Content-Type: application/json; charset=UTF-8``.
- ``/jsontwo``: ``write(json.dumps(dict))`` — the same text, but a str, so
  ``Content-Type: text/html; charset=UTF-8``.

This one starts its server with ``bind`` + ``start()`` as the notes do (one process).
"""

from __future__ import annotations

import json

import squall.http
import squall.loop
import squall.options
import squall.web
from squall.web import RequestHandler

squall.options.define("port", default=9000, type=int)


class IndexHandler(RequestHandler):
    def get(self) -> None:
        self.write("hello itcast 1!")
        self.write("hello itcast 2!")
        self.write("hello itcast 3!")


class JsonOne(squall.web.RequestHandler):
    def get(self) -> None:
        json_data = dict(name="小明", age=24)
        # A dict: write() turns it into a JSON string and sets
        # Content-Type: application/json; charset=UTF-8.
        self.write(json_data)


class JsonTwo(squall.web.RequestHandler):
    def get(self) -> None:
        json_data = dict(name="小明", age=24)
        j = json.dumps(json_data)
        # A str: Content-Type stays text/html; charset=UTF-8.
        self.write(j)


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    return squall.web.Application(
        [(r"/", IndexHandler), (r"/jsonone", JsonOne), (r"/jsontwo", JsonTwo)], debug=True
    )


if __name__ == "__main__":
    squall.options.parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.bind(squall.options.options.port)
    http_server.start()
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
