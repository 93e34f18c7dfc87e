"""过程 (the first snippet of the notes): hello world on http://127.0.0.1:8000/.

Run: python examples/hello.py [--port=8000]
"""

from __future__ import annotations

import sys

import squall.loop
import squall.web


class IndexHandler(squall.web.RequestHandler):
    # A method the handler does not define (POST here) is answered with 405.
    def get(self) -> None:
        self.write("hello word")


def main(argv: list[str]) -> None:
    port = 8000
    for arg in argv:
        if arg.startswith("--port="):
            port = int(arg.split("=", 1)[1])
    app = squall.web.Application([(r"/", IndexHandler)])
    app.listen(port, "127.0.0.1")
    print(f"serving on http://127.0.0.1:{port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main(sys.argv[1:])
