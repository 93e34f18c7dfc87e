"""Compressed responses (squall-compress): Tornado's ``compress_response=True``, plus Brotli
and Zstandard, and a page streamed in parts whose every part reaches the browser at once.

Run: python examples/compressed.py [--port=8000] [--encodings=gzip,br,zstd]
Then open http://127.0.0.1:8000/ (a 20 KiB page), /stream (three flushes) and /data (JSON);
the browser's developer tools show the ``Content-Encoding`` it got.
"""

from __future__ import annotations

import argparse
import asyncio

import squall.loop
import squall.web

ROWS = "".join(
    f"<tr><td>{i}</td><td>row {i} of the compressed page</td></tr>\n" for i in range(400)
)
PAGE = (
    "<!doctype html><html><head><title>compressed</title></head><body>"
    f"<h1 id='title'>compressed page</h1><table>{ROWS}</table>"
    "<p id='end'>end of the compressed page</p></body></html>"
)


class Page(squall.web.RequestHandler):
    def get(self) -> None:
        print("accept-encoding", self.request.path, self.request.headers.get("Accept-Encoding"))
        self.write(PAGE)


class Stream(squall.web.RequestHandler):
    async def get(self) -> None:
        self.write("<!doctype html><html><body><p id='one'>first part</p>")
        await self.flush()  # compressed and sync-flushed: the browser can show it now
        await asyncio.sleep(0.05)
        self.write("<p id='two'>second part</p>")
        await self.flush()
        self.finish("<p id='three'>last part</p></body></html>")


class Data(squall.web.RequestHandler):
    def get(self) -> None:
        self.write({"rows": [{"id": i, "name": f"row {i}"} for i in range(2000)]})


def make_app(encodings: list[str] | None = None) -> squall.web.Application:
    """The application, compressing with ``encodings`` (None: every installed one)."""
    return squall.web.Application(
        [(r"/", Page), (r"/stream", Stream), (r"/data", Data)],
        compress_response=True,
        compress_encodings=encodings,
    )


app = make_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--encodings", default="", help="comma-separated, preferred first")
    args = parser.parse_args()
    encodings = [e for e in args.encodings.split(",") if e] or None
    make_app(encodings).listen(args.port, "127.0.0.1")
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
