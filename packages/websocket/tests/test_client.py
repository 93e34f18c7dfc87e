"""websocket_connect over real sockets: against a Tornado server and against squall's own."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import ssl
from typing import Any

import pytest
import tornado.httpserver
import tornado.web
import tornado.websocket

from squall.loop import IOLoop
from squall.web import Application
from squall.web.testing import serve
from squall.websocket import (
    HandshakeError,
    WebSocketClosedError,
    WebSocketHandler,
    plugin,
    websocket_connect,
)


class TornadoEcho(tornado.websocket.WebSocketHandler):
    def get_compression_options(self) -> dict[str, Any] | None:
        return {} if self.get_argument("deflate", None) else None

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return subprotocols[-1] if subprotocols else None

    def on_message(self, message: str | bytes) -> None:
        if message == "close please":
            self.close(4002, "as asked")
            return
        self.write_message(message, binary=isinstance(message, bytes))


async def tornado_server() -> tuple[tornado.httpserver.HTTPServer, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    server = tornado.httpserver.HTTPServer(tornado.web.Application([("/ws", TornadoEcho)]))
    server.add_sockets([sock])
    return server, f"ws://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("deflate", [False, True], ids=["plain", "deflate"])
def test_client_against_tornado(ws: Any, deflate: bool) -> None:
    async def main() -> None:
        server, url = await tornado_server()
        try:
            options = {} if deflate else None
            query = "?deflate=1" if deflate else ""
            c = await websocket_connect(
                url + "/ws" + query, compression_options=options, subprotocols=["a", "b"]
            )
            assert c.selected_subprotocol == "b"
            assert ("permessage-deflate" in str(c.headers)) is deflate
            await c.write_message("héllo " * 100)
            assert await c.read_message() == "héllo " * 100
            await c.write_message(b"\x00" * 100_000, binary=True)
            assert await c.read_message() == b"\x00" * 100_000
            c.ping(b"p")
            await c.write_message("close please")
            assert await c.read_message() is None
            assert (c.close_code, c.close_reason) == (4002, "as asked")
            with pytest.raises(WebSocketClosedError):
                c.write_message("late")
        finally:
            server.stop()
            await server.close_all_connections()

    ws.run(main())


class Echo(WebSocketHandler):
    def get_compression_options(self) -> dict[str, Any]:
        return {"client_no_context_takeover": True}

    def on_message(self, message: str | bytes) -> None:
        if message == "bye":
            self.close(1000, "bye")
        else:
            self.write_message(message, binary=isinstance(message, bytes))


def test_client_against_squall_with_callback_and_compression(ws: Any) -> None:
    got: list[Any] = []
    closed = asyncio.Event

    async def main() -> None:
        done = closed()

        def on_message(message: str | bytes | None) -> None:
            got.append(message)
            if message is None:
                done.set()

        async with ws.app([("/ws", Echo)]) as url:
            c = await websocket_connect(
                url + "/ws", compression_options={}, on_message_callback=on_message
            )
            assert "client_no_context_takeover" in c.headers["Sec-WebSocket-Extensions"]
            for i in range(3):
                await c.write_message(f"m{i}" * 500)
            await c.write_message("bye")
            await asyncio.wait_for(done.wait(), 5)
            assert c.close_code == 1000

    ws.run(main())
    assert got == [f"m{i}" * 500 for i in range(3)] + [None]


def test_client_max_message_size_closes_with_1009(ws: Any) -> None:
    async def main() -> None:
        async with ws.app([("/ws", Echo)]) as url:
            c = await websocket_connect(url + "/ws", max_message_size=100)
            await c.write_message("x" * 101)
            assert await c.read_message() is None
            assert c.protocol is not None and c.protocol.closing

    ws.run(main())


def test_refused_handshake_raises_with_the_status(ws: Any) -> None:
    async def main() -> None:
        async with ws.app([("/ws", Echo)]) as url:
            with pytest.raises(HandshakeError) as info:
                await websocket_connect(url + "/nowhere")
            assert info.value.status == 404
            with pytest.raises(ValueError):
                await websocket_connect("ftp://127.0.0.1/")

    ws.run(main())


def test_a_handshake_refused_by_check_origin_has_tornados_code_403(ws: Any) -> None:
    async def main() -> None:
        async with ws.app([("/ws", Echo)]) as url:
            with pytest.raises(HandshakeError) as info:
                await websocket_connect(url + "/ws", headers={"Origin": "http://elsewhere.test"})
            assert info.value.code == 403 == info.value.status

    ws.run(main())


def test_a_host_header_given_replaces_the_urls_and_is_sent_once(ws: Any) -> None:
    class HostEcho(WebSocketHandler):
        def open(self) -> None:
            self.write_message(",".join(self.request.headers.get_list("Host")))

        def check_origin(self, origin: str) -> bool:
            return True

    async def main() -> None:
        async with ws.app([("/ws", HostEcho)]) as url:
            given = {"Host": "localhost", "Sec-WebSocket-Version": "8"}
            c = await websocket_connect(url + "/ws", headers=given)
            assert await c.read_message() == "localhost"
            c.close()

    ws.run(main())


def test_client_reads_are_back_pressured(ws: Any) -> None:
    class Flood(WebSocketHandler):
        async def open(self) -> None:
            for i in range(300):
                await self.write_message(f"{i}")
            self.close()

    async def main() -> None:
        async with ws.app([("/ws", Flood)]) as url:
            c = await websocket_connect(url + "/ws")
            await asyncio.sleep(0.2)
            assert c.protocol is not None
            assert len(c._queue) <= 64  # reading paused at the queue bound
            got = []
            while (m := await c.read_message()) is not None:
                got.append(m)
            assert got == [f"{i}" for i in range(300)]

    ws.run(main())


def test_wss_client_and_server_over_tls(ws: Any) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def main() -> None:
        app = Application([("/ws", Echo)], plugins=[plugin], autoload_plugins=False)
        async with serve(app, ssl_options=server_ctx) as url:
            wss = url.replace("http://", "wss://") + "/ws"
            c = await websocket_connect(wss, ssl=client_ctx, compression_options={})
            await c.write_message("over tls " * 1000)
            assert await c.read_message() == "over tls " * 1000
            await c.write_message("bye")
            assert await c.read_message() is None
            assert c.close_code == 1000

    ws.run(main())


def test_close_called_where_no_loop_runs_completes_the_handshake() -> None:
    # Tornado allows it: a unittest tearDown closes its clients between loop runs.
    closed: list[tuple[int | None, str | None]] = []

    class Notes(WebSocketHandler):
        def on_close(self) -> None:
            closed.append((self.close_code, self.close_reason))

    loop = asyncio.new_event_loop()
    stack = contextlib.AsyncExitStack()
    try:

        async def connect() -> Any:
            app = Application([("/ws", Notes)], plugins=[plugin], autoload_plugins=False)
            url = await stack.enter_async_context(serve(app))
            return await websocket_connect(url.replace("http://", "ws://") + "/ws")

        conn = loop.run_until_complete(connect())
        conn.close(1000, "tear down")  # no loop is running here

        async def until_closed() -> None:
            while not closed:
                await asyncio.sleep(0.01)

        loop.run_until_complete(asyncio.wait_for(until_closed(), 10))
        assert closed == [(1000, "tear down")]
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()


def test_inside_a_running_loop_the_connection_is_a_future_as_in_tornado(ws: Any) -> None:
    seen: list[asyncio.Future[Any]] = []

    async def main() -> None:
        async with ws.app([("/ws", Echo)]) as url:
            future = websocket_connect(url + "/ws", callback=seen.append)
            assert isinstance(future, asyncio.Future)
            done = asyncio.get_running_loop().create_future()
            future.add_done_callback(done.set_result)  # what IOLoop.add_future relies on
            c = await future
            assert await done is future
            assert seen == [future]  # Tornado's callback gets the done Future
            await c.write_message("hi")
            assert await c.read_message() == "hi"
            c.close()

    ws.run(main())


def test_outside_a_loop_it_is_a_coroutine_for_asyncio_run() -> None:
    with socket.socket() as closed_port:  # bound, never listening: connecting is refused
        closed_port.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{closed_port.getsockname()[1]}/ws"
        pending = websocket_connect(url)
        assert asyncio.iscoroutine(pending)  # a Future would be bound to no running loop
        with pytest.raises(ConnectionRefusedError):
            asyncio.run(pending)


def test_a_callback_where_no_loop_runs_is_refused_by_name() -> None:
    with pytest.raises(RuntimeError, match=r"callback=.*needs a running event loop"):
        websocket_connect("ws://127.0.0.1:9/ws", callback=print)


def test_where_an_ioloop_is_current_but_not_running_the_future_is_of_that_loop() -> None:
    # A unittest method of AsyncHTTPTestCase connects with callback=self.stop and only
    # then runs the test's IOLoop with self.wait(): the Future must wait for that loop.
    io_loop = IOLoop(make_current=True)
    server = serve(Application([("/ws", Echo)]))
    try:
        url = io_loop.run_sync(server.__aenter__)
        seen: list[asyncio.Future[Any]] = []

        def connected(future: asyncio.Future[Any]) -> None:
            seen.append(future)
            io_loop.stop()

        future = websocket_connect(url.replace("http", "ws") + "/ws", callback=connected)
        assert asyncio.isfuture(future)
        guard = io_loop.call_later(10.0, io_loop.stop)
        io_loop.start()
        io_loop.remove_timeout(guard)
        assert seen == [future]
        c = future.result()

        async def echo() -> Any:
            await c.write_message("hi")
            return await c.read_message()

        assert io_loop.run_sync(echo) == "hi"
        c.close()
    finally:
        io_loop.run_sync(lambda: server.__aexit__(None, None, None))
        IOLoop.clear_current()
        io_loop.close()


async def _server_speaking_first() -> tuple[asyncio.Server, str]:
    """A raw server whose 101 answer and first two text frames leave in one write."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            b"\x81\x05first\x81\x06second"
        )
        await reader.read(1)  # the client's close frame (or its going): hang up
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"


