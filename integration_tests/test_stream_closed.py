"""A client that leaves a streaming response: ported Tornado code catches it by its old name.

Tornado programs stop an event stream with ``except tornado.iostream.StreamClosedError``
around ``await self.flush()``; renamed, that is ``squall.tcp.StreamClosedError``. squall.web
raises ``squall.http.StreamClosedError`` from ``flush()``, which must be the same error for
that ``except``, or the program's clean-up (forgetting the subscriber) never runs.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

import squall.http
import squall.loop
import squall.tcp
import squall.web
from squall.web.testing import LiveServer


def test_one_stream_closed_error_for_tcp_http_and_loop() -> None:
    assert squall.tcp.StreamClosedError is squall.loop.StreamClosedError
    assert issubclass(squall.http.StreamClosedError, squall.tcp.StreamClosedError)
    assert issubclass(squall.http.StreamClosedError, OSError)


class Ticker(squall.web.RequestHandler):
    """An event stream written the Tornado way, with the ``except`` of a ported program."""

    outcome: list[str] = []
    done = threading.Event()

    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream")
        n = 0
        try:
            while n < 2000:  # bounded: 20 s at most
                self.write(f"data: {n}\n\n")
                await self.flush()
                n += 1
                await asyncio.sleep(0.01)
            Ticker.outcome.append("ran to the end")
        except squall.tcp.StreamClosedError as exc:
            Ticker.outcome.append(f"caught {type(exc).__module__}.{type(exc).__name__}")
        finally:
            Ticker.done.set()


@pytest.fixture
def server() -> Iterator[LiveServer]:
    Ticker.outcome = []
    Ticker.done = threading.Event()
    live = LiveServer(squall.web.Application([(r"/events", Ticker)])).start()
    try:
        yield live
    finally:
        live.stop()


def test_a_client_leaving_an_event_stream_is_caught_as_squall_tcp_stream_closed_error(
    server: LiveServer,
) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        deadline = time.monotonic() + 10
        while b"data: 2\n\n" not in received and time.monotonic() < deadline:
            received += sock.recv(4096)
        assert b"data: 2\n\n" in received
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    assert Ticker.done.wait(15), "the handler never stopped"
    assert Ticker.outcome == ["caught squall.http._errors.StreamClosedError"]
