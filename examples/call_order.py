"""接口调用顺序: the order in which a RequestHandler's methods are called.

Run: python examples/call_order.py [--port=8000]   then  curl / ;  curl -d x=1 /

Without an error (GET)::          With an error (POST calls send_error(200))::

    set_default_headers()             set_default_headers()
    initialize()                      initialize()
    prepare()                         prepare()
    get()                             post()
    on_finish()                       set_default_headers()
                                      write_error()
                                      on_finish()

``set_default_headers`` runs first because the handler's constructor resets its headers;
``prepare`` runs whatever the HTTP method; ``on_finish`` after the response is sent.
"""

from __future__ import annotations

import argparse
from typing import Any

import squall.loop
import squall.web
from squall.web import RequestHandler


class IndexHandler(RequestHandler):
    def initialize(self) -> None:
        print("调用了initialize()", flush=True)

    # prepare() runs whatever the HTTP method.
    def prepare(self) -> None:
        print("调用了prepare()", flush=True)

    def set_default_headers(self) -> None:
        print("调用了set_default_headers()", flush=True)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        print("调用了write_error()", flush=True)

    def get(self) -> None:
        print("调用了get()", flush=True)

    def post(self) -> None:
        print("调用了post()", flush=True)
        self.send_error(200)  # note: an "error" is sent here

    # Called once the response is finished.
    def on_finish(self) -> None:
        print("调用了on_finish()", flush=True)


# Built at module level (no socket, no loop yet), so that `squall run` can serve it too.
app = squall.web.Application([(r"/", IndexHandler)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    app.listen(args.port)
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
