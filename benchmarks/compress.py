"""Compressed responses: bytes on the wire, req/s and server CPU per request, per coding.

squall-compress (gzip, br, zstd) beside Starlette's ``GZipMiddleware`` and aiohttp's
``enable_compression()`` (gzip), serving the same ~20 KiB HTML page and ~100 KiB JSON body
(``servers/compress_bodies.py``), all at gzip level 6. ``squall (off)`` is the same squall
app without compression: the cost of compressing is the difference.

    python benchmarks/compress.py                       # 5 s per run, 10 connections
    python benchmarks/compress.py --duration 3 --servers squall,starlette

Servers are pinned to CPU 1 and wrk to CPU 0 (see harness.py); "CPU µs/req" is the server
process's CPU time (its threads included: aiohttp compresses in an executor thread) divided
by the requests wrk completed. squall and aiohttp run on plain asyncio, Starlette on uvicorn
with uvloop and httptools (each as it is usually deployed).
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import time
from pathlib import Path

from harness import BenchError, Harness, Running, ServerSpec, check_tools, raise_nofile_limit

SERVERS = [
    ServerSpec("squall", "squall-compress", "compress_squall.py", ["--loop", "asyncio"]),
    ServerSpec("squall-off", "squall (off)", "compress_squall.py", ["--loop", "asyncio", "--off"]),
    ServerSpec("starlette", "Starlette GZipMiddleware", "compress_starlette.py"),
    ServerSpec("aiohttp", "aiohttp enable_compression", "compress_aiohttp.py"),
]
PATHS = ["/html", "/json"]
CODINGS = ["identity", "gzip", "br", "zstd"]


def wire(server: Running, path: str, coding: str) -> tuple[str, int]:
    """The Content-Encoding a server answers ``coding`` with, and the body's bytes on the wire."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        headers = {} if coding == "identity" else {"Accept-Encoding": coding}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()  # http.client removes chunking, never the content coding
        if resp.status != 200:
            raise BenchError(f"{server.label} GET {path}: {resp.status}")
        return resp.getheader("Content-Encoding", "identity"), len(body)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/compress.py", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--conns", type=int, default=10)
    p.add_argument("--servers", default=",".join(s.id for s in SERVERS))
    args = p.parse_args(argv)
    tools = check_tools(need_nginx=False)
    raise_nofile_limit()
    wanted = set(args.servers.split(","))
    specs = [s for s in SERVERS if s.id in wanted]
    rows: list[tuple[str, str, str, int, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="squall-compress-bench-") as tmp:
        harness = Harness(Path(tmp), tools)
        try:
            servers = harness.start_all(specs, [("/html", b"<table>")])
            for server in servers:
                if server.failed:
                    continue
                for path in PATHS:
                    for coding in CODINGS:
                        answered, size = wire(server, path, coding)
                        if answered != coding:
                            continue  # this server does not offer the coding
                        headers = [] if coding == "identity" else [f"Accept-Encoding: {coding}"]
                        harness.wrk(server, path, args.conns, args.warmup, headers)
                        r = harness.wrk(server, path, args.conns, args.duration, headers)
                        if r.non2xx:
                            raise BenchError(f"{server.label} {path} {coding}: errors\n{r.raw}")
                        rows.append((server.label, path, coding, size, r.rps, r.cpu_us_per_req))
                        time.sleep(0.5)
        except BenchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        finally:
            harness.close()
    base = {
        (path, coding): cpu
        for label, path, coding, _s, _r, cpu in rows
        if label == "squall-compress"
    }
    print(f"\nwrk -c{args.conns}, {args.duration:g} s per run; CPU = server CPU µs per request\n")
    print("| server | path | coding | body bytes | req/s | CPU µs/req | CPU vs squall-compress |")
    print("|---|---|---|---|---|---|---|")
    for label, path, coding, size, rps, cpu in rows:
        ref = base.get((path, coding))
        ratio = f"{cpu / ref:.2f}x" if ref else "—"
        print(f"| {label} | {path} | {coding} | {size:,} | {rps:,.0f} | {cpu:.0f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
