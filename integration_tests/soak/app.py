"""The soak's server: a small squall.web app, started as its own process by run.py.

Run: python app.py --static-dir DIR --loop asyncio|uvloop

It binds 127.0.0.1 on a port the kernel picks (listen backlog 4096, asked explicitly so the
soak can check the server keeps it), prints one line ``SOAK-READY port=N loop=NAME`` on
stdout, and serves until SIGTERM, then shuts down gracefully. Logging goes to stderr at
WARNING and above in one fixed format (``LEVEL logger: message``) that run.py parses; the
access log (INFO) is below that level, so it costs a level check per request and no I/O.

Routes: ``/hello``, ``/json``, ``/upload`` (buffered body), ``/upload/stream``
(``stream_request_body``), ``/slow`` (sleeps, optionally streams its answer in pieces),
``/static/...`` (squall.static over --static-dir) and ``/_soak/tasks``, a debug route that
only this app has: how many asyncio tasks exist besides the main one and its own, and
how many objects the garbage collector tracks (by type: a leak shows there first).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
import tracemalloc
import zlib
from collections import Counter
from typing import Any

import squall.loop
import squall.web
from squall.http import HTTPServer

BACKLOG = 4096
READ_PIECE = 256 * 1024
TRACEMALLOC_ENV = "SQUALL_SOAK_TRACEMALLOC"

_main_task: asyncio.Task[Any] | None = None


class HelloHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello")


class JSONHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write({"name": "squall", "items": list(range(20)), "ok": True})


class UploadHandler(squall.web.RequestHandler):
    """The whole body is buffered by the server first (spooled to disk past 1 MiB)."""

    def post(self) -> None:
        spool = self.request.body_file
        size = 0
        crc = 0
        if spool is None:
            body = self.request.body
            size, crc = len(body), zlib.crc32(body)
        else:
            # A spooled body is read in pieces, as a careful app would: a 20 MiB bytes
            # object per upload would make the RSS figures measure the app, not squall.
            spool.seek(0)
            while piece := spool.read(READ_PIECE):
                size += len(piece)
                crc = zlib.crc32(piece, crc)
        self.write({"size": size, "crc": crc})


@squall.web.stream_request_body
class StreamUploadHandler(squall.web.RequestHandler):
    """The body arrives piece by piece in ``data_received``; nothing is kept."""

    def prepare(self) -> None:
        self.size = 0
        self.crc = 0

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.crc = zlib.crc32(chunk, self.crc)

    def post(self) -> None:
        self.write({"size": self.size, "crc": self.crc})


class SlowHandler(squall.web.RequestHandler):
    """``?ms=N`` sleeps N ms; ``&pieces=K`` then streams K pieces of 16 KiB, 10 ms apart."""

    async def get(self) -> None:
        ms = int(self.get_query_argument("ms", "100"))
        pieces = int(self.get_query_argument("pieces", "0"))
        await asyncio.sleep(ms / 1000)
        if not pieces:
            self.write("slow")
            return
        for _ in range(pieces):
            self.write(b"s" * 16384)
            await self.flush()
            await asyncio.sleep(0.01)


class TasksHandler(squall.web.RequestHandler):
    """Debug route of the soak only: the asyncio tasks alive besides main and this one."""

    def get(self) -> None:
        others = [
            t
            for t in asyncio.all_tasks()
            if t is not _main_task and t is not asyncio.current_task()
        ]
        # Collected first: cyclic garbage not yet collected is not a leak.
        gc.collect()
        types = Counter(type(o).__name__ for o in gc.get_objects())
        self.write(
            {
                "tasks": len(others),
                "sample": [repr(t)[:200] for t in others[:5]],
                "objects": sum(types.values()),
                "types": dict(types.most_common(12)),
            }
        )


class TraceMallocHandler(squall.web.RequestHandler):
    """Development aid (SQUALL_SOAK_TRACEMALLOC=1): POST takes the baseline snapshot, GET
    answers the 15 source lines whose live allocations grew most since it."""

    baseline: tracemalloc.Snapshot | None = None

    def post(self) -> None:
        gc.collect()
        TraceMallocHandler.baseline = tracemalloc.take_snapshot()
        self.write({"ok": True})

    def get(self) -> None:
        gc.collect()
        if TraceMallocHandler.baseline is None:
            raise squall.web.HTTPError(409, reason="no baseline snapshot")
        diff = tracemalloc.take_snapshot().compare_to(TraceMallocHandler.baseline, "lineno")
        self.write({"top": [str(d) for d in diff[:15]]})


def make_app(static_dir: str) -> squall.web.Application:
    return squall.web.Application(
        [
            (r"/hello", HelloHandler),
            (r"/json", JSONHandler),
            (r"/upload", UploadHandler),
            (r"/upload/stream", StreamUploadHandler),
            (r"/slow", SlowHandler),
            (r"/_soak/tasks", TasksHandler),
            (r"/_soak/tracemalloc", TraceMallocHandler),
        ],
        static_path=static_dir,
    )


async def serve(static_dir: str, loop_name: str) -> None:
    global _main_task
    _main_task = asyncio.current_task()
    sockets = squall.loop.bind_sockets(0, "127.0.0.1", backlog=BACKLOG)
    server = HTTPServer(make_app(static_dir))
    server.add_sockets(sockets)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = sockets[0].getsockname()[1]
    print(f"SOAK-READY port={port} loop={type(loop).__module__}.{type(loop).__name__}", flush=True)
    await stop.wait()
    await server.shutdown(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="squall soak server")
    parser.add_argument("--static-dir", required=True)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), required=True)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if os.environ.get(TRACEMALLOC_ENV):
        tracemalloc.start(4)
    use_uvloop = args.loop == "uvloop"
    with asyncio.Runner(loop_factory=lambda: squall.loop.new_event_loop(use_uvloop)) as runner:
        runner.run(serve(args.static_dir, args.loop))


if __name__ == "__main__":
    main()
