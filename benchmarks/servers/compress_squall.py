"""squall.web with squall-compress: /html (20 KiB page) and /json (100 KiB), compressed.

``--encodings`` limits the codings offered; the client's Accept-Encoding picks among them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compress_bodies import HTML, JSON  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--off", action="store_true", help="compression off (the baseline)")
    args = parser.parse_args()

    import squall.web

    class Html(squall.web.RequestHandler):  # type: ignore[misc]
        def get(self) -> None:
            self.write(HTML)

    class Json(squall.web.RequestHandler):  # type: ignore[misc]
        def get(self) -> None:
            self.set_header("Content-Type", "application/json")
            self.write(JSON)

    app = squall.web.Application(
        [(r"/html", Html), (r"/json", Json), (r"/", Html)],
        compress_response=not args.off,
    )

    async def serve() -> None:
        app.listen(args.port, "127.0.0.1")
        await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
