"""httpserver: the same hello world, with the HTTPServer that ``app.listen()`` hides.

Run: python examples/httpserver.py [--port=8000]

``app.listen(8000)`` is shorthand for the three lines in ``main`` (the notes: 相当于简写).
"""

from __future__ import annotations

import argparse

import squall.http
import squall.loop
import squall.web


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


# Built at module level (no socket, no loop yet), so that `squall run` can serve it too.
app = squall.web.Application([(r"/", IndexHandler)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    http_server = squall.http.HTTPServer(app)
    http_server.listen(args.port)
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
