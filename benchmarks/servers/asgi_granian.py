"""Granian (ASGI interface, one worker, uvloop) serving an ASGI app of asgi_apps.py."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from granian import Granian


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app", choices=["raw", "starlette"], default="raw")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parent)
    # the worker process imports asgi_apps by name
    os.environ["PYTHONPATH"] = here + os.pathsep + os.environ.get("PYTHONPATH", "")
    Granian(
        f"asgi_apps:{args.app}",
        address="127.0.0.1",
        port=args.port,
        interface="asgi",
        workers=1,
        loop="uvloop",
        log_access=False,
        working_dir=Path(here),
    ).serve()


if __name__ == "__main__":
    main()
