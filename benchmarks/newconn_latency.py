"""New-connection latency of squall.http under a load of large downloads and pipelining.

The soak of issue 21 saw new connections wait about 1 s (median) under uvloop against
0.25 s under asyncio. This measures that one thing, in isolation, for each loop:

- a squall.http server (pinned to CPU 1) answers ``/hello`` with ``respond`` and ``/big``
  (a file of ``--file-mib`` MiB) with ``write_headers`` + ``sendfile``;
- wrk (pinned to CPU 0) downloads ``/big`` over ``--downloads`` keep-alive connections and
  sends pipelined ``/hello`` requests (16 per write) over ``--pipelined`` connections;
- meanwhile ``--probes`` threads each open a new connection every ``--interval`` seconds
  and time connect + ``GET /hello`` + the whole answer.

Run: ``python benchmarks/newconn_latency.py [--loops asyncio,uvloop] [--seconds 10]``.
Prints, per loop, the probes' median, p90, p99 and worst latency and what wrk completed.
Every process started is ended by its PID in a ``finally``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PIPELINE_LUA = """
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/hello") end
  req = table.concat(r)
end
request = function() return req end
"""

UPLOAD_LUA = """
wrk.method = "POST"
wrk.body = string.rep("u", %d)
wrk.headers["Content-Type"] = "application/octet-stream"
"""


def serve(port: int, loop_name: str, path: str) -> None:
    """The server process: /hello answered at once, anything else sends the file."""
    if loop_name == "asyncio":
        os.environ["SQUALL_NO_UVLOOP"] = "1"
    import asyncio

    from squall.http import HTTPServer

    size = os.path.getsize(path)
    head = [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]

    async def send_file(request: Any) -> None:
        conn = request.connection
        conn.write_headers(200, head)
        with open(path, "rb") as f:
            await conn.sendfile(f, 0, size)
        conn.finish()

    def app(request: Any) -> Any:
        if request.method == "POST":
            request.connection.respond(200, [], b"%d" % len(request.body))
            return None
        if request.path == "/hello":
            request.connection.respond(200, [("Content-Type", "text/plain")], b"hello")
            return None
        return send_file(request)

    async def main() -> None:
        server = HTTPServer(app)
        server.listen(port, "127.0.0.1")
        await asyncio.Event().wait()

    if loop_name == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def _probe(port: int, interval: float, until: float, out: list[float], errors: list[str]) -> None:
    request = b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(request)
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
            if not data.endswith(b"hello"):
                errors.append(f"bad answer {data[:60]!r}")
            out.append(time.perf_counter() - start)
        except OSError as exc:
            errors.append(repr(exc))
        time.sleep(interval)


def _wrk_total(output: str) -> str:
    m = re.search(r"(\d+) requests in ([\d.]+)s, ([\d.]+\w+) read", output)
    return f"{m.group(1)} responses, {m.group(3)}" if m else output.strip()[-200:]


def measure(loop_name: str, args: argparse.Namespace, path: str, tmp: Path) -> None:
    port = _free_port()
    procs: list[subprocess.Popen[str]] = []
    try:
        server = subprocess.Popen(
            ["taskset", "-c", "1", sys.executable, __file__, "--serve", str(port), loop_name, path],
            start_new_session=True,
            text=True,
        )
        procs.append(server)
        _wait_ready(port)
        lua = tmp / "pipeline.lua"
        lua.write_text(PIPELINE_LUA)
        up = tmp / "upload.lua"
        up.write_text(UPLOAD_LUA % (args.upload_mib * 1024 * 1024))
        idle = []
        for _ in range(args.idle):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            idle.append(s)
        for s in idle:
            s.recv(4096)
        secs = f"{int(args.seconds) + 1}s"
        base = f"http://127.0.0.1:{port}"
        wrks = []
        for extra in (
            [f"-c{args.downloads}", f"{base}/big"],
            [f"-c{args.pipelined}", "-s", str(lua), f"{base}/hello"],
            [f"-c{args.uploads}", "-s", str(up), f"{base}/up"],
        ):
            if extra[0] == "-c0":
                continue
            cmd = ["taskset", "-c", "0", "wrk", "-t1", "-d", secs, "--timeout", "30s", *extra]
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
            procs.append(p)
            wrks.append(p)
        time.sleep(0.5)  # the load is on
        lat: list[float] = []
        errors: list[str] = []
        until = time.monotonic() + args.seconds - 0.5
        threads = [
            threading.Thread(target=_probe, args=(port, args.interval, until, lat, errors))
            for _ in range(args.probes)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outputs = [p.communicate(timeout=60)[0] for p in wrks]
        lat.sort()

        def q(x: float) -> float:
            return lat[min(len(lat) - 1, int(x * len(lat)))] * 1000

        print(
            f"{loop_name:8} probes {len(lat):4}  median {statistics.median(lat) * 1000:7.1f} ms"
            f"  p90 {q(0.9):7.1f}  p99 {q(0.99):7.1f}  worst {lat[-1] * 1000:7.1f} ms"
            f"  errors {len(errors)}"
        )
        print("         " + "; ".join(_wrk_total(o) for o in outputs))
        for s in idle:
            s.close()
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--downloads", type=int, default=8, help="wrk connections on /big")
    parser.add_argument("--pipelined", type=int, default=32, help="wrk connections, /hello x16")
    parser.add_argument("--probes", type=int, default=4, help="threads opening connections")
    parser.add_argument("--interval", type=float, default=0.05, help="pause between probes")
    parser.add_argument("--file-mib", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=0, help="wrk connections POSTing")
    parser.add_argument("--upload-mib", type=int, default=4)
    parser.add_argument("--idle", type=int, default=0, help="idle keep-alive connections")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = tmp / "big.bin"
        with open(path, "wb") as f:
            f.write(os.urandom(1024 * 1024) * args.file_mib)
        for loop_name in args.loops.split(","):
            measure(loop_name, args, str(path), tmp)


if __name__ == "__main__":
    main()
