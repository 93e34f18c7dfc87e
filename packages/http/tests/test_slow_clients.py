"""Slow-client attacks over real sockets: each ends with a 408 or a close, never a hold.

Timeouts are set small so that each attack runs in about a second; the tests check what
the server does (answers 408, closes), not how long it took. Every client loop has its
own bound, so a server that fails to cut the client fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import time
from typing import Any

import pytest

from squall.http import HTTPLimits, HTTPServer, HTTPServerRequest

LOOPS = pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
POST = b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"


def _trickle(sock: socket.socket, piece: bytes, every: float, bound: float) -> bytes:
    """Send ``piece`` every ``every`` seconds until the server answers or closes.

    Returns what the server sent (b"" for a silent close); fails past ``bound`` seconds.
    """
    sock.settimeout(every)
    start = time.monotonic()
    while time.monotonic() - start < bound:
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return b""
        if not data:
            return b""
        sock.settimeout(2)
        try:
            while more := sock.recv(65536):
                data += more
        except (TimeoutError, ConnectionResetError):
            pass
        return data
    raise AssertionError(f"the server still held the connection after {bound} s")


def _wait_for_body_reading(sock: socket.socket) -> None:
    """Give the server time to read the head (nothing to observe: the body is awaited)."""
    sock.settimeout(0.3)
    try:
        assert sock.recv(1) == b"", "the server answered before the body came"
    except TimeoutError:
        pass


@LOOPS
def test_trickled_head_is_cut_by_header_timeout(serve: Any, use_uvloop: bool) -> None:
    st = serve(use_uvloop=use_uvloop, header_timeout=0.5)
    with st.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        # Progress does not extend the head's deadline (slowloris).
        answer = _trickle(sock, b"X-A: b\r\n", every=0.05, bound=10)
    assert answer.startswith(b"HTTP/1.1 408 ")


@LOOPS
def test_stalled_head_is_answered_408(serve: Any, use_uvloop: bool) -> None:
    st = serve(use_uvloop=use_uvloop, header_timeout=0.3)
    with st.connect(timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Stall")
        assert st.read_until_close(sock).startswith(b"HTTP/1.1 408 ")


@LOOPS
def test_trickled_head_is_cut_by_a_lower_idle_connection_timeout(
    serve: Any, use_uvloop: bool
) -> None:
    # A ported Tornado app sets idle_connection_timeout to a few seconds and expects the
    # head bounded by it; header_timeout (60 s here) must not let the client stay longer.
    st = serve(use_uvloop=use_uvloop, idle_connection_timeout=0.5, header_timeout=60)
    with st.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        answer = _trickle(sock, b"X-A: b\r\n", every=0.05, bound=10)
    assert answer.startswith(b"HTTP/1.1 408 ")


@LOOPS
def test_trickled_body_is_cut_by_the_minimum_rate(
    serve: Any, use_uvloop: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # One byte every 0.1 s: always inside body_timeout (1 s), so only the rate can end it.
    st = serve(use_uvloop=use_uvloop, body_timeout=1.0, body_min_rate=100, body_min_rate_grace=0.5)
    with caplog.at_level(logging.WARNING, logger="squall.http"), st.connect() as sock:
        sock.sendall(POST)
        answer = _trickle(sock, b"x", every=0.1, bound=15)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert any("slower than 100 bytes/s" in r.getMessage() for r in caplog.records)


@LOOPS
def test_a_fast_start_does_not_buy_a_trickle_for_hours(
    serve: Any, use_uvloop: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # 50,000 bytes at once is 500 s of credit at 100 bytes/s; then one byte every 0.2 s,
    # always inside body_timeout (1 s). The credit banked is capped at the grace (0.5 s),
    # so the trickle is cut by the rate in seconds, not after 500 s.
    st = serve(use_uvloop=use_uvloop, body_timeout=1.0, body_min_rate=100, body_min_rate_grace=0.5)
    with caplog.at_level(logging.WARNING, logger="squall.http"), st.connect() as sock:
        sock.sendall(POST)
        # After the head is read: bytes that arrive with the head are not counted.
        _wait_for_body_reading(sock)
        sock.sendall(b"z" * 50_000)
        answer = _trickle(sock, b"x", every=0.2, bound=15)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert any("slower than 100 bytes/s" in r.getMessage() for r in caplog.records)


@LOOPS
def test_stalled_body_is_answered_408(serve: Any, use_uvloop: bool) -> None:
    st = serve(use_uvloop=use_uvloop, body_timeout=0.3, body_min_rate=None)
    with st.connect(timeout=10) as sock:
        sock.sendall(POST + b"abc")
        assert st.read_until_close(sock).startswith(b"HTTP/1.1 408 ")


@LOOPS
def test_a_body_at_a_fair_rate_is_not_cut(serve: Any, use_uvloop: bool) -> None:
    # 1,000 bytes/s against a floor of 200 for 2.5 s: well past the 1 s grace period,
    # still served. The credit a client banks is capped at the grace period, so the grace
    # is what a stall of this sending thread may eat: with 0.2 s, a busy machine that
    # kept it from running for half a second got it cut (seen once in a loaded run).
    st = serve(use_uvloop=use_uvloop, body_min_rate=200, body_min_rate_grace=1.0)
    with st.connect(timeout=10) as sock:
        sock.sendall(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 2500\r\n\r\n")
        for _ in range(50):
            sock.sendall(b"y" * 50)
            time.sleep(0.05)
        buf = bytearray()
        assert st.read_response(sock, buf).body == b"POST /up 2500 0 0"


@LOOPS
def test_a_streaming_handler_that_pauses_reading_does_not_make_the_client_slow(
    serve: Any, use_uvloop: bool
) -> None:
    # The handler takes 1.5 s over the first piece (longer than body_timeout, and than
    # the grace period): that pause is the server's, so the client is not cut when it
    # sends the rest just after the handler resumed.
    class Delegate:
        stream_body = True

        def __init__(self, conn: Any) -> None:
            self.conn = conn
            self.size = 0
            self.pieces = 0

        def headers_received(self, request: HTTPServerRequest) -> None:
            pass

        async def _slowly(self) -> None:
            await asyncio.sleep(1.5)

        def data_received(self, chunk: bytes) -> Any:
            self.size += len(chunk)
            self.pieces += 1
            return self._slowly() if self.pieces == 1 else None

        def finish(self) -> None:
            self.conn.respond(200, [], b"%d" % self.size)

        def on_connection_close(self) -> None:
            pass

    class Factory:
        def start_request(self, conn: Any) -> Delegate:
            return Delegate(conn)

    st = serve(
        Factory(),
        use_uvloop=use_uvloop,
        body_timeout=1.0,
        body_min_rate=1000,
        body_min_rate_grace=0.5,
    )
    with st.connect(timeout=10) as sock:
        sock.sendall(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n")
        sock.sendall(b"a" * 1000)
        time.sleep(1.8)  # the handler resumed 0.3 s ago
        sock.sendall(b"b" * 1000)
        buf = bytearray()
        response = st.read_response(sock, buf)
    assert (response.status, response.body) == (200, b"2000")


@LOOPS
def test_a_thousand_idle_connections_neither_block_a_new_client_nor_stay_open(
    serve: Any, use_uvloop: bool
) -> None:
    # 1,000 client sockets and 1,000 server ends live in this one process.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 4096:
        wanted = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    st = serve(use_uvloop=use_uvloop, idle_connection_timeout=1.0)
    idle = [socket.create_connection(("127.0.0.1", st.port), timeout=10) for _ in range(1000)]
    try:
        # The server stays responsive to a new client while the thousand sit there.
        with st.connect(timeout=5) as sock:
            sock.sendall(b"GET /new HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            assert st.read_until_close(sock).startswith(b"HTTP/1.1 200 ")
        # Then each of them is closed by the idle timeout (no 408: nothing was asked).
        for sock in idle:
            assert sock.recv(1) == b""
        deadline = time.monotonic() + 10
        while st.call(lambda: st.server.connections) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert st.call(lambda: st.server.connections) == 0
    finally:
        for sock in idle:
            sock.close()


@LOOPS
def test_a_fast_upload_reads_a_bounded_amount_per_turn_of_the_loop(
    serve: Any, use_uvloop: bool
) -> None:
    # uvloop reads a ready socket up to 32 times per event: without a bound one fast
    # upload had the loop to itself for megabytes while new connections waited.
    size = 64 * 1024 * 1024
    received = [0]
    per_turn: list[int] = []

    class Delegate:
        stream_body = True

        def __init__(self, conn: Any) -> None:
            self.conn = conn

        def headers_received(self, request: HTTPServerRequest) -> None:
            loop = asyncio.get_running_loop()
            last = [0]

            def tick() -> None:  # runs once per turn of the loop until the body is in
                per_turn.append(received[0] - last[0])
                last[0] = received[0]
                if received[0] < size:
                    loop.call_soon(tick)

            loop.call_soon(tick)

        def data_received(self, chunk: bytes) -> None:
            received[0] += len(chunk)

        def finish(self) -> None:
            self.conn.respond(200, [], b"%d" % received[0])

        def on_connection_close(self) -> None:
            pass

    class Factory:
        def start_request(self, conn: Any) -> Delegate:
            return Delegate(conn)

    st = serve(Factory(), use_uvloop=use_uvloop)
    block = b"u" * (1024 * 1024)
    with st.connect(timeout=30) as sock:
        sock.sendall(b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
        for _ in range(size // len(block)):
            sock.sendall(block)
        response = st.read_response(sock, bytearray())
    assert (response.status, response.body) == (200, b"%d" % size)
    assert max(per_turn) <= 512 * 1024, sorted(per_turn)[-5:]


@pytest.mark.parametrize(
    ("field", "value"),
    [("body_min_rate", 0), ("body_min_rate", -5), ("body_min_rate", "500"),
     ("body_min_rate_grace", -1), ("body_min_rate_grace", None)],
)  # fmt: skip
def test_a_minimum_rate_squall_cannot_honour_is_refused_by_name(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        HTTPServer(lambda request: None, **{field: value})
    with pytest.raises(ValueError, match=field):
        HTTPLimits(**{field: value})
