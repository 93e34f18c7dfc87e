"""A client that leaves is normal: every write path says so the same way, and nothing is
answered into a dead socket.

- After the client reset, ``respond``, ``write_headers``, ``write``, ``sendfile`` and
  ``finish`` all raise ``StreamClosedError`` (never a ``ResponseStateError`` about a
  response the disconnect cut short), whether the server already ran ``connection_lost``
  or only saw a send fail (the transport is closing).
- A client that resets with pipelined requests in flight stops being answered.
- A peer whose address could not be read is logged as such, not as ``unix``.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from squall.http import HTTPServerRequest

LOOPS = pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0) rather than a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


async def _try_every_write_path(conn: Any, path: Path) -> dict[str, str]:
    """Call each write path on a closed connection; name what each raised."""
    outcome: dict[str, str] = {}

    def record(name: str, call: Callable[[], Any]) -> None:
        try:
            call()
            outcome[name] = "returned"
        except Exception as exc:
            outcome[name] = type(exc).__name__

    record("respond", lambda: conn.respond(200, [], b"late"))
    record("write_headers", lambda: conn.write_headers(200, [("Content-Length", "4")]))
    record("write", lambda: conn.write(b"late"))
    with open(path, "rb") as f:
        try:
            await conn.sendfile(f, 0, 4)
            outcome["sendfile"] = "returned"
        except Exception as exc:
            outcome["sendfile"] = type(exc).__name__
    record("finish", conn.finish)
    return outcome


@LOOPS
@pytest.mark.parametrize("moment", ["lost", "closing"])
def test_every_write_path_raises_stream_closed_once_the_client_reset(
    serve: Any, tmp_path: Path, use_uvloop: bool, moment: str
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    results: list[dict[str, str]] = []
    done = threading.Event()

    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        if moment == "lost":
            # connection_lost ran: the protocol knows the client is gone.
            while not conn.closed:
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.01)
        else:
            # The reset has arrived but the loop has not read it (it is blocked here): a
            # send is the first to fail, which leaves the transport closing.
            sock = conn.transport.get_extra_info("socket")
            select.select([sock], [], [], 5)
            conn.transport.write(b"HTTP/1.1 200 OK\r\n")
            assert conn.transport.is_closing()
        results.append(await _try_every_write_path(conn, path))
        done.set()

    st = serve(app, use_uvloop=use_uvloop)
    sock = st.connect()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.05)  # the request is read before the reset
    _reset(sock)
    assert done.wait(5)
    expected = dict.fromkeys(results[0], "StreamClosedError")
    assert results == [expected]
    assert set(expected) == {"respond", "write_headers", "write", "sendfile", "finish"}


@LOOPS
def test_pipelined_requests_of_a_client_that_reset_are_not_answered(
    serve: Any, caplog: pytest.LogCaptureFixture, use_uvloop: bool
) -> None:
    answered: list[str] = []
    first = threading.Event()

    def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        if not answered:
            first.set()
            # Hold the loop until the client's reset has arrived (not yet read by it).
            select.select([conn.transport.get_extra_info("socket")], [], [], 5)
        answered.append(request.path)
        try:
            conn.respond(200, [], b"x" * 100)
        except Exception as exc:  # the first respond may learn of the reset
            answered.append(type(exc).__name__)

    st = serve(app, use_uvloop=use_uvloop)
    sock = st.connect()
    with caplog.at_level(logging.DEBUG):
        sock.sendall(b"".join(b"GET /%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(64)))
        assert first.wait(5)
        _reset(sock)
        st.call(lambda: None)  # the loop ran past the burst
        time.sleep(0.05)
        st.call(lambda: None)
    assert answered[0] == "/0"
    assert len([p for p in answered if p.startswith("/")]) == 1, answered
    sends = [r for r in caplog.records if "socket.send() raised" in r.getMessage()]
    assert sends == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@LOOPS
def test_a_peer_that_reset_before_its_address_was_read_is_logged_as_unknown(
    serve: Any, caplog: pytest.LogCaptureFixture, use_uvloop: bool
) -> None:
    st = serve(use_uvloop=use_uvloop)
    gate = threading.Event()
    blocked = threading.Event()

    def block() -> None:  # the loop accepts nothing meanwhile
        blocked.set()
        gate.wait(5)

    st.loop.call_soon_threadsafe(block)
    assert blocked.wait(5)
    with caplog.at_level(logging.WARNING, logger="squall.http"):
        sock = st.connect()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Partial")
        time.sleep(0.05)
        _reset(sock)
        time.sleep(0.05)
        gate.set()
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].endswith(": client disconnected mid-request"), lines
    peer = lines[0].split(": ")[0]
    # asyncio keeps the address accept() returned; uvloop asks the (reset) socket later
    assert peer == "unknown peer" or peer.startswith("127.0.0.1:"), peer


def test_stream_closed_error_is_the_one_squall_loop_and_squall_tcp_raise() -> None:
    # Ported Tornado code catches a client that left as tornado.iostream's error, which is
    # squall.tcp's (squall.loop's) once renamed: it must match what http raises.
    import squall.http
    import squall.loop

    err = squall.http.StreamClosedError("connection closed")
    assert isinstance(err, squall.loop.StreamClosedError) and isinstance(err, OSError)
    assert isinstance(err, squall.http.HTTPError)
    assert (str(err), err.real_error) == ("connection closed", None)
