"""Per-request body limits and the stream view on ``request.connection``, over real sockets.

``set_max_body_size`` / ``set_body_timeout`` called in a delegate's ``headers_received``
apply to that request's body only; ``connection.stream.closed()`` tells whether the
client left (Tornado's ``request.connection.stream.closed()``).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from squall.http import ConnectionStream, HTTPConnection, HTTPServerRequest

SERVER_LIMIT = 1000
LOOPS = pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])


class Delegate:
    """Answers with the body length; ``setup(conn, request)`` runs in headers_received."""

    def __init__(self, conn: Any, setup: Callable[[Any, HTTPServerRequest], None], stream: bool):
        self.conn = conn
        self.setup = setup
        self.stream_body = stream
        self.size = 0
        self.request: HTTPServerRequest | None = None

    def headers_received(self, request: HTTPServerRequest) -> None:
        self.request = request
        self.setup(self.conn, request)

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)

    def finish(self) -> None:
        assert self.request is not None
        size = self.size if self.stream_body else len(self.request.body)
        self.conn.respond(200, [], b"%d" % size)

    def on_connection_close(self) -> None:
        pass


class Factory:
    def __init__(self, setup: Callable[[Any, HTTPServerRequest], None], stream: bool = False):
        self.setup = setup
        self.stream = stream

    def start_request(self, conn: Any) -> Delegate:
        return Delegate(conn, self.setup, self.stream)


def raise_to(n: int) -> Callable[[Any, HTTPServerRequest], None]:
    def setup(conn: Any, request: HTTPServerRequest) -> None:
        if request.path == "/big":
            conn.set_max_body_size(n)

    return setup


def post(path: str, body: bytes) -> bytes:
    return b"POST %b HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%b" % (path, len(body), body)


def chunked(path: str, body: bytes, piece: int = 700) -> bytes:
    out = b"POST %b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" % path
    for i in range(0, len(body), piece):
        part = body[i : i + piece]
        out += b"%x\r\n%b\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


@pytest.mark.parametrize("stream", [False, True], ids=["collected", "streamed"])
def test_limit_raised_in_headers_received_admits_a_larger_body(
    serve: Callable[..., Any], stream: bool
) -> None:
    st = serve(Factory(raise_to(10_000), stream), max_body_size=SERVER_LIMIT)
    with st.connect() as sock:
        sock.sendall(post(b"/big", b"b" * 5000))
        response = st.read_response(sock, bytearray())
    assert (response.status, response.body) == (200, b"5000")


@pytest.mark.parametrize("stream", [False, True], ids=["collected", "streamed"])
def test_without_the_call_the_server_limit_answers_413(
    serve: Callable[..., Any], stream: bool
) -> None:
    st = serve(Factory(raise_to(10_000), stream), max_body_size=SERVER_LIMIT)
    assert st.first_status(post(b"/other", b"b" * 5000)) == 413


@pytest.mark.parametrize("stream", [False, True], ids=["collected", "streamed"])
def test_content_length_over_the_raised_limit_is_413_before_the_body(
    serve: Callable[..., Any], stream: bool
) -> None:
    st = serve(Factory(raise_to(10_000), stream), max_body_size=SERVER_LIMIT)
    with st.connect() as sock:
        # Only the head: the 413 must come without the server waiting for the body.
        sock.sendall(b"POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 20000\r\n\r\n")
        response = st.read_response(sock, bytearray())
    assert response.status == 413


@pytest.mark.parametrize("stream", [False, True], ids=["collected", "streamed"])
def test_chunked_body_growing_past_the_raised_limit_is_413(
    serve: Callable[..., Any], stream: bool
) -> None:
    st = serve(Factory(raise_to(3000), stream), max_body_size=SERVER_LIMIT)
    with st.connect() as sock:
        sock.sendall(chunked(b"/big", b"c" * 2500))
        ok = st.read_response(sock, bytearray())
    assert (ok.status, ok.body) == (200, b"2500")
    assert st.first_status(chunked(b"/big", b"c" * 4000)) == 413


def test_limit_lowered_in_headers_received_refuses_what_the_server_allows(
    serve: Callable[..., Any],
) -> None:
    st = serve(Factory(raise_to(10)), max_body_size=SERVER_LIMIT)
    assert st.first_status(post(b"/big", b"d" * 100)) == 413


def test_raised_limit_applies_to_its_request_only(serve: Callable[..., Any]) -> None:
    st = serve(Factory(raise_to(10_000)), max_body_size=SERVER_LIMIT)
    with st.connect() as sock:
        buf = bytearray()
        sock.sendall(post(b"/big", b"e" * 5000))
        first = st.read_response(sock, buf)
        sock.sendall(post(b"/next", b"e" * 5000))  # same connection, no call this time
        second = st.read_response(sock, buf)
    assert (first.status, second.status) == (200, 413)
    with st.connect() as sock:
        buf = bytearray()
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")  # calls it, has no body
        bodiless = st.read_response(sock, buf)
        sock.sendall(post(b"/next", b"e" * 5000))
        after = st.read_response(sock, buf)
    assert (bodiless.status, after.status) == (200, 413)


class Later(Delegate):
    """headers_received returns an awaitable: the body is read once it is done."""

    def headers_received(self, request: HTTPServerRequest) -> Any:
        self.request = request
        return self._get_ready(request)

    async def _get_ready(self, request: HTTPServerRequest) -> None:
        await asyncio.sleep(0.05)
        if request.path == "/fail":
            raise RuntimeError("not ready")
        self.setup(self.conn, request)


class LaterFactory(Factory):
    def start_request(self, conn: Any) -> Delegate:
        return Later(conn, self.setup, self.stream)


@LOOPS
@pytest.mark.parametrize("stream", [False, True], ids=["collected", "streamed"])
def test_limit_set_by_an_awaited_headers_received_applies_to_the_body(
    serve: Callable[..., Any], stream: bool, use_uvloop: bool
) -> None:
    st = serve(
        LaterFactory(raise_to(100_000), stream), max_body_size=SERVER_LIMIT, use_uvloop=use_uvloop
    )
    with st.connect() as sock:
        buf = bytearray()
        # The body arrives (here, all of it) before the delegate is ready: it waits.
        sock.sendall(post(b"/big", b"f" * 90_000))
        first = st.read_response(sock, buf)
        sock.sendall(post(b"/other", b"f" * 5000))
        second = st.read_response(sock, buf)
    assert (first.status, first.body) == (200, b"90000")
    assert second.status == 413
    assert st.first_status(post(b"/big", b"f" * 100_001)) == 413


def test_awaited_headers_received_failing_is_a_500(serve: Callable[..., Any]) -> None:
    st = serve(LaterFactory(raise_to(10_000)), max_body_size=SERVER_LIMIT)
    with st.connect() as sock:
        buf = bytearray()
        sock.sendall(post(b"/fail", b"g" * 10))
        failed = st.read_response(sock, buf)
        # The unread body was dropped whole: the connection serves the next request.
        sock.sendall(post(b"/big", b"h" * 20))
        then = st.read_response(sock, buf)
    assert (failed.status, then.status, then.body) == (500, 200, b"20")


def test_lowered_body_timeout_cuts_a_stalled_body_with_408(
    serve: Callable[..., Any],
) -> None:
    def setup(conn: Any, request: HTTPServerRequest) -> None:
        conn.set_body_timeout(0.2)

    # The server would wait 60 s; the socket gives up after 10 s.
    st = serve(Factory(setup), body_timeout=60.0, body_min_rate=None)
    with st.connect(timeout=10) as sock:
        sock.sendall(b"POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        data = st.read_until_close(sock)
    assert data.startswith(b"HTTP/1.1 408 ")


def test_raised_body_timeout_lets_a_paused_body_finish(serve: Callable[..., Any]) -> None:
    def setup(conn: Any, request: HTTPServerRequest) -> None:
        if request.path == "/patient":
            conn.set_body_timeout(30.0)

    st = serve(Factory(setup), body_timeout=0.3, body_min_rate=None)
    with st.connect(timeout=10) as sock:
        sock.sendall(b"POST /patient HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabc")
        time.sleep(1.0)  # past the server's 0.3 s
        sock.sendall(b"def")
        response = st.read_response(sock, bytearray())
    assert (response.status, response.body) == (200, b"6")
    # The control: without the call the same pause is cut by the server's timeout.
    with st.connect(timeout=10) as sock:
        sock.sendall(b"POST /other HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabc")
        data = st.read_until_close(sock)
    assert data.startswith(b"HTTP/1.1 408 ")


def _detached_connection() -> HTTPConnection:
    # Validation happens before the connection is used: no protocol is needed to see it.
    return HTTPConnection(None, "HTTP/1.1", False, True)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, -(2**40)])
def test_negative_max_body_size_is_a_value_error_naming_it(bad: int) -> None:
    with pytest.raises(ValueError, match=str(bad)):
        _detached_connection().set_max_body_size(bad)


@pytest.mark.parametrize("bad", ["1000", 1000.0, None, True])
def test_non_integer_max_body_size_is_a_type_error_naming_it(bad: Any) -> None:
    with pytest.raises(TypeError, match=repr(bad).replace(".", r"\.")):
        _detached_connection().set_max_body_size(bad)


@pytest.mark.parametrize("bad", [0, -1.5, math.inf, math.nan])
def test_non_positive_body_timeout_is_a_value_error_naming_it(bad: float) -> None:
    with pytest.raises(ValueError, match=repr(bad)):
        _detached_connection().set_body_timeout(bad)


@pytest.mark.parametrize("bad", ["5", b"5", True, [5]])
def test_non_number_body_timeout_is_a_type_error_naming_it(bad: Any) -> None:
    with pytest.raises(
        TypeError, match=r"not " + repr(bad).replace("[", r"\[").replace("]", r"\]")
    ):
        _detached_connection().set_body_timeout(bad)


# -- connection.stream ------------------------------------------------------------------------


@LOOPS
def test_stream_closed_turns_true_when_the_client_leaves(
    serve: Callable[..., Any], use_uvloop: bool
) -> None:
    held: list[Any] = []
    arrived = threading.Event()

    def hold(request: HTTPServerRequest) -> None:
        held.append(request.connection)  # never answered: the client will leave first
        arrived.set()

    st = serve(hold, use_uvloop=use_uvloop)
    sock = st.connect()
    sock.sendall(b"GET /wait HTTP/1.1\r\nHost: t\r\n\r\n")
    assert arrived.wait(10)
    conn = held[0]
    stream = st.call(lambda: conn.stream)
    assert isinstance(stream, ConnectionStream)
    assert st.call(lambda: conn.stream) is stream  # made once, on first use
    assert st.call(stream.closed) is False
    sock.close()
    deadline = time.monotonic() + 10
    while not st.call(stream.closed):
        assert time.monotonic() < deadline, "stream.closed() stayed False after the client left"
        time.sleep(0.01)


# -- connection.context -----------------------------------------------------------------------


def _context_answer(request: HTTPServerRequest) -> None:
    context = request.connection.context
    assert context is request.connection.context  # made once, on first use
    text = f"{context.remote_ip}|{context.protocol}|{context.address[0]}|{context}"
    request.connection.respond(200, [], text.encode())


def test_connection_context_gives_the_peer_address_ip_and_protocol(
    serve: Callable[..., Any],
) -> None:
    st = serve(_context_answer)
    sock = st.connect()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Real-IP: 10.1.2.3\r\n\r\n")
    body = sock.recv(65536).split(b"\r\n\r\n", 1)[1]
    sock.close()
    assert body == b"127.0.0.1|http|127.0.0.1|127.0.0.1"  # no xheaders: the header is not read


def test_connection_context_describes_the_socket_even_under_xheaders(
    serve: Callable[..., Any],
) -> None:
    def answer(request: HTTPServerRequest) -> None:
        context = request.connection.context
        text = f"{context.remote_ip}|{context.protocol}|{request.remote_ip}|{request.protocol}"
        request.connection.respond(200, [], text.encode())

    st = serve(answer, xheaders=True)
    sock = st.connect()
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: t\r\nX-Real-IP: 10.1.2.3\r\nX-Forwarded-Proto: https\r\n\r\n"
    )
    body = sock.recv(65536).split(b"\r\n\r\n", 1)[1]
    sock.close()
    # as Tornado while the handler runs: the proxy's view is the request's only
    assert body == b"127.0.0.1|http|10.1.2.3|https"


def test_connection_context_is_read_only(serve: Callable[..., Any]) -> None:
    errors: list[BaseException] = []

    def answer(request: HTTPServerRequest) -> None:
        try:
            request.connection.context.remote_ip = "1.1.1.1"  # type: ignore[misc]
        except AttributeError as exc:
            errors.append(exc)
        request.connection.respond(200, [], b"")

    st = serve(answer)
    assert st.first_status(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n") == 200
    assert len(errors) == 1
