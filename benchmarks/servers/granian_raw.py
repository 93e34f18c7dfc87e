"""Granian (Rust HTTP server; one worker, uvloop, its defaults otherwise) serving a raw app.

``--interface rsgi`` serves ``granian_apps:rsgi`` (Granian's own interface), ``--interface
asgi`` serves ``granian_apps:asgi``. Granian answers from a worker process: run.py sums the
CPU of the whole process tree.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from granian import Granian


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interface", choices=["rsgi", "asgi"], default="rsgi")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parent)
    # The worker process imports granian_apps by name.
    os.environ["PYTHONPATH"] = here + os.pathsep + os.environ.get("PYTHONPATH", "")
    Granian(
        f"granian_apps:{args.interface}",
        address="127.0.0.1",
        port=args.port,
        interface=args.interface,
        workers=1,
        loop="uvloop",
        log_access=False,
        log_level="warning",
        working_dir=Path(here),
    ).serve()


if __name__ == "__main__":
    main()
