"""关闭命令行日志, in code: ``options.logging = None`` before ``parse_command_line()``.

Run: python examples/logging_off_in_code.py --port=8000   # no access-log lines

The notes' three lines, as they are::

    from tornado.options import options, parse_command_line
    options.logging = None
    parse_command_line()
"""

from __future__ import annotations

import squall.http
import squall.loop
import squall.web
from squall.options import define, options, parse_command_line

define("port", default=8000, type=int, help="端口号")


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    return squall.web.Application([(r"/", IndexHandler)])


if __name__ == "__main__":
    options.logging = None
    parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.listen(options.port)
    print(f"serving on http://127.0.0.1:{options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
