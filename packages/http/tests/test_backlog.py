"""The listen backlog is the one asked for, not the event loop's default of 100.

``loop.create_server(sock=...)`` calls ``listen()`` again (asyncio and uvloop alike), so
without care every socket ends up with a queue of 100 and a burst of new connections
beyond it is dropped by the kernel. The backlog the kernel keeps is read from TCP_INFO:
for a listening socket Linux reports the queue length in ``tcpi_sacked`` (and the
connections waiting to be accepted in ``tcpi_unacked``), as ``ss -ltn`` shows in Send-Q.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from typing import Any

import pytest

from squall.http import HTTPServer
from squall.loop import bind_sockets

LOOPS = pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])


def listen_queue(sock: socket.socket) -> tuple[int, int]:
    """(connections waiting to be accepted, queue length) of a listening socket."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    waiting, length = struct.unpack_from("II", info, 24)  # tcpi_unacked, tcpi_sacked
    return waiting, length


def _somaxconn() -> int:
    with open("/proc/sys/net/core/somaxconn") as f:
        return int(f.read())


def _new_loop(use_uvloop: bool) -> asyncio.AbstractEventLoop:
    if use_uvloop:
        uvloop = pytest.importorskip("uvloop")
        return uvloop.new_event_loop()  # type: ignore[no-any-return]
    return asyncio.new_event_loop()


def _queues(use_uvloop: bool, start: Any) -> list[int]:
    """Start a server with ``start(server)`` on a fresh loop; the queues of its sockets."""
    loop = _new_loop(use_uvloop)
    asyncio.set_event_loop(loop)
    try:

        async def main() -> list[int]:
            server = start()
            try:
                return [listen_queue(s)[1] for s in server.sockets]
            finally:
                server.stop()

        return loop.run_until_complete(main())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _app(request: Any) -> None:
    request.connection.respond(200, [], b"ok")


@LOOPS
def test_listen_keeps_the_default_backlog_of_bind_sockets(use_uvloop: bool) -> None:
    def start() -> HTTPServer:
        server = HTTPServer(_app)
        server.listen(0, "127.0.0.1")
        return server

    assert _queues(use_uvloop, start) == [min(socket.SOMAXCONN, _somaxconn())]


@LOOPS
def test_backlog_is_a_server_option_and_a_listen_argument(use_uvloop: bool) -> None:
    def start_server_option() -> HTTPServer:
        server = HTTPServer(_app, backlog=321)
        server.listen(0, "127.0.0.1")
        return server

    def start_listen_argument() -> HTTPServer:
        server = HTTPServer(_app, backlog=321)
        server.listen(0, "127.0.0.1", backlog=77)
        return server

    def start_bind_then_start() -> HTTPServer:
        server = HTTPServer(_app)
        server.bind(0, "127.0.0.1", backlog=55)
        server.start(1)
        return server

    def start_add_sockets() -> HTTPServer:
        server = HTTPServer(_app, backlog=222)
        server.add_sockets(bind_sockets(0, "127.0.0.1", backlog=10))
        return server

    assert _queues(use_uvloop, start_server_option) == [321]
    assert _queues(use_uvloop, start_listen_argument) == [77]
    assert _queues(use_uvloop, start_bind_then_start) == [55]
    assert _queues(use_uvloop, start_add_sockets) == [222]


def test_a_backlog_that_is_not_a_positive_integer_is_refused() -> None:
    for bad in (0, -1, "10", 2.5):
        with pytest.raises(ValueError, match="backlog"):
            HTTPServer(_app, backlog=bad)


@LOOPS
def test_a_burst_of_connections_while_the_server_is_busy_is_queued_not_dropped(
    serve: Any, use_uvloop: bool
) -> None:
    # 300 connections arrive while the loop is blocked (accepting nothing): with a queue
    # of 100 the kernel would complete 101 handshakes and drop the other SYNs.
    st = serve(use_uvloop=use_uvloop)
    listening = st.server.sockets[0]
    gate = threading.Event()
    blocked = threading.Event()

    def block() -> None:
        blocked.set()
        gate.wait(20)

    st.loop.call_soon_threadsafe(block)
    clients: list[socket.socket] = []
    try:
        assert blocked.wait(5)
        for _ in range(300):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", st.port))
            clients.append(c)
        deadline = time.monotonic() + 5
        while listen_queue(listening)[0] < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        waiting = listen_queue(listening)[0]
        gate.set()
        assert waiting == 300
        for c in clients[:3] + clients[-3:]:  # and once the server is free, they are served
            c.setblocking(True)
            c.settimeout(10)
            c.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            assert st.read_until_close(c).startswith(b"HTTP/1.1 200 ")
    finally:
        gate.set()
        for c in clients:
            c.close()
