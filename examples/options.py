"""option: command-line options defined with ``define`` and read from ``options``.

Run:
    python examples/options.py --port=9900 --pppp=a,1,2,3,4
    python examples/options.py --port=sdf --pppp=a,1,2,3,4   # wrong type: error, exit 2
    python examples/options.py --help                        # every option, then exit 0

``define(name, default, type, help, multiple)``: the type converts (and checks) values from
the command line or a config file; without ``type`` it is inferred from ``default``;
``multiple=True`` takes comma-separated values and gives a list.
"""

from __future__ import annotations

import squall.http
import squall.loop
import squall.options
import squall.web

squall.options.define("port", default=8000, type=int, help="哈哈")
squall.options.define("pppp", default=[], type=str, multiple=True)


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    return squall.web.Application([(r"/", IndexHandler)])


if __name__ == "__main__":
    squall.options.parse_command_line()
    print(squall.options.options.port, flush=True)
    print(squall.options.options.pppp, flush=True)
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
