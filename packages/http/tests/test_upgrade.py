"""``HTTPConnection.upgrade``: a 101 answer hands the transport to another protocol.

A tiny non-WebSocket protocol ("ECHO/1": every byte comes back, the word ``pause`` makes the
owner stop reading for a moment) is taken over a real server and raw sockets, under asyncio
and uvloop.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest

from squall.http import HTTPServerRequest, ResponseStateError

UPGRADE = b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo/1\r\n\r\n"
HEADERS = [("Upgrade", "echo/1"), ("Connection", "Upgrade")]


class Echo(asyncio.Protocol):
    """The new owner: records every event it gets, echoes what it reads."""

    def __init__(self, events: list[str], done: threading.Event) -> None:
        self.events = events
        self.done = done
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.events.append(f"data:{data.decode()}")
        if data == b"pause":
            # The owner controls reading itself, and arms its own timers.
            self.transport.pause_reading()
            loop = asyncio.get_running_loop()
            loop.call_later(0.05, self._resume)
        self.transport.write(data)

    def _resume(self) -> None:
        assert self.transport is not None
        self.events.append("resumed")
        self.transport.resume_reading()

    def eof_received(self) -> bool | None:
        self.events.append("eof")
        return None  # let the transport close

    def pause_writing(self) -> None:
        self.events.append("pause_writing")

    def resume_writing(self) -> None:
        self.events.append("resume_writing")

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.append("lost")
        self.done.set()


def _upgrading_app(events: list[str], done: threading.Event, **kw: Any) -> Any:
    def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        transport = conn.upgrade(HEADERS, Echo(events, done), **kw)  # type: ignore[union-attr]
        events.append(f"upgraded closing={transport.is_closing()}")

    return app


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        assert data, f"closed before the head: {buf!r}"
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def _recv_exactly(sock: socket.socket, n: int, start: bytes = b"") -> bytes:
    buf = bytearray(start)
    while len(buf) < n:
        data = sock.recv(65536)
        assert data, f"closed after {len(buf)} of {n} bytes"
        buf += data
    return bytes(buf)


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_upgrade_sends_the_head_as_given_then_the_owner_gets_the_bytes(
    serve: Any, use_uvloop: bool
) -> None:
    events: list[str] = []
    done = threading.Event()
    st = serve(_upgrading_app(events, done), use_uvloop=use_uvloop)
    with st.connect() as sock:
        sock.sendall(UPGRADE)
        head, rest = _read_head(sock)
        assert head == b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo/1\r\nConnection: Upgrade"
        assert rest == b""
        sock.sendall(b"hello")
        assert _recv_exactly(sock, 5) == b"hello"
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(10) == b""  # the owner let the transport close on EOF
    assert done.wait(5)
    assert events == ["made", "upgraded closing=False", "data:hello", "eof", "lost"]


def test_bytes_sent_right_after_the_request_head_go_to_the_owner(serve: Any) -> None:
    events: list[str] = []
    done = threading.Event()
    st = serve(_upgrading_app(events, done))
    with st.connect() as sock:
        sock.sendall(UPGRADE + b"early")  # before the 101: part of the new protocol
        head, rest = _read_head(sock)
        assert head.startswith(b"HTTP/1.1 101 ")
        assert _recv_exactly(sock, 5, rest) == b"early"
    assert done.wait(5)
    assert events[:3] == ["made", "data:early", "upgraded closing=False"]


def test_a_pipelined_http_request_after_the_upgrade_is_not_parsed_as_http(serve: Any) -> None:
    events: list[str] = []
    done = threading.Event()
    st = serve(_upgrading_app(events, done))
    follower = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n"
    with st.connect() as sock:
        sock.sendall(UPGRADE + follower)
        _, rest = _read_head(sock)
        assert _recv_exactly(sock, len(follower), rest) == follower  # echoed, never answered


def test_http_timeouts_no_longer_apply_after_the_upgrade(serve: Any) -> None:
    events: list[str] = []
    done = threading.Event()
    st = serve(_upgrading_app(events, done), idle_connection_timeout=0.2, header_timeout=0.2)
    with st.connect() as sock:
        sock.sendall(UPGRADE)
        _read_head(sock)
        sock.sendall(b"GET / HT")  # a partial "head" that HTTP would time out
        assert _recv_exactly(sock, 8) == b"GET / HT"
        threading.Event().wait(0.6)  # past both HTTP timeouts
        sock.sendall(b"still")
        assert _recv_exactly(sock, 5) == b"still"
    assert done.wait(5)
    assert "lost" in events


def test_upgraded_connection_leaves_the_servers_connection_count(serve: Any) -> None:
    events: list[str] = []
    done = threading.Event()
    st = serve(_upgrading_app(events, done))
    with st.connect() as sock:
        sock.sendall(UPGRADE)
        _read_head(sock)
        sock.sendall(b"x")
        _recv_exactly(sock, 1)
        assert st.call(lambda: st.server.connections) == 0


def test_owner_can_pause_and_resume_reading(serve: Any) -> None:
    events: list[str] = []
    done = threading.Event()
    st = serve(_upgrading_app(events, done))
    with st.connect() as sock:
        sock.sendall(UPGRADE)
        _read_head(sock)
        sock.sendall(b"pause")
        assert _recv_exactly(sock, 5) == b"pause"
        sock.sendall(b"after")
        assert _recv_exactly(sock, 5) == b"after"
    assert done.wait(5)
    assert events.index("resumed") < events.index("data:after")


def test_owner_gets_flow_control_events_with_its_own_water_marks(serve: Any) -> None:
    events: list[str] = []
    done = threading.Event()
    big = b"z" * (16 * 1024 * 1024)  # more than loopback buffers hold

    def app(request: HTTPServerRequest) -> None:
        owner = Echo(events, done)
        transport = request.connection.upgrade(HEADERS, owner)  # type: ignore[union-attr]
        transport.set_write_buffer_limits(high=16 * 1024, low=1024)
        transport.write(big)  # the client does not read yet: over the high-water mark

    st = serve(app)
    with st.connect() as sock:
        sock.sendall(UPGRADE)
        head, rest = _read_head(sock)
        assert "pause_writing" in st.call(lambda: list(events))
        assert _recv_exactly(sock, len(big), rest) == big
        for _ in range(100):
            if "resume_writing" in st.call(lambda: list(events)):
                break
            threading.Event().wait(0.02)
    assert events.index("pause_writing") < events.index("resume_writing")


def test_upgrade_after_a_response_started_is_refused(serve: Any) -> None:
    errors: list[str] = []

    def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        conn.write_headers(200, [("Content-Length", "2")])
        try:
            conn.upgrade(HEADERS, asyncio.Protocol())  # type: ignore[attr-defined]
        except ResponseStateError as exc:
            errors.append(str(exc))
        conn.write(b"ok")
        conn.finish()

    st = serve(app)
    raw = st.send_raw(UPGRADE.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    assert raw.startswith(b"HTTP/1.1 200 ") and raw.endswith(b"ok")
    assert errors == ["upgrade() after the response was started"]


def test_upgrade_needs_an_informational_status_and_a_read_body(serve: Any) -> None:
    errors: list[str] = []

    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        for kw in ({"status": 200}, {"status": 100}):
            try:
                conn.upgrade(HEADERS, asyncio.Protocol(), **kw)  # type: ignore[attr-defined]
            except ValueError as exc:
                errors.append(str(exc))
        conn.respond(400, [], b"no")

    st = serve(app)
    raw = st.send_raw(UPGRADE.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert errors == [
        "upgrade() needs an informational status (101), not 200",
        "upgrade() needs an informational status (101), not 100",
    ]


def test_upgrade_with_an_unread_streamed_body_is_refused(serve: Any) -> None:
    errors: list[str] = []

    class Delegate:
        stream_body = True

        def __init__(self, conn: Any) -> None:
            self.conn = conn

        def headers_received(self, request: HTTPServerRequest) -> None:
            try:
                self.conn.upgrade(HEADERS, asyncio.Protocol())
            except ResponseStateError as exc:
                errors.append(str(exc))
            self.conn.respond(400, [], b"no")

        def data_received(self, chunk: bytes) -> None:
            pass

        def finish(self) -> None:
            pass

        def on_connection_close(self) -> None:
            pass

    class Factory:
        def start_request(self, conn: Any) -> Delegate:
            return Delegate(conn)

    st = serve(Factory())
    req = UPGRADE.replace(b"\r\n\r\n", b"\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello")
    raw = st.send_raw(req)
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert errors == ["upgrade() before the request body was read"]
