"""The Python work of one request, without sockets: requests fed to squall.http's protocol.

    python benchmarks/inprocess.py http|web|json|asgi [--requests N] [--loop uvloop|asyncio]

``GET /`` (``/json`` for ``json``) is fed to the protocol's ``data_received`` over a fake
transport that drops what is written (no system calls, no wrk), on ten connections, after
a warm-up; the CPU time (``time.process_time``) of N requests is measured five times and
the minimum and median per request are printed. ``http`` is squall.http with a plain
callable (the floor), ``web`` and ``json`` the routes of servers/squall_web.py,
``asgi`` ASGIServer with the raw ASGI hello of servers/asgi_apps.py. Pin it
(``taskset -c 1``) and compare builds in one sitting: the figure is for A/B and profiles
(benchmarks/README.md), never a claim about a real server. Nothing here is asserted by a
test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "servers"))

CONNECTIONS = 10
WARMUP = 2000


class NullTransport(asyncio.Transport):
    """A transport that counts writes and drops them."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self._closing = False

    def write(self, data: Any) -> None:
        self.writes += 1

    def writelines(self, list_of_data: Any) -> None:
        self.writes += 1

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 80)}.get(name, default)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def make_server(kind: str) -> Any:
    """The server of ``kind`` (not listening: its protocol is driven by hand)."""
    if kind == "asgi":
        from asgi_apps import raw

        from squall.asgi import ASGIServer

        return ASGIServer(raw)
    from squall.http import HTTPServer

    if kind == "http":

        def app(request: Any) -> None:
            request.connection.respond(200, [("Content-Type", "text/plain")], b"hello word")

        return HTTPServer(app)
    import squall.web

    class IndexHandler(squall.web.RequestHandler):  # type: ignore[misc]
        def get(self) -> None:
            self.write("hello word")

    class JsonHandler(squall.web.RequestHandler):  # type: ignore[misc]
        def get(self) -> None:
            self.write({"message": "Hello, World!"})

    return HTTPServer(squall.web.Application([(r"/", IndexHandler), (r"/json", JsonHandler)]))


async def measure(server: Any, request: bytes, count: int) -> float:
    """CPU µs per request of ``count`` requests spread over CONNECTIONS connections."""
    from squall.http._protocol import protocol_class

    loop = asyncio.get_running_loop()
    cls = protocol_class(loop)
    conns = []
    for _ in range(CONNECTIONS):
        proto = cls(server._ctx, loop)
        transport = NullTransport()
        proto.connection_made(transport)
        conns.append((proto, transport))
    for _ in range(WARMUP // CONNECTIONS):
        for proto, _transport in conns:
            proto.data_received(request)
        await asyncio.sleep(0)
    start = time.process_time()
    for _ in range(count // CONNECTIONS):
        for proto, _transport in conns:
            proto.data_received(request)
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    elapsed = time.process_time() - start
    answered = sum(t.writes for _p, t in conns)
    if answered < count:
        raise SystemExit(f"error: {answered} responses for {count + WARMUP} requests")
    for proto, _transport in conns:
        proto.connection_lost(None)
    return elapsed / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=["http", "web", "json", "asgi"])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = parser.parse_args()
    path = "/json" if args.kind == "json" else "/"
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".encode()
    server = make_server(args.kind)

    async def run() -> list[float]:
        if hasattr(server, "startup"):
            await server.startup()
        return [await measure(server, request, args.requests) for _ in range(5)]

    if args.loop == "uvloop":
        import uvloop

        results = uvloop.run(run())
    else:
        results = asyncio.run(run())
    print(
        f"{args.kind} ({args.loop}): min {min(results):.2f} µs, "
        f"median {statistics.median(results):.2f} µs of CPU per request"
    )


if __name__ == "__main__":
    main()
