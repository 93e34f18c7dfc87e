"""A handler's ``self.request.connection``: per-request body limits and ``stream.closed()``.

As in Tornado, a ``@stream_request_body`` handler lifts (or lowers) the server's
``max_body_size`` and ``body_timeout`` for its own request from ``prepare()``; a
long-polling handler polls ``self.request.connection.stream.closed()`` (Tornado's chat
demo) to learn that its client left.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest

from squall.web import Application, RequestHandler, stream_request_body

SERVER_LIMIT = 1000


@stream_request_body
class Upload(RequestHandler):
    def prepare(self) -> None:
        self.total = 0
        size = self.get_query_argument("max", None)
        if size is not None:
            self.request.connection.set_max_body_size(int(size))  # type: ignore[union-attr]
        timeout = self.get_query_argument("timeout", None)
        if timeout is not None:
            self.request.connection.set_body_timeout(float(timeout))  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self.total += len(chunk)

    def put(self) -> None:
        self.write(str(self.total))


@stream_request_body
class AsyncPrepareUpload(RequestHandler):
    async def prepare(self) -> None:
        await asyncio.sleep(0.02)  # (a permission check...) before the body is read
        self.total = 0
        self.request.connection.set_max_body_size(10_000)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        self.total += len(chunk)

    def put(self) -> None:
        self.write(str(self.total))


waiting = threading.Event()  # the handler saw its client still there
client_left = threading.Event()


class Waits(RequestHandler):
    async def get(self) -> None:
        stream = self.request.connection.stream  # type: ignore[union-attr]
        if not stream.closed():
            waiting.set()
        while not stream.closed():
            await asyncio.sleep(0.01)
        client_left.set()


@pytest.fixture
def app() -> Application:
    return Application(
        [(r"/upload", Upload), (r"/async-upload", AsyncPrepareUpload), (r"/wait", Waits)]
    )


@pytest.fixture
def server(app: Application, squall_live_server: Any) -> Any:
    return squall_live_server(app, max_body_size=SERVER_LIMIT)


def exchange(port: int, head: bytes, body: bytes = b"", timeout: float = 10) -> bytes:
    """Send ``head`` then ``body``; return what the server sent until it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (413) and closed before the whole body went
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def put(path: str, size: int, sent: int | None = None) -> tuple[bytes, bytes]:
    head = b"PUT %b HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % (
        path.encode(),
        size,
    )
    return head, b"u" * (size if sent is None else sent)


def test_prepare_raising_the_limit_accepts_a_body_over_the_server_limit(server: Any) -> None:
    data = exchange(server.port, *put("/upload?max=10000", 5000))
    assert data.startswith(b"HTTP/1.1 200 ")
    assert data.endswith(b"\r\n\r\n5000")


def test_without_the_call_the_body_over_the_server_limit_is_413(server: Any) -> None:
    assert exchange(server.port, *put("/upload", 5000)).startswith(b"HTTP/1.1 413 ")


def test_content_length_over_the_raised_limit_is_413(server: Any) -> None:
    head, _ = put("/upload?max=10000", 20_000)
    assert exchange(server.port, head).startswith(b"HTTP/1.1 413 ")


def test_async_prepare_raising_the_limit_is_awaited_before_the_body(server: Any) -> None:
    data = exchange(server.port, *put("/async-upload", 5000))
    assert data.startswith(b"HTTP/1.1 200 ")
    assert data.endswith(b"\r\n\r\n5000")
    head, _ = put("/async-upload", 20_000)
    assert exchange(server.port, head).startswith(b"HTTP/1.1 413 ")


def test_prepare_lowering_the_body_timeout_cuts_a_stalled_body(server: Any) -> None:
    # The server's body_timeout is 60 s: only the handler's 0.2 s answers within the 10 s.
    data = exchange(server.port, *put("/upload?timeout=0.2", 100, sent=10))
    assert data.startswith(b"HTTP/1.1 408 ")


def test_stream_closed_tells_a_waiting_handler_the_client_left(server: Any) -> None:
    waiting.clear()
    client_left.clear()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
    assert waiting.wait(10), "stream.closed() was true while the client was connected"
    assert not client_left.is_set()
    sock.close()
    assert client_left.wait(10), "the handler never saw stream.closed() turn true"
