"""HTTPConnection.sendfile counts what it really sent: a short file closes the connection."""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from squall.http import HTTPServerRequest, StreamClosedError

REQUEST = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


def _no_native_sendfile(st: Any) -> None:
    """Make the server's loop lack sendfile, as uvloop does: os.sendfile is used."""

    async def refuse(*args: Any, **kwargs: Any) -> int:
        raise NotImplementedError

    st.loop.sendfile = refuse


def _split(raw: bytes) -> tuple[bytes, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize(
    "native",
    [True, False, "uvloop", "chunks"],
    ids=["loop.sendfile", "os.sendfile", "uvloop", "chunks"],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_count_larger_than_the_file_closes_the_connection(
    serve: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    native: bool | str,
    chunked: bool,
) -> None:
    path = tmp_path / "small.bin"
    path.write_bytes(b"x" * 1000)
    outcome: list[str] = []

    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        conn.write_headers(200, [] if chunked else [("Content-Length", "5000")])
        # An in-memory file has no fd: it is read and written in chunks.
        with io.BytesIO(path.read_bytes()) if native == "chunks" else open(path, "rb") as f:
            try:
                await conn.sendfile(f, 0, 5000)
            except StreamClosedError as exc:
                outcome.append(f"raised: {exc}")
        conn.finish()  # raises StreamClosedError (closed), which the server logs at debug

    st = serve(app, use_uvloop=native == "uvloop")
    if native is False or native == "chunks":
        _no_native_sendfile(st)
    with caplog.at_level(logging.WARNING, logger="squall.http"), st.connect() as sock:
        sock.sendall(REQUEST + REQUEST)  # a second request that must not be answered
        raw = st.read_until_close(sock)
    head, body = _split(raw)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert raw.count(b"HTTP/1.1 ") == 1
    if chunked:
        assert body == b"1388\r\n" + b"x" * 1000  # no chunk end, no last chunk
    else:
        assert body == b"x" * 1000
    assert outcome == ["raised: the file ended after 1000 of 5000 bytes"]
    assert any("sendfile sent 1000 of 5000 bytes" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_file_truncated_while_being_sent_closes_the_connection(
    serve: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, use_uvloop: bool
) -> None:
    size = 32 * 1024 * 1024  # far more than the socket buffers hold: the send must wait
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.truncate(size)
    sending = threading.Event()
    outcome: list[str] = []

    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        conn.write_headers(200, [("Content-Length", str(size))])
        with open(path, "rb") as f:
            sending.set()
            try:
                await conn.sendfile(f, 0, size)
                outcome.append("sent")
            except StreamClosedError:
                outcome.append("short")
        conn.finish()

    st = serve(app, use_uvloop=use_uvloop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    with caplog.at_level(logging.WARNING, logger="squall.http"), sock:
        sock.settimeout(10)
        sock.connect(("127.0.0.1", st.port))
        sock.sendall(REQUEST)
        assert sending.wait(5)
        os.truncate(path, 1024 * 1024)  # while the client is not reading yet
        raw = st.read_until_close(sock)
    head, body = _split(raw)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert 1024 * 1024 <= len(body) < size  # short, and the server closed rather than wait
    st.call(lambda: None)
    assert outcome == ["short"]
    assert any(f"of {size} bytes (the file ended early)" in r.getMessage() for r in caplog.records)


def test_whole_file_sent_keeps_the_connection(serve: Any, tmp_path: Path) -> None:
    path = tmp_path / "ok.bin"
    path.write_bytes(b"y" * 3000)

    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        conn.write_headers(200, [("Content-Length", "3000")])
        with open(path, "rb") as f:
            await conn.sendfile(f)
        conn.finish()

    st = serve(app)
    with st.connect() as sock:
        buf = bytearray()
        for _ in range(2):
            sock.sendall(REQUEST)
            assert st.read_response(sock, buf).body == b"y" * 3000