def test_messages_in_the_handshake_segment_wait_for_the_connect_callback(ws: Any) -> None:
    # Tornado's order: websocket_connect's callback (or the `await`) has the connection
    # before on_message_callback sees the first message, even when the server's first
    # frames arrive with its 101 answer (clients store the connection in that callback).
    events: list[str] = []

    async def main() -> None:
        server, url = await _server_speaking_first()
        async with server:
            got_both, closed = asyncio.Event(), asyncio.Event()

            def on_message(message: str | bytes | None) -> None:
                events.append(f"message {message}")
                if message == "second":
                    got_both.set()
                elif message is None:
                    closed.set()

            def connected(future: asyncio.Future[Any]) -> None:
                events.append("connected")

            c = await websocket_connect(url, callback=connected, on_message_callback=on_message)
            events.append("awaited")
            await asyncio.wait_for(got_both.wait(), 5)
            c.close()
            await asyncio.wait_for(closed.wait(), 5)

    ws.run(main())
    assert events == ["connected", "awaited", "message first", "message second", "message None"]


def test_read_message_callback_gets_the_future_as_in_tornado(ws: Any) -> None:
    seen: list[Any] = []

    async def main() -> None:
        server, url = await _server_speaking_first()
        async with server:
            c = await websocket_connect(url)
            first = c.read_message(callback=seen.append)
            assert await first == "first"
            await asyncio.sleep(0)  # done callbacks run on the next loop turn
            assert seen == [first]
            c.close()

    ws.run(main())


