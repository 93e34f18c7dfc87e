"""HTTPConnection.sendfile under uvloop: os.sendfile on the transport's socket (zero-copy).

uvloop's loop has no ``sendfile``; squall then writes the file with ``os.sendfile`` on the
socket of a plain TCP transport, waiting (without polling) while the socket is full. These
tests use files larger than the socket buffers so that the waits really happen.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

from squall.http import HTTPServerRequest, StreamClosedError

pytest.importorskip("uvloop")

SIZE = 8 * 1024 * 1024  # more than loopback's socket buffers hold together


@pytest.fixture(scope="module")
def data() -> bytes:
    return random.Random(6).randbytes(SIZE)  # no period: a shifted byte cannot go unseen


@pytest.fixture
def big(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    return path


def _file_app(
    path: Path,
    offset: int,
    count: int | None,
    chunked: bool,
    outcome: list[str],
    on_start: Callable[[Any], None] | None = None,
    prefix: bytes = b"",
    in_memory: bool = False,
) -> Any:
    """``/small`` answers at once; any other path sends the file region with sendfile.

    ``prefix`` is written (and not awaited) before: it is still in the transport's buffer
    when sendfile starts. ``in_memory`` sends a BytesIO copy of the file (the copying path).
    """
    length = len(prefix) + ((path.stat().st_size - offset) if count is None else count)

    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        if request.path == "/small":
            conn.respond(200, [], b"small")
            return
        conn.write_headers(200, [] if chunked else [("Content-Length", str(length))])
        if on_start is not None:
            on_start(conn)
        if prefix:
            conn.write(prefix)
        with io.BytesIO(path.read_bytes()) if in_memory else open(path, "rb") as f:
            try:
                await conn.sendfile(f, offset, count)
            except StreamClosedError:
                outcome.append("closed")
                return
            outcome.append(f"sent, file at {f.tell()}")
        conn.finish()

    return app


def _client(st: Any, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", st.port))
    return sock


def _recv_exactly(sock: socket.socket, buf: bytearray, n: int, piece: int) -> bytes:
    while len(buf) < n:
        data = sock.recv(piece)
        if not data:
            raise EOFError(f"closed after {len(buf)} of {n} bytes")
        buf += data
    out = bytes(buf[:n])
    del buf[:n]
    return out


def _read_file_response(
    sock: socket.socket, length: int, chunked: bool, piece: int = 65536
) -> tuple[bytes, bytes]:
    """Read one response of ``length`` body bytes; return (head, body after de-framing)."""
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        assert data, "closed before the head"
        buf += data
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    buf[:] = rest
    if not chunked:
        return head, _recv_exactly(sock, buf, length, piece)
    size_line = b"%x\r\n" % length
    framed = _recv_exactly(sock, buf, len(size_line) + length + 2 + 5, piece)
    assert framed.startswith(size_line)
    assert framed.endswith(b"\r\n0\r\n\r\n")
    assert not buf
    return head, framed[len(size_line) : -7]


def _small_request(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /small HTTP/1.1\r\nHost: t\r\n\r\n")
    buf = bytearray()
    while not buf.endswith(b"small"):
        data = sock.recv(4096)
        assert data, "closed"
        buf += data
    return bytes(buf)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("reader", ["fast", "slow"])
def test_large_file_arrives_byte_exact(
    serve: Any, big: Path, data: bytes, chunked: bool, reader: str
) -> None:
    outcome: list[str] = []
    st = serve(_file_app(big, 0, None, chunked, outcome), use_uvloop=True)
    slow = reader == "slow"
    with _client(st, 32 * 1024 if slow else None) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        if slow:
            time.sleep(0.2)  # both socket buffers fill up: the server must wait (EAGAIN)
        head, body = _read_file_response(sock, SIZE, chunked, 8192 if slow else 65536)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert body == data
        # The connection is still in step: the next response follows the file exactly.
        assert _small_request(sock).startswith(b"HTTP/1.1 200 ")
    assert outcome == [f"sent, file at {SIZE}"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    ("offset", "count"),
    [(100, 1000), (12345, 5 * 1024 * 1024), (SIZE - 3 * 1024 * 1024 - 7, None), (SIZE - 1, 1)],
    ids=["small-region", "large-region", "to-the-end", "last-byte"],
)
def test_offset_and_count_select_the_region(
    serve: Any, big: Path, data: bytes, chunked: bool, offset: int, count: int | None
) -> None:
    outcome: list[str] = []
    st = serve(_file_app(big, offset, count, chunked, outcome), use_uvloop=True)
    end = SIZE if count is None else offset + count
    with _client(st) as sock:
        for _ in range(2):  # twice on one connection: keep-alive after a region
            sock.sendall(b"GET /region HTTP/1.1\r\nHost: t\r\n\r\n")
            _, body = _read_file_response(sock, end - offset, chunked)
            assert body == data[offset:end]
    assert _wait_for(lambda: st.call(lambda: list(outcome)) == [f"sent, file at {end}"] * 2)


def test_bytes_never_wait_in_the_transport_buffer_and_others_are_served(
    serve: Any, big: Path, data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The copying fallback would queue 256 KiB pieces in the transport whenever the client
    # is slower than the server; zero-copy leaves the bytes in the file until the socket
    # takes them. Sampled from the server's loop during a stalled download.
    samples: list[int] = []
    calls: list[str] = []
    real_sendfile = os.sendfile

    def counting_sendfile(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        try:
            n = real_sendfile(out_fd, in_fd, offset, count)
        except BlockingIOError:
            calls.append("EAGAIN")
            raise
        calls.append("sent")
        return n

    monkeypatch.setattr(os, "sendfile", counting_sendfile)

    def on_start(conn: Any) -> None:
        loop = asyncio.get_running_loop()
        transport = conn.transport

        def sample() -> None:
            if not conn.finished and not conn.closed:
                samples.append(transport.get_write_buffer_size())
                loop.call_later(0.005, sample)

        loop.call_soon(sample)

    outcome: list[str] = []
    st = serve(_file_app(big, 0, None, False, outcome, on_start), use_uvloop=True)
    with _client(st, 32 * 1024) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.3)  # not reading: the server waits for the socket
        with st.connect() as other:  # meanwhile another connection is answered at once
            assert _small_request(other).startswith(b"HTTP/1.1 200 ")
        stalled_calls = len(calls)
        _, body = _read_file_response(sock, SIZE, False, 8192)
    assert body == data
    assert _wait_for(lambda: st.call(lambda: list(outcome)) == [f"sent, file at {SIZE}"])
    assert "EAGAIN" in calls and "sent" in calls  # os.sendfile did the work, and waited
    assert stalled_calls < 50  # waiting on the socket, not retrying in a loop
    assert len(samples) > 10  # sampled while the download was stalled
    assert max(samples) == 0


def test_file_bytes_never_overtake_bytes_queued_in_the_transport(
    serve: Any, big: Path, data: bytes
) -> None:
    # A streamed prefix larger than the socket buffers is still in the transport when
    # sendfile starts: os.sendfile may only write once the transport has sent it all.
    prefix = random.Random(7).randbytes(4 * 1024 * 1024)
    outcome: list[str] = []
    st = serve(_file_app(big, 0, None, True, outcome, prefix=prefix), use_uvloop=True)
    with _client(st, 32 * 1024) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.2)
        buf = bytearray()
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(4096)
        _, _, rest = bytes(buf).partition(b"\r\n\r\n")
        buf[:] = rest
        expected = b"%x\r\n%b\r\n%x\r\n%b\r\n0\r\n\r\n" % (len(prefix), prefix, SIZE, data)
        assert _recv_exactly(sock, buf, len(expected), 8192) == expected
    assert _wait_for(lambda: st.call(lambda: list(outcome)) == [f"sent, file at {SIZE}"])


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts fds in /proc")
@pytest.mark.parametrize("in_memory", [False, True], ids=["zero-copy", "copying"])
def test_peer_leaving_mid_transfer_raises_stream_closed_and_leaks_no_fd(
    serve: Any, tmp_path: Path, in_memory: bool
) -> None:
    path = tmp_path / "huge.bin"
    with open(path, "wb") as f:
        f.truncate(32 * 1024 * 1024)
    outcome: list[str] = []
    started = threading.Event()
    app = _file_app(path, 0, None, False, outcome, lambda c: started.set(), in_memory=in_memory)
    st = serve(app, use_uvloop=True)
    baseline = _open_fds()
    sock = _client(st, 32 * 1024)
    try:
        sock.sendall(b"GET /huge HTTP/1.1\r\nHost: t\r\n\r\n")
        assert started.wait(5)
        sock.recv(65536)  # a little of it, then go with the rest unread (a reset)
    finally:
        sock.close()
    assert _wait_for(lambda: st.call(lambda: list(outcome)) == ["closed"]), outcome
    assert _wait_for(lambda: _open_fds() == baseline), (_open_fds(), baseline)
    with st.connect() as other:  # the server goes on serving
        assert _small_request(other).startswith(b"HTTP/1.1 200 ")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_tls_under_uvloop_copies_through_the_tls_layer(
    serve: Any, big: Path, data: bytes, ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The raw socket of a TLS transport is reachable too: os.sendfile on it would send the
    # file unencrypted. It must never be used there.
    calls: list[int] = []
    real_sendfile = os.sendfile

    def counting_sendfile(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        calls.append(count)
        return real_sendfile(out_fd, in_fd, offset, count)

    monkeypatch.setattr(os, "sendfile", counting_sendfile)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    outcome: list[str] = []
    st = serve(_file_app(big, 0, None, True, outcome), use_uvloop=True, ssl_options=server_ctx)
    with (
        socket.create_connection(("127.0.0.1", st.port), timeout=10) as raw,
        client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
    ):
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        _, body = _read_file_response(sock, SIZE, True)
        assert body == data
    assert _wait_for(lambda: st.call(lambda: list(outcome)) == [f"sent, file at {SIZE}"])
    assert calls == []


class _QueueingTransport:
    """A plain transport stand-in whose write buffer holds ``queued`` until ``flush()``.

    With a real socket uvloop flushes its buffer before our writability callback runs, so
    a missing wait could go unseen; here the socket has room while bytes are queued.
    """

    def __init__(self, proto: _Proto, sock: socket.socket, queued: bytes) -> None:
        self.proto = proto
        self.sock = sock
        self.queued = queued
        self.limits = (64 * 1024, 256 * 1024)

    def get_extra_info(self, name: str) -> Any:
        return self.sock if name == "socket" else None

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return len(self.queued)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.limits

    def set_write_buffer_limits(self, high: int, low: int) -> None:
        self.limits = (low, high)
        if len(self.queued) > high:
            self.proto._write_paused = True

    def flush(self) -> None:
        self.sock.sendall(self.queued)
        self.queued = b""
        self.proto._write_paused = False
        waiters, self.proto._drain_waiters = self.proto._drain_waiters or [], None
        for fut in waiters:
            fut.set_result(None)


class _Proto:
    """A SendfileOwner: what zero_copy uses of a connection."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] | None = None
        self._transport: Any = None

    def _drain(self) -> asyncio.Future[None]:
        if self._write_paused:
            return self._released()
        fut = self._loop.create_future()
        fut.set_result(None)
        return fut

    def _released(self) -> asyncio.Future[None]:
        fut = self._loop.create_future()
        self._drain_waiters = [*(self._drain_waiters or []), fut]
        return fut

    def _close(self) -> None:
        self._closed = True


def test_zero_copy_waits_until_the_transport_buffer_is_empty(big: Path, data: bytes) -> None:
    from squall.http._zerocopy import zero_copy

    async def main() -> bytes:
        a, b = socket.socketpair()
        with a, b, open(big, "rb") as f:
            a.setblocking(False)
            proto = _Proto()
            transport = _QueueingTransport(proto, a, b"queued first")
            proto._transport = transport
            received = bytearray()

            async def read() -> None:
                loop = asyncio.get_running_loop()
                while len(received) < 12 + 1000:
                    received.extend(await loop.sock_recv(b, 65536))

            b.setblocking(False)
            reader = asyncio.ensure_future(read())
            copy = zero_copy(proto, a.fileno(), f.fileno(), 0, 1000)
            sender = asyncio.ensure_future(copy)
            await asyncio.sleep(0.05)
            assert not sender.done()  # waiting for the queued bytes, socket free or not
            transport.flush()
            assert await asyncio.wait_for(sender, 5) == (1000, True)
            await asyncio.wait_for(reader, 5)
            assert transport.limits == (64 * 1024, 256 * 1024)  # put back after the wait
            return bytes(received)

    assert asyncio.run(main()) == b"queued first" + data[:1000]
