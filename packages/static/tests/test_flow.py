"""Large downloads respect flow control: a client that stops reading costs no memory and
does not stop the server from answering others; a fast one does not starve them."""

from __future__ import annotations

import resource
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from squall.static import StaticFileHandler
from squall.web import Application

Serve = Callable[..., str]

HUGE = 256 * 1024 * 1024


class NoSendfile(StaticFileHandler):
    """Forces the chunked fallback: the path where forgetting to await would buffer it all."""

    def _connection_sendfile(self) -> None:
        return None


@pytest.fixture
def huge(site: Path) -> Path:
    path = site / "huge.bin"
    with open(path, "wb") as f:
        f.truncate(HUGE)  # sparse: costs no disk, reads as zeros
    return path


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _start_stalled_download(url: str, target: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert s.recv(1024).startswith(b"HTTP/1.1 200")
    return s


@pytest.mark.parametrize("prefix", ["/static/", "/chunks/"])
def test_stalled_download_neither_buffers_nor_blocks(
    site: Path, huge: Path, serve: Serve, prefix: str
) -> None:
    app = Application([(r"/chunks/(.*)", NoSendfile, {"path": str(site)})], static_path=str(site))
    url = serve(app)
    with httpx.Client(timeout=10) as client:
        client.get(url + prefix + "huge.bin", headers={"Range": "bytes=0-0"})  # hash it once
        before = _rss_kib()
        stalled = [_start_stalled_download(url, prefix + "huge.bin") for _ in range(3)]
        try:
            for _ in range(20):
                assert client.get(url + "/static/css/a.css").status_code == 200
            grown = _rss_kib() - before
        finally:
            for s in stalled:
                s.close()
        # three 256 MiB downloads pending: buffering them would add 768 MiB
        assert grown < 64 * 1024, f"RSS grew by {grown} KiB"
        assert client.get(url + "/static/css/a.css").status_code == 200


def test_fast_download_leaves_room_for_others(site: Path, huge: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    received: list[int] = []
    errors: list[BaseException] = []

    def download() -> None:
        try:
            with httpx.Client(timeout=30) as client:
                for _ in range(2):
                    with client.stream("GET", url + "/static/huge.bin") as r:
                        received.append(sum(len(c) for c in r.iter_bytes(1 << 20)))
        except BaseException as exc:
            errors.append(exc)

    with httpx.Client(timeout=10) as client:
        client.get(url + "/static/huge.bin", headers={"Range": "bytes=0-0"})  # hash it once
        thread = threading.Thread(target=download)
        thread.start()
        try:
            statuses = [client.get(url + "/static/css/a.css").status_code for _ in range(50)]
        finally:
            thread.join(60)
    assert statuses == [200] * 50
    assert not errors and received == [HUGE, HUGE]


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
@pytest.mark.parametrize("reset", [True, False], ids=["rst", "fin"])
@pytest.mark.parametrize("prefix", ["/static/", "/chunks/"])
def test_client_leaving_mid_download_is_not_an_error(
    site: Path,
    huge: Path,
    serve: Serve,
    prefix: str,
    reset: bool,
    use_uvloop: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Application([(r"/chunks/(.*)", NoSendfile, {"path": str(site)})], static_path=str(site))
    url = serve(app, use_uvloop=use_uvloop)
    with httpx.Client(timeout=10) as client:
        client.get(url + prefix + "huge.bin", headers={"Range": "bytes=0-0"})  # hash it once
        for _ in range(3):
            s = _start_stalled_download(url, prefix + "huge.bin")
            s.recv(65536)  # read a little
            if reset:
                # RST: the server's next send fails with a reset or broken pipe
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        for _ in range(20):
            assert client.get(url + "/static/css/a.css").status_code == 200
    errors = [r for r in caplog.records if r.levelno >= 40]
    assert errors == [], [r.getMessage() for r in errors]
