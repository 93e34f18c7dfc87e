"""A client that closes its side (FIN) while its request is answered, over a real server.

A plain ``close()`` with nothing unread sends FIN, as does ``shutdown(SHUT_WR)`` (``nc -N``):
the application is told (``on_connection_close``, the close callback, ``closed``), an
answer it still writes goes out, and the connection closes after it.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from typing import Any

import pytest
import trustme

from squall.http import HTTPConnection, HTTPServerRequest

REQUEST = b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"


def _until_closed_app(events: list[str]) -> Any:
    """A plain async callable that answers only once the client has closed its side."""

    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        gone = asyncio.Event()
        conn.set_close_callback(gone.set)  # type: ignore[union-attr]
        await asyncio.wait_for(gone.wait(), 5)
        events.append(f"closed={conn.closed}")
        conn.respond(200, [("Content-Type", "text/plain")], b"answered after FIN")

    return app


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_shut_wr_client_gets_the_whole_response_then_the_connection_closes(
    serve: Any, use_uvloop: bool
) -> None:
    events: list[str] = []
    st = serve(_until_closed_app(events), use_uvloop=use_uvloop)
    with st.connect() as sock:
        sock.sendall(REQUEST)
        sock.shutdown(socket.SHUT_WR)
        raw = st.read_until_close(sock)  # ends: the server closed after the answer
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nConnection: close" in head  # no keep-alive promised to a closing client
    assert body == b"answered after FIN"
    assert events == ["closed=True"]


def test_pipelined_request_behind_a_fin_is_not_read(serve: Any) -> None:
    events: list[str] = []
    st = serve(_until_closed_app(events))
    with st.connect() as sock:
        sock.sendall(REQUEST + b"GET /second HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        raw = st.read_until_close(sock)
    assert raw.count(b"HTTP/1.1 ") == 1
    assert raw.endswith(b"answered after FIN")
    assert events == ["closed=True"]


def test_streamed_response_goes_out_after_shut_wr(serve: Any) -> None:
    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        gone = asyncio.Event()
        conn.set_close_callback(gone.set)  # type: ignore[union-attr]
        await asyncio.wait_for(gone.wait(), 5)
        conn.write_headers(200, [])
        await conn.write(b"part one, ")
        await conn.write(b"part two")
        conn.finish()

    st = serve(app)
    with st.connect() as sock:
        sock.sendall(REQUEST)
        sock.shutdown(socket.SHUT_WR)
        raw = st.read_until_close(sock)
    assert raw.endswith(b"\r\n0\r\n\r\n")
    assert b"part one, " in raw and b"part two" in raw


class _Delegate:
    def __init__(self, conn: HTTPConnection, record: _Record) -> None:
        self.conn = conn
        self.record = record

    def headers_received(self, request: HTTPServerRequest) -> None:
        pass

    def finish(self) -> Any:
        async def later() -> None:
            await asyncio.sleep(5)  # never answers in time: the client leaves first

        return later()

    def on_connection_close(self) -> None:
        self.record.calls += 1
        self.record.fired.set()


class _Record:
    def __init__(self) -> None:
        self.calls = 0
        self.fired = threading.Event()

    def start_request(self, conn: HTTPConnection) -> _Delegate:
        return _Delegate(conn, self)


def test_client_close_mid_request_fires_on_connection_close_once(serve: Any) -> None:
    record = _Record()
    st = serve(record)
    with st.connect() as sock:
        sock.sendall(REQUEST)
    assert record.fired.wait(5)
    st.call(lambda: None)  # let the server loop run on (no second notification)
    assert record.calls == 1


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_tls_client_close_mid_request_fires_on_connection_close(serve: Any, ca: trustme.CA) -> None:
    # Over TLS asyncio cannot keep a half-open connection, so the answer is lost; the
    # application is still told.
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    record = _Record()
    st = serve(record, ssl_options=server_ctx)
    with st.connect() as raw_sock:
        with client_ctx.wrap_socket(raw_sock, server_hostname="127.0.0.1") as sock:
            sock.sendall(REQUEST)
            # wait until the server saw the request (its handler is running), then leave
            for _ in range(500):
                if st.call(lambda: st.server.connections) and _busy(st):
                    break
                threading.Event().wait(0.01)
    assert record.fired.wait(5)
    assert record.calls == 1


def _busy(st: Any) -> bool:
    return bool(st.call(lambda: any(not p.idle for p in st.server._ctx.connections)))


class _SlowStream:
    """A streaming delegate whose data_received awaits (reading pauses meanwhile)."""

    stream_body = True

    def __init__(self, conn: HTTPConnection) -> None:
        self.conn = conn
        self.received = 0

    def headers_received(self, request: HTTPServerRequest) -> None:
        pass

    async def data_received(self, chunk: bytes) -> None:
        await asyncio.sleep(0.05)
        self.received += len(chunk)

    def finish(self) -> None:
        self.conn.respond(200, [], b"got %d" % self.received)


class _SlowStreamFactory:
    def start_request(self, conn: HTTPConnection) -> _SlowStream:
        return _SlowStream(conn)


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_body_read_while_a_streaming_handler_pauses_survives_shut_wr(
    serve: Any, use_uvloop: bool
) -> None:
    st = serve(_SlowStreamFactory(), use_uvloop=use_uvloop)
    body = b"z" * 5000
    with st.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + body)
        sock.shutdown(socket.SHUT_WR)  # the whole body is sent: only reading is left
        raw = st.read_until_close(sock)
    assert raw.endswith(b"\r\n\r\ngot 5000")


def test_incomplete_body_then_fin_is_a_disconnect(serve: Any) -> None:
    st = serve(_SlowStreamFactory())
    with st.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + b"z" * 10)
        sock.shutdown(socket.SHUT_WR)
        assert st.read_until_close(sock) == b""  # closed without an answer
