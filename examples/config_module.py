"""配置文件 (推荐这种方式): ``import config`` and use ``config.port``.

Run: python examples/config_module.py [--port=N]

``config.py`` beside this script holds ``port = 8800``; ``--port`` overrides it (so the
tests can pick a free port), otherwise the server listens on ``config.port``.
"""

from __future__ import annotations

import argparse

import config  # examples/config.py

import squall.http
import squall.loop
import squall.web


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


# Built at module level (no socket, no loop yet), so that `squall run` can serve it too.
app = squall.web.Application([(r"/", IndexHandler)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=config.port)
    args = parser.parse_args()
    print(args.port, flush=True)
    http_server = squall.http.HTTPServer(app)
    http_server.listen(args.port)
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()
