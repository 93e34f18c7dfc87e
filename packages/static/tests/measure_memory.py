"""Measure the server's memory while it serves a 1 GiB static file (not a test: a script).

Usage (from the repository root, in a venv holding squall-loop/http/web/static and httpx)::

    python packages/static/tests/measure_memory.py [--size-mib 1024] [--keep-file DIR]

It writes a file of ``--size-mib`` MiB (real blocks, not sparse), starts a squall server in
a subprocess serving it twice — through ``StaticFileHandler`` as configured by
``static_path`` (``connection.sendfile``) and through a subclass that streams in chunks
(the fallback path) — and downloads each once with httpx in streaming mode, sampling the
server's VmRSS every 20 ms. It prints RSS before the download, the peak during it and RSS
after it. The server process is killed by PID at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import httpx

SERVER = textwrap.dedent(
    """
    import sys
    from squall.loop import IOLoop
    from squall.static import StaticFileHandler
    from squall.web import Application

    class Chunked(StaticFileHandler):
        def _connection_sendfile(self):
            return None

    root, port = sys.argv[1], int(sys.argv[2])
    app = Application([(r"/chunks/(.*)", Chunked, {"path": root})], static_path=root)
    app.listen(port, "127.0.0.1")
    print("ready", flush=True)
    IOLoop.current().start()
    """
)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_file(path: str, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(block)


def download(url: str, pid: int) -> tuple[int, int, int, int, float]:
    """Return (bytes received, RSS before, peak RSS during, RSS after, seconds)."""
    before = rss_kib(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.monotonic()
    received = 0
    try:
        with httpx.Client(timeout=120) as client, client.stream("GET", url) as r:
            r.raise_for_status()
            for chunk in r.iter_raw(1 << 20):
                received += len(chunk)
    finally:
        done.set()
        sampler.join()
    elapsed = time.monotonic() - start
    time.sleep(0.5)
    return received, before, peak[0], rss_kib(pid), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--keep-file", help="folder for the big file (default: a temp dir)")
    args = parser.parse_args()
    size = args.size_mib << 20
    with tempfile.TemporaryDirectory(dir=args.keep_file) as root:
        path = os.path.join(root, "big.bin")
        write_file(path, size)
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, root, str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            base = f"http://127.0.0.1:{port}"
            # First request hashes the file (ETag) in the executor; not part of the figures.
            httpx.get(base + "/static/big.bin", headers={"Range": "bytes=0-0"}, timeout=120)
            print(f"python {sys.version.split()[0]}, file {size >> 20} MiB")
            print("path                    received MiB  RSS before  peak during  after  MB/s")
            for label, target in (
                ("sendfile (/static/)", "/static/big.bin"),
                ("chunked (/chunks/)", "/chunks/big.bin"),
            ):
                got, before, peak, after, secs = download(base + target, proc.pid)
                assert got == size, (got, size)
                print(
                    f"{label:<22} {got >> 20:>13}  {before / 1024:>8.1f} MiB"
                    f" {peak / 1024:>8.1f} MiB {after / 1024:>6.1f} MiB"
                    f" {size / secs / 1e6:>6.0f}"
                )
        finally:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


if __name__ == "__main__":
    main()
