"""uvicorn (httptools + uvloop, no access log) serving an ASGI app of asgi_apps.py."""

from __future__ import annotations

import argparse

import uvicorn
from asgi_apps import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app", choices=["raw", "starlette", "squallweb"], default="raw")
    args = parser.parse_args()
    uvicorn.run(
        load(args.app),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="auto",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
