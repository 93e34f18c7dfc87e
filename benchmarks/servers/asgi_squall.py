"""squall.asgi.ASGIServer (squall.http) serving an ASGI app of asgi_apps.py."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from asgi_apps import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app", choices=["raw", "starlette"], default="raw")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    if args.loop == "asyncio":
        os.environ["SQUALL_NO_UVLOOP"] = "1"
    import squall.http
    from squall.asgi import ASGIServer

    if os.environ.get("SQUALL_BENCH_COMPILED") == "1" and not squall.http.compiled():
        sys.exit("error: this row measures the mypyc build, but squall.http here is pure Python")

    async def serve() -> None:
        server = ASGIServer(load(args.app))
        server.listen(args.port, "127.0.0.1")
        await server.startup()
        await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