def test_with_on_message_callback_read_message_never_completes_as_in_tornado(ws: Any) -> None:
    # Messages and the close go to the callback; a program that also calls
    # read_message(callback=...) for each one (a common copy-paste) must not spin on an
    # immediately completed read once the connection is closed.
    got: list[Any] = []

    async def main() -> None:
        server, url = await _server_speaking_first()
        async with server:
            closed = asyncio.Event()

            def on_message(message: str | bytes | None) -> None:
                got.append(message)
                if message is None:
                    closed.set()

            c = await websocket_connect(url, on_message_callback=on_message)
            pending = c.read_message()
            await asyncio.sleep(0.05)
            c.close()
            await asyncio.wait_for(closed.wait(), 5)
            late = c.read_message()
            await asyncio.sleep(0)
            assert not pending.done() and not late.done()

    ws.run(main())
    assert got == ["first", "second", None]


def test_read_message_between_loop_runs_belongs_to_the_connections_loop() -> None:
    # Tornado's unittest style: a plain test method writes and calls
    # read_message(self.stop) where no loop runs, then runs the loop with self.wait().
    io_loop = IOLoop(make_current=True)
    server = serve(Application([("/ws", Echo)]))
    try:
        url = io_loop.run_sync(server.__aenter__)

        async def connect() -> Any:
            return await websocket_connect(url.replace("http", "ws") + "/ws")

        c = io_loop.run_sync(connect)
        seen: list[asyncio.Future[Any]] = []

        def got(future: asyncio.Future[Any]) -> None:
            seen.append(future)
            io_loop.stop()

        c.write_message("hello")
        future = c.read_message(got)
        guard = io_loop.call_later(10.0, io_loop.stop)
        io_loop.start()
        io_loop.remove_timeout(guard)
        assert seen == [future]
        assert future.result() == "hello"
        c.close()
    finally:
        io_loop.run_sync(lambda: server.__aexit__(None, None, None))
        IOLoop.clear_current()
        io_loop.close()
