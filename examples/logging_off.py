"""关闭命令行日志: the access log, on by default, turned off with ``--logging=none``.

Run:
    python examples/logging_off.py --port=8000                  # one log line per request
    python examples/logging_off.py --port=8000 --logging=none   # no log lines at all

``parse_command_line()`` sets up logging (to stderr) from the ``--logging`` option that
squall.options defines; ``none`` leaves logging unconfigured. See logging_off_in_code.py
for the same switch made in code (``options.logging = None``).
"""

from __future__ import annotations

import squall.http
import squall.loop
import squall.options
import squall.web

squall.options.define("port", default=8000, type=int, help="端口号")


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    return squall.web.Application([(r"/", IndexHandler)])


if __name__ == "__main__":
    squall.options.parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
