"""Measure the memory a large multipart upload costs when fed through BodyCollector.

Not a test (no ``test_`` prefix, so pytest does not collect it): a measurement to run by
hand, because peak RSS depends on the machine. It builds a synthetic ``multipart/form-data``
stream carrying one file of ``--size-mib`` MiB (default 1024), feeds it to a
`BodyCollector` in ``--chunk`` byte pieces (default 64 KiB) without ever holding the whole
body, and prints the process's peak RSS (``resource.getrusage``) before and after::

    python packages/http/tests/measure_upload_memory.py [--size-mib 1024] [--chunk 65536]

The raw body and the file are both spooled to temporary files (``TMPDIR``), so it needs
about twice ``--size-mib`` of free disk space; both are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Iterator

from squall.http._body import BodyCollector
from squall.http._headers import HTTPHeaders
from squall.http._limits import HTTPLimits

BOUNDARY = b"----squallMeasureBoundary7MA4YWxkTrZu0gW"


def peak_rss_mib() -> float:
    """The process's peak resident set size so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def stream(size: int, chunk: int) -> Iterator[bytes]:
    """The multipart body, generated piece by piece (one reused block of file content)."""
    yield (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\n1 GiB\r\n'
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="upload"; '
        b'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    block = (bytes(range(256)) * (chunk // 256 + 1))[:chunk]
    sent = 0
    while sent < size:
        piece = block if size - sent >= chunk else block[: size - sent]
        sent += len(piece)
        yield piece
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk", type=int, default=64 * 1024)
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    limits = HTTPLimits(max_body_size=size + 1024 * 1024)  # spool_threshold: default 1 MiB
    headers = HTTPHeaders(
        {"Content-Type": "multipart/form-data; boundary=" + BOUNDARY.decode("ascii")}
    )
    collector = BodyCollector(headers, limits)
    before = peak_rss_mib()
    print(f"python {sys.version.split()[0]}, {args.size_mib} MiB upload, {args.chunk} B chunks")
    print(f"peak RSS before: {before:.1f} MiB")
    started = time.perf_counter()
    fed = 0
    for piece in stream(size, args.chunk):
        collector.feed(piece)
        fed += len(piece)
    parsed = collector.finish()
    elapsed = time.perf_counter() - started
    after = peak_rss_mib()
    (upload,) = parsed.files["upload"]
    assert upload.path is not None and os.path.getsize(upload.path) == size
    print(f"fed {fed / 2**20:.1f} MiB in {elapsed:.1f} s ({fed / 2**20 / elapsed:.0f} MiB/s)")
    print(
        f"file spooled to {upload.path} ({upload.size} bytes), raw body spooled: "
        f"{parsed.spool is not None}"
    )
    print(f"peak RSS after:  {after:.1f} MiB  (growth {after - before:.1f} MiB)")
    parsed.close()


if __name__ == "__main__":
    main()
