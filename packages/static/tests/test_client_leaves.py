"""A client that leaves during a download is normal: the response ends quietly.

Two moments the soak hit, made deterministic by a handler that waits at the right point:

- gone before the headers: the server already saw the client leave (its ``connection_lost``
  ran) when the handler starts the response;
- reset seen by a failed send: the reset has arrived but the loop has not read it yet, so
  the first send fails and the transport is closing while the handler goes on to
  ``sendfile`` (asyncio's ``loop.sendfile`` then says "Transport is closing").

Each with a plain close (FIN) and a reset (SO_LINGER 0), under asyncio and uvloop; the
log must hold no ERROR record and the server must go on serving.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from squall.static import StaticFileHandler
from squall.web import Application

Serve = Callable[..., str]
SIZE = 8 * 1024 * 1024


class Counted(StaticFileHandler):
    """Counts the requests for big.bin that ended (``on_finish`` ran)."""

    ended: list[str] = []

    def _gated(self) -> bool:
        return self.request.path.endswith("big.bin") and "Range" not in self.request.headers

    def on_finish(self) -> None:
        if self._gated():
            self.ended.append(self.request.path)


class GoneBeforeHeaders(Counted):
    """Starts answering only once the server has noticed that the client left."""

    gone: asyncio.Event

    async def prepare(self) -> None:  # type: ignore[override]
        self.gone = asyncio.Event()
        connection = self.request.connection
        assert connection is not None
        if self._gated() and not connection.closed:
            await asyncio.wait_for(self.gone.wait(), 5)

    def on_connection_close(self) -> None:
        self.gone.set()


class ResetSeenBySend(Counted):
    """Blocks the loop before the headers until the client's close reached our socket.

    The loop has not read that close yet (it is blocked here), so the write of the
    headers is the first to learn of it.
    """

    def flush(self) -> Awaitable[None]:
        connection = self.request.connection
        assert connection is not None
        if self._gated():
            sock = connection.transport.get_extra_info("socket")
            # Readable: the client's FIN or RST has arrived (the request itself was read).
            select.select([sock], [], [], 5)
        return super().flush()


def _leave(url: str, target: str, reset: bool) -> None:
    host, port = url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    if reset:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
@pytest.mark.parametrize("handler", [GoneBeforeHeaders, ResetSeenBySend])
def test_client_leaving_before_or_as_the_download_starts_logs_no_error(
    tmp_path: Path,
    serve: Serve,
    caplog: pytest.LogCaptureFixture,
    handler: type[Counted],
    reset: bool,
    use_uvloop: bool,
) -> None:
    (tmp_path / "big.bin").write_bytes(b"z" * SIZE)
    (tmp_path / "small.txt").write_text("small")
    app = Application([(r"/f/(.*)", handler, {"path": str(tmp_path)})])
    url = serve(app, use_uvloop=use_uvloop)
    with httpx.Client(timeout=10) as client:
        # Known to the file cache from now on: nothing awaits before the response starts.
        assert client.get(url + "/f/big.bin", headers={"Range": "bytes=0-0"}).text == "z"
    handler.ended = []
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            _leave(url, "/f/big.bin", reset)
        deadline = time.monotonic() + 10
        while len(handler.ended) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        with httpx.Client(timeout=10) as client:
            r = client.get(url + "/f/small.txt")  # the server goes on serving
            assert r.status_code == 200 and r.text == "small"
    assert len(handler.ended) == 3  # each response ended (on_finish ran) though cut short
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert not [m for m in warned if "socket.send() raised" in m], warned
