"""路由映射: rules as tuples, ``initialize`` keyword arguments, named rules, ``reverse_url``.

Run: python examples/routing.py [--port=N]   (default: config.port, from examples/config.py)

- ``(r"/show", Show, {"op": "这是一个字典"})``: the dict goes to ``Show.initialize(op=...)``.
- ``url(r"/cc", Change, name="python_url")``: a named rule; ``self.reverse_url("python_url")``
  gives back its path, ``/cc``.
"""

from __future__ import annotations

import config  # examples/config.py: port = 8800

import squall.http
import squall.loop
import squall.options
import squall.web
from squall.web import RequestHandler, url

squall.options.define("port", default=config.port, type=int, help="端口号")


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello")


class Show(squall.web.RequestHandler):
    def initialize(self, op: str) -> None:
        self.op = op

    def get(self) -> None:
        self.write(self.op)


class Change(RequestHandler):
    def get(self) -> None:
        # RequestHandler.reverse_url(name) gives the URL of the rule of that name.
        python_url = self.reverse_url("python_url")
        self.write("%s" % python_url)  # noqa: UP031 - as in the notes


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    # name gives the rule a name, for reverse_url.
    return squall.web.Application(
        [
            (r"/", IndexHandler),
            (r"/show", Show, {"op": "这是一个字典"}),
            url(r"/cc", Change, name="python_url"),
        ],
        debug=True,
    )


if __name__ == "__main__":
    squall.options.parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    # The notes listen on config.port; --port (default config.port) lets it be changed.
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
