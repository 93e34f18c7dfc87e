"""The stricter wire over a real server: 400 (or 505) and close, the application never called.

The parser's verdicts are in test_conformance.py; here the same shapes go through
``HTTPServer`` on raw sockets, followed by a pipelined request that must never be answered
(a smuggled request is exactly such a follower), and the one warning must name the cause.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from typing import Any

import pytest

from squall.http import HTTPServerRequest

NEXT = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"


def _chunked(wire: bytes) -> bytes:
    return b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + wire


def read_to_eof(sock: socket.socket, wait: float = 5.0) -> tuple[bytes, bool]:
    """Everything the server sends, and whether it closed (False: still open after ``wait``)."""
    sock.settimeout(wait)
    out = b""
    while True:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return out, False
        except ConnectionResetError:
            return out, True
        if not data:
            return out, True
        out += data


class Recorder:
    """A plain callable that answers 200 and remembers what reached it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

    def __call__(self, request: HTTPServerRequest) -> None:
        self.seen.append((request.method, request.path, request.body))
        body = f"{request.method} {request.path} {len(request.body)}".encode()
        request.connection.respond(200, [("Content-Type", "text/plain")], body)  # type: ignore[union-attr]


# (id, bytes, status, words the warning must contain)
CASES = [
    ("space after chunk size", _chunked(b"2 \r\nab\r\n0\r\n\r\n"), 400, "whitespace"),
    ("empty chunk extension", _chunked(b"2;\r\nab\r\n0\r\n\r\n"), 400, "empty chunk extension"),
    ("unbalanced quote", _chunked(b'2;a="b\r\nab\r\n0\r\n\r\n'), 400, "unbalanced quote"),
    ("trailer Content-Length", _chunked(b"0\r\nContent-Length:\r\n\r\n"), 400, "Content-Length"),
    ("trailer TE c", _chunked(b"0\r\nTransfer-Encoding: c\r\n\r\n"), 400, "Transfer-Encoding"),
    ("trailer Connection", _chunked(b"0\r\nConnection: close\r\n\r\n"), 400, "Connection"),
    ("trailer Host", _chunked(b"0\r\nHost: u\r\n\r\n"), 400, "Host"),
    ("trailer TE", _chunked(b"0\r\nTE: trailers\r\n\r\n"), 400, "TE"),
    ("trailer Trailer", _chunked(b"0\r\nTrailer: X\r\n\r\n"), 400, "Trailer"),
    (
        "two equal Content-Length",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
        400,
        "repeated Content-Length",
    ),
    (
        "Content-Length list",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\na",
        400,
        "invalid Content-Length",
    ),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP/2 connection preface"),
    ("PRI over HTTP/1.0", b"PRI /a HTTP/1.0\r\n\r\n", 400, "PRI is reserved"),
    ("PRI over HTTP/1.1", b"PRI /a HTTP/1.1\r\nHost: t\r\n\r\n", 400, "PRI is reserved"),
    (
        "bad second header line",
        b"GET / HTTP/1.1\r\nHost: t\r\nX-Bad: a\x01b\r\n\r\n",
        400,
        "'X-Bad'",
    ),
]


@pytest.mark.parametrize("one_byte_at_a_time", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize(("data", "status", "why"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_refused_shape_is_answered_once_closed_and_never_reaches_the_application(
    serve: Any,
    caplog: pytest.LogCaptureFixture,
    data: bytes,
    status: int,
    why: str,
    one_byte_at_a_time: bool,
) -> None:
    app = Recorder()
    st = serve(app)
    with caplog.at_level(logging.WARNING, logger="squall.http"), st.connect() as sock:
        wire = data + NEXT
        try:
            if one_byte_at_a_time:
                for i in range(len(wire)):
                    sock.sendall(wire[i : i + 1])
            else:
                sock.sendall(wire)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed as soon as the bad byte was seen
        raw, closed = read_to_eof(sock)
        deadline = time.monotonic() + 2
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    assert closed
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", raw) == [b"%d" % status], raw
    assert b"Connection: close" in raw
    assert app.seen == []  # neither the bad request nor the one behind it
    messages = [r.getMessage() for r in caplog.records if r.name == "squall.http"]
    assert len(messages) == 1 and why in messages[0], messages


def test_warning_for_a_bad_header_block_names_the_bad_line_not_the_first(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    st = serve(Recorder())
    data = b"GET / HTTP/1.1\r\nHost: t\r\nAccept: */*\r\nX-Folded: a\r\n b\r\n\r\n"
    with caplog.at_level(logging.WARNING, logger="squall.http"):
        assert st.first_status(data) == 400
        deadline = time.monotonic() + 2
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    (message,) = [r.getMessage() for r in caplog.records if r.name == "squall.http"]
    assert "obs-fold" in message and "' b'" in message
    assert "Host" not in message and "Accept" not in message


def test_chunk_extensions_of_the_grammar_are_still_accepted(serve: Any) -> None:
    app = Recorder()
    st = serve(app)
    body = _chunked(b'2 ; a = "x;\\"y" ;b\r\nab\r\n1;c=d\r\nc\r\n0;e\r\nX-T: 1\r\n\r\n')
    with st.connect() as sock:
        sock.sendall(body + b"GET /next HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        raw, closed = read_to_eof(sock)
    assert closed
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", raw) == [b"200", b"200"]
    assert app.seen == [("POST", "/", b"abc"), ("GET", "/next", b"")]


def test_connect_body_is_never_read_and_the_connection_closes_after_the_answer(
    serve: Any,
) -> None:
    # RFC 9110 §9.3.6: CONNECT has no content. The plain callable decides the answer; the
    # declared Content-Length frames nothing, and what follows is never parsed as requests.
    app = Recorder()
    st = serve(app)
    data = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 5\r\n\r\n"
    with st.connect() as sock:
        sock.sendall(data + b"hello" + NEXT)
        raw, closed = read_to_eof(sock)
    assert closed
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", raw) == [b"200"]
    assert b"Connection: close" in raw
    assert app.seen == [("CONNECT", "example.com:443", b"")]


def test_connect_answered_with_an_error_by_a_delegate_closes_too(serve: Any) -> None:
    class Delegate:
        def __init__(self, conn: Any) -> None:
            self.conn = conn

        def headers_received(self, request: HTTPServerRequest) -> None:
            self.method = request.method

        def data_received(self, chunk: bytes) -> None:
            raise AssertionError("a CONNECT body was read")

        def finish(self) -> None:
            self.conn.respond(405, [("Allow", "GET")], b"no tunnels here")

        def on_connection_close(self) -> None:
            pass

    class Factory:
        def start_request(self, conn: Any) -> Delegate:
            return Delegate(conn)

    st = serve(Factory())
    with st.connect() as sock:
        sock.sendall(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 3\r\n\r\nabc")
        raw, closed = read_to_eof(sock)
    assert closed
    assert raw.startswith(b"HTTP/1.1 405 ") and raw.endswith(b"no tunnels here")
