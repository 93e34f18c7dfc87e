"""重定向: ``self.redirect("/")`` sends the browser to another page.

Run: python examples/redirect.py [--port=9000]

- ``/chongdingxiang``: ``redirect("/")`` — 302 Found, ``Location: /``;
- ``/permanent``: ``redirect("/", permanent=True)`` — 301 Moved Permanently.
"""

from __future__ import annotations

import argparse

import squall.loop
import squall.web


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


class ChongDingXiang(squall.web.RequestHandler):
    def get(self) -> None:
        self.redirect("/")


class Permanent(squall.web.RequestHandler):
    def get(self) -> None:
        self.redirect("/", permanent=True)


# Built at module level (no socket, no loop yet), so that `squall run` can serve it too.
app = squall.web.Application(
    [(r"/", IndexHandler), (r"/chongdingxiang", ChongDingXiang), (r"/permanent", Permanent)]
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    app.listen(args.port)
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
