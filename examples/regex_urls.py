"""正则提取url: parts of the path captured by the rule's regex, passed to the method.

Run: python examples/regex_urls.py [--port=9000]

- ``/show/(?P<name1>.+)/(?P<name2>[a-z]+)``: named groups become keyword arguments (the
  notes recommend naming them: ?P<...> 参数推荐起名字);
- ``/check/(.+)/([a-z]+)``: unnamed groups become positional arguments.

Both handlers print what they received (percent-decoded) and answer 200 with no body.
"""

from __future__ import annotations

import squall.http
import squall.loop
import squall.options
import squall.web

squall.options.define("port", default=9000, type=int, help="端口")


class Show(squall.web.RequestHandler):
    def get(self, name1: str, name2: str) -> None:
        print(name1, flush=True)
        print(name2, flush=True)


class Check(squall.web.RequestHandler):
    def get(self, op1: str, op2: str) -> None:
        print(op1, flush=True)
        print(op2, flush=True)


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    return squall.web.Application(
        [(r"/show/(?P<name1>.+)/(?P<name2>[a-z]+)", Show), (r"/check/(.+)/([a-z]+)", Check)],
        debug=True,
    )


if __name__ == "__main__":
    squall.options.parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
