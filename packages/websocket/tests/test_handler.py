"""WebSocketHandler over real sockets: a squall server and the ``websockets`` library as client
(and raw sockets for what a well-behaved client never sends)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from squall.web import Application, HTTPError, authenticated
from squall.web.testing import serve
from squall.websocket import WebSocketClosedError, WebSocketHandler, frames, plugin


class Echo(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


class Recorder(WebSocketHandler):
    """Records its events in the ``log`` list given by the rule."""

    def initialize(self, log: list[Any]) -> None:
        self.log = log

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.log.append(("open", args, kwargs))

    def on_message(self, message: str | bytes) -> None:
        self.log.append(("message", message))

    def on_ping(self, data: bytes) -> None:
        self.log.append(("ping", data))

    def on_pong(self, data: bytes) -> None:
        self.log.append(("pong", data))

    def on_close(self) -> None:
        self.log.append(("close", self.close_code, self.close_reason))


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_text_binary_and_fragmented_messages_echo(ws: Any) -> None:
    async def main() -> None:
        async with ws.app([("/ws", Echo)]) as url, websockets.connect(url + "/ws") as c:
            await c.send("héllo")
            assert await c.recv() == "héllo"
            await c.send(b"\x00\x01\xff")
            assert await c.recv() == b"\x00\x01\xff"
            await c.send(["frag", "mented"])  # one message in three frames
            assert await c.recv() == "fragmented"
            await c.send(b"x" * 200_000)
            assert await c.recv() == b"x" * 200_000

    ws.run(main())


def test_path_arguments_reach_open_and_close_code_reaches_on_close(ws: Any) -> None:
    log: list[Any] = []

    async def main() -> None:
        async with ws.app([(r"/ws/(\d+)/(\w+)", Recorder, {"log": log})]) as url:
            async with websockets.connect(url + "/ws/7/lobby") as c:
                await c.send("one")
                await c.close(4001, "bye now")
            await wait_for(lambda: log and log[-1][0] == "close")

    ws.run(main())
    assert log == [("open", ("7", "lobby"), {}), ("message", "one"), ("close", 4001, "bye now")]


def test_dict_is_sent_as_json_and_server_close_code_reaches_the_client(ws: Any) -> None:
    class Json(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.write_message({"got": message})
            self.close(4000, "done")

    async def main() -> None:
        async with ws.app([("/ws", Json)]) as url, websockets.connect(url + "/ws") as c:
            await c.send("x")
            assert json.loads(await c.recv()) == {"got": "x"}
            with pytest.raises(ConnectionClosed):
                await c.recv()
            assert c.close_code == 4000 and c.close_reason == "done"

    ws.run(main())


def test_async_open_runs_before_any_message_and_async_messages_stay_in_order(ws: Any) -> None:
    log: list[Any] = []

    class Slow(WebSocketHandler):
        async def open(self) -> None:
            await asyncio.sleep(0.05)
            log.append("opened")

        async def on_message(self, message: str | bytes) -> None:
            # Later messages take less time: only awaiting each one keeps the order.
            await asyncio.sleep(0.02 * (5 - int(message)))
            log.append(message)
            if message == "4":
                await self.write_message("all")

    async def main() -> None:
        async with ws.app([("/ws", Slow)]) as url, websockets.connect(url + "/ws") as c:
            for i in range(5):
                await c.send(str(i))
            assert await c.recv() == "all"

    ws.run(main())
    assert log == ["opened", "0", "1", "2", "3", "4"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_handler_whose_open_raised_gets_no_on_close(ws: Any, is_async: bool) -> None:
    # As in Tornado: on_close cleans up what open() set up (a room, a terminal), so it is
    # not called for a connection whose open() failed (ported handlers then raised there).
    log: list[Any] = []

    class Refusing(Recorder):
        def open(self, *args: Any, **kwargs: Any) -> Any:
            if is_async:
                return self._refuse()
            raise ValueError("room full")

        async def _refuse(self) -> None:
            await asyncio.sleep(0)
            raise ValueError("room full")

        def on_connection_close(self) -> None:
            log.append("on_connection_close")
            super().on_connection_close()

    async def main() -> None:
        async with ws.app([("/ws", Refusing, {"log": log})]) as url:
            async with websockets.connect(url + "/ws") as c:
                with pytest.raises(ConnectionClosed):
                    await c.recv()
                assert c.close_code == 1011
            await asyncio.sleep(0.1)  # time for a wrong on_close to arrive

    ws.run(main())
    assert log == []


def test_pings_both_ways(ws: Any) -> None:
    log: list[Any] = []

    class Pinger(Recorder):
        def on_message(self, message: str | bytes) -> None:
            self.ping(b"srv")

    async def main() -> None:
        async with ws.app([("/ws", Pinger, {"log": log})]) as url:
            async with websockets.connect(url + "/ws") as c:
                pong = await c.ping(b"cli")
                await asyncio.wait_for(pong, 5)  # the server answered our ping
                await c.send("ping me")
                await wait_for(lambda: ("pong", b"srv") in log)

    ws.run(main())
    assert ("ping", b"cli") in log


def test_ping_interval_setting_pings_and_ping_timeout_closes_a_silent_client(ws: Any) -> None:
    log: list[Any] = []

    async def main() -> None:
        settings = {"websocket_ping_interval": 0.05, "websocket_ping_timeout": 0.05}
        async with ws.app([("/ws", Recorder, {"log": log})], **settings) as url:
            async with websockets.connect(url + "/ws") as c:  # answers pings itself
                await wait_for(lambda: log.count(("pong", b"")) >= 2)
                assert c.state.name == "OPEN"
            reader, writer, head = await ws.raw_connect(url, ws.upgrade_request())
            assert head.startswith(b"HTTP/1.1 101 ")
            b0, _ = await ws.read_frame(reader)
            assert b0 == 0x89  # a ping, which this client never answers
            b0, payload = await ws.read_frame(reader)
            assert b0 == 0x88 and payload == b"\x03\xe8ping timed out"
            writer.close()

    ws.run(main())


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (bytes((0x81, 0x02)) + b"hi", 1002),  # unmasked
        (frames.encode_frame(frames.CLOSE, (1005).to_bytes(2, "big"), mask=True), 1002),
        (frames.encode_frame(frames.TEXT, b"\xff\xfe", mask=True), 1007),
        (frames.encode_frame(frames.BINARY, b"z" * 2000, mask=True), 1009),
        (frames.encode_frame(0x3, b"", mask=True), 1002),
    ],
    ids=["unmasked", "close-1005", "bad-utf8", "too-big", "reserved-opcode"],
)
def test_protocol_violations_close_with_their_code(
    ws: Any, frame: bytes, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    log: list[Any] = []

    async def main() -> None:
        settings = {"websocket_max_message_size": 1000}
        async with ws.app([("/ws", Recorder, {"log": log})], **settings) as url:
            reader, writer, head = await ws.raw_connect(url, ws.upgrade_request() + frame)
            assert head.startswith(b"HTTP/1.1 101 ")
            b0, payload = await ws.read_frame(reader)
            assert b0 == 0x88
            assert int.from_bytes(payload[:2], "big") == code
            assert await reader.read() == b""  # then the server closes TCP
            writer.close()
            await wait_for(lambda: log and log[-1][0] == "close")

    ws.run(main())
    warnings = [r for r in caplog.records if r.name == "squall.websocket"]
    assert len(warnings) == 1 and f"({code})" in warnings[0].getMessage()
    assert not [m for m in log if m[0] == "message"]


def test_compression_is_negotiated_when_the_handler_asks(ws: Any) -> None:
    class Deflating(Echo):
        def get_compression_options(self) -> dict[str, Any]:
            return {"compression_level": 9, "server_no_context_takeover": True}

    async def main() -> None:
        async with ws.app([("/ws", Deflating), ("/plain", Echo)]) as url:
            async with websockets.connect(url + "/ws") as c:  # offers permessage-deflate
                ext = c.response.headers["Sec-WebSocket-Extensions"]
                assert ext.startswith("permessage-deflate")
                assert "server_no_context_takeover" in ext
                for _ in range(3):
                    await c.send("compress me " * 1000)
                    assert await c.recv() == "compress me " * 1000
            async with websockets.connect(url + "/plain") as c:
                assert "Sec-WebSocket-Extensions" not in c.response.headers
                await c.send("plain")
                assert await c.recv() == "plain"

    ws.run(main())


def test_unknown_compression_option_is_refused_by_name(ws: Any) -> None:
    class Bad(Echo):
        def get_compression_options(self) -> dict[str, Any]:
            return {"mem_limit": 8}

    async def main() -> None:
        async with ws.app([("/ws", Bad)]) as url:
            with pytest.raises(InvalidStatus) as info:
                async with websockets.connect(url + "/ws"):
                    pass
            assert info.value.response.status_code == 500

    ws.run(main())


def test_subprotocol_selection(ws: Any) -> None:
    class Sub(Echo):
        def select_subprotocol(self, subprotocols: list[str]) -> str | None:
            return "chat.v2" if "chat.v2" in subprotocols else None

        def open(self) -> None:
            self.write_message(self.selected_subprotocol or "none")

    async def main() -> None:
        async with ws.app([("/ws", Sub)]) as url:
            async with websockets.connect(url + "/ws", subprotocols=["chat.v1", "chat.v2"]) as c:
                assert c.subprotocol == "chat.v2"
                assert await c.recv() == "chat.v2"
            async with websockets.connect(url + "/ws") as c:
                assert c.subprotocol is None
                assert await c.recv() == "none"

    ws.run(main())


def test_cross_origin_handshake_is_403_unless_check_origin_allows(ws: Any) -> None:
    class Open(Echo):
        def check_origin(self, origin: str) -> bool:
            return origin == "https://friend.example"

    async def main() -> None:
        async with ws.app([("/ws", Echo), ("/open", Open)]) as url:
            host = url.split("//")[1]
            async with websockets.connect(url + "/ws", origin=f"http://{host}") as c:
                await c.send("same origin")
                assert await c.recv() == "same origin"
            with pytest.raises(InvalidStatus) as info:
                async with websockets.connect(url + "/ws", origin="https://evil.example"):
                    pass
            assert info.value.response.status_code == 403
            assert b"Cross origin websockets not allowed" in info.value.response.body
            async with websockets.connect(url + "/open", origin="https://friend.example") as c:
                await c.send("friend")
                assert await c.recv() == "friend"

    ws.run(main())


def test_an_origin_that_is_not_a_url_is_403_not_500(ws: Any) -> None:
    # urlparse raises ValueError on it: the client's text must not become a server error.
    async def main() -> None:
        async with ws.app([("/ws", Echo)]) as url:
            for origin in ("http://[::1", "http://[not-an-ip]"):
                with pytest.raises(InvalidStatus) as info:
                    async with websockets.connect(url + "/ws", origin=origin):
                        pass
                assert info.value.response.status_code == 403, origin

    ws.run(main())


async def _raw_answer(ws: Any, url: str, request: bytes) -> tuple[bytes, bytes]:
    reader, writer, head = await ws.raw_connect(url, request)
    body = b""
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            body = await reader.readexactly(int(line.split(b":")[1]))
    writer.close()
    return head, body


def test_methods_other_than_get_are_405_head_included_as_in_tornado(ws: Any) -> None:
    async def main() -> None:
        async with ws.app([("/ws", Echo)]) as url:
            for method in (b"HEAD", b"POST", b"OPTIONS"):
                request = method + b" /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
                _reader, writer, head = await ws.raw_connect(url, request)
                writer.close()
                assert head.startswith(b"HTTP/1.1 405 "), (method, head)

    ws.run(main())


def test_bad_handshakes_get_tornados_answers(ws: Any) -> None:
    async def main() -> None:
        async with ws.app([("/ws", Echo)]) as url:
            plain = b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            head, body = await _raw_answer(ws, url, plain)
            assert head.startswith(b"HTTP/1.1 400 ")
            assert body == b'Can "Upgrade" only to "WebSocket".'
            no_conn = ws.upgrade_request().replace(b"Connection: Upgrade", b"Connection: close")
            head, body = await _raw_answer(ws, url, no_conn)
            assert head.startswith(b"HTTP/1.1 400 ") and body == b'"Connection" must be "Upgrade".'
            v8 = ws.upgrade_request().replace(b"Version: 13", b"Version: 8")
            head, _ = await _raw_answer(ws, url, v8)
            assert head.startswith(b"HTTP/1.1 426 Upgrade Required")
            assert b"\r\nsec-websocket-version: 13" in head.lower()
            bad_key = ws.upgrade_request().replace(b"Sec-WebSocket-Key: ", b"Sec-WebSocket-Key: x")
            head, body = await _raw_answer(ws, url, bad_key)
            assert (
                head.startswith(b"HTTP/1.1 400 ") and body == b"Missing/Invalid WebSocket headers"
            )

    ws.run(main())


def test_handshake_runs_prepare_current_user_signed_cookies_and_authenticated(ws: Any) -> None:
    class Private(WebSocketHandler):
        def get_current_user(self) -> Any:
            return self.get_signed_cookie("user")

        def prepare(self) -> None:
            if self.get_argument("banned", None):
                raise HTTPError(403)

        @authenticated
        def get(self, *args: Any, **kwargs: Any) -> Any:
            return super().get(*args, **kwargs)

        def open(self) -> None:
            self.write_message(f"hello {self.current_user.decode()}")

        def on_message(self, message: str | bytes) -> None:
            pass

    class Login(WebSocketHandler):
        def get(self) -> None:  # type: ignore[override]
            self.set_signed_cookie("user", "ann")
            self.write("ok")

    async def main() -> None:
        settings = {"cookie_secret": "s" * 32, "login_url": "/login"}
        async with ws.app([("/ws", Private), ("/login", Login)], **settings) as url:
            head, _ = await _raw_answer(ws, url, ws.upgrade_request())
            assert head.startswith(b"HTTP/1.1 302 ")  # to login_url, as any handler
            assert b"\r\nLocation: /login?next=" in head
            _, writer, head = await ws.raw_connect(url, b"GET /login HTTP/1.1\r\nHost: h\r\n\r\n")
            writer.close()
            cookie = next(
                line.split(b": ", 1)[1].split(b";")[0].decode()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"set-cookie:")
            )
            headers = {"Cookie": cookie}
            async with websockets.connect(url + "/ws", additional_headers=headers) as c:
                assert await c.recv() == "hello ann"
            with pytest.raises(InvalidStatus) as info:
                async with websockets.connect(url + "/ws?banned=1", additional_headers=headers):
                    pass
            assert info.value.response.status_code == 403

    ws.run(main())


@pytest.mark.parametrize("async_open", [False, True])
def test_an_async_get_override_may_await_the_handshake(
    ws: Any, async_open: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # Tornado's get() is a coroutine: authentication wrappers (Jupyter's, Bokeh's) are
    # written `async def get(...): check; await super().get(*args, **kwargs)`.
    events: list[str] = []

    class Guarded(WebSocketHandler):
        async def get(self, *args: Any, **kwargs: Any) -> None:
            if self.request.headers.get("X-Token") != "t":
                self.set_status(401)
                self.finish("no token")
                return
            await super().get(*args, **kwargs)
            events.append("handshake awaited")

        def open(self) -> Any:
            if async_open:
                return self._open_later()
            events.append("open")
            return None

        async def _open_later(self) -> None:
            await asyncio.sleep(0)
            events.append("open")

        def on_message(self, message: str | bytes) -> None:
            self.write_message(f"got {message}")

    async def main() -> None:
        async with ws.app([("/ws", Guarded)]) as url:
            with pytest.raises(InvalidStatus) as info:
                async with websockets.connect(url + "/ws"):
                    pass
            assert info.value.response.status_code == 401
            headers = {"X-Token": "t"}
            async with websockets.connect(url + "/ws", additional_headers=headers) as c:
                await c.send("x")
                assert await c.recv() == "got x"
                await wait_for(lambda: "handshake awaited" in events)

    ws.run(main())
    assert events == ["open", "handshake awaited"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_write_message_result_has_the_future_methods_tornado_code_calls(ws: Any) -> None:
    class Confirms(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            sent = self.write_message(f"echo {message}")
            assert (sent.done(), sent.cancelled(), sent.result(), sent.exception()) == (  # type: ignore[attr-defined]
                True,
                False,
                None,
                None,
            )
            sent.add_done_callback(lambda _: self.write_message("callback ran"))  # type: ignore[attr-defined]

    async def main() -> None:
        async with ws.app([("/ws", Confirms)]) as url, websockets.connect(url + "/ws") as c:
            await c.send("a")
            assert await c.recv() == "echo a"
            assert await c.recv() == "callback ran"

    ws.run(main())


def test_write_after_close_raises_websocket_closed_error(ws: Any) -> None:
    errors: list[str] = []

    class Closer(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.close()
            for call in (lambda: self.write_message("late"), lambda: self.ping(b"")):
                try:
                    call()
                except WebSocketClosedError as exc:
                    errors.append(type(exc).__name__)

    async def main() -> None:
        async with ws.app([("/ws", Closer)]) as url, websockets.connect(url + "/ws") as c:
            await c.send("x")
            with pytest.raises(ConnectionClosed):
                await c.recv()
            assert c.close_code == 1005  # an empty close frame: no code

    ws.run(main())
    assert errors == ["WebSocketClosedError", "WebSocketClosedError"]


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_write_message_awaitable_applies_back_pressure(ws: Any, use_uvloop: bool) -> None:
    sent: list[int] = []
    chunk = b"q" * 65536

    class Flood(WebSocketHandler):
        async def open(self) -> None:
            for i in range(200):  # 12.5 MiB in all
                await self.write_message(chunk, binary=True)
                sent.append(i)

    async def main() -> None:
        async with ws.app([("/ws", Flood)]) as url:
            async with websockets.connect(url + "/ws", max_size=None, max_queue=1) as c:
                await asyncio.sleep(0.3)
                # The client reads nothing: the writer waits on the full buffers.
                assert len(sent) < 200
                got = 0
                while got < 200:
                    assert await c.recv() == chunk
                    got += 1
        assert len(sent) == 200

    ws.run(main(), 60, use_uvloop=use_uvloop)


def test_frames_sent_with_the_handshake_are_delivered_after_open(ws: Any) -> None:
    log: list[Any] = []

    async def main() -> None:
        async with ws.app([("/ws", Recorder, {"log": log})]) as url:
            early = frames.encode_frame(frames.TEXT, b"early", mask=True)
            _, writer, head = await ws.raw_connect(url, ws.upgrade_request() + early)
            assert head.startswith(b"HTTP/1.1 101 ")
            await wait_for(lambda: ("message", "early") in log)
            writer.close()

    ws.run(main())
    assert log[0][0] == "open" and log[1] == ("message", "early")


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_a_flood_of_small_frames_lets_the_loop_run_other_callbacks(
    ws: Any, use_uvloop: bool
) -> None:
    # Thousands of one-byte messages arriving in one read are not all handed to on_message
    # in one callback: other connections' callbacks get turns in between, as in Tornado.
    count = 5000
    got = [0]
    turns = [0]

    def other_callback() -> None:
        if got[0] < count:
            turns[0] += 1
            asyncio.get_running_loop().call_soon(other_callback)

    class Counter(WebSocketHandler):
        def open(self) -> None:
            other_callback()  # from here on, count the loop's turns

        def on_message(self, message: str | bytes) -> None:
            got[0] += 1

    async def main() -> None:
        async with ws.app([("/ws", Counter)]) as url:
            flood = frames.encode_frame(frames.BINARY, b"x", mask=True) * count
            _, writer, head = await ws.raw_connect(url, ws.upgrade_request() + flood)
            assert head.startswith(b"HTTP/1.1 101 ")
            await wait_for(lambda: got[0] == count)
            writer.close()

    ws.run(main(), use_uvloop=use_uvloop)
    assert turns[0] >= count // 256 // 2


def test_server_shutdown_closes_open_websockets_with_1001(ws: Any) -> None:
    async def main() -> None:
        app = Application([("/ws", Echo)], plugins=[plugin], autoload_plugins=False)
        async with serve(app) as url:
            c = await websockets.connect(url.replace("http", "ws") + "/ws")
        with pytest.raises(ConnectionClosed):
            await c.recv()
        assert c.close_code == 1001

    ws.run(main())


def test_settings_are_declared_by_the_plugin_and_checked() -> None:
    app = Application([], plugins=[plugin], autoload_plugins=False, websocket_ping_interval=5)
    assert app.settings["websocket_max_message_size"] == 10 * 1024 * 1024
    with pytest.raises(Exception, match="websocket_ping_timeout"):
        Application([], plugins=[plugin], autoload_plugins=False, websocket_ping_timeout="x")
    with pytest.raises(Exception, match="squall-websocket"):
        Application([], autoload_plugins=False, websocket_max_message_size=5)


def test_max_message_size_property_follows_the_setting(ws: Any) -> None:
    seen: list[int] = []

    class Sizes(Echo):
        def open(self) -> None:
            seen.append(self.max_message_size)

    async def main() -> None:
        async with ws.app([("/ws", Sizes)], websocket_max_message_size=4096) as url:
            async with websockets.connect(url + "/ws") as c:
                await c.send("a" * 4096)
                assert await c.recv() == "a" * 4096
                await c.send("a" * 4097)
                with pytest.raises(ConnectionClosed):
                    await c.recv()
                assert c.close_code == 1009

    ws.run(main())
    assert seen == [4096]


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_echo_and_close_under_both_loops(ws: Any, use_uvloop: bool) -> None:
    log: list[Any] = []

    async def main() -> None:
        async with ws.app([("/ws", Echo), ("/rec", Recorder, {"log": log})]) as url:
            early = frames.encode_frame(frames.TEXT, b"early", mask=True)
            reader, writer, head = await ws.raw_connect(url, ws.upgrade_request() + early)
            assert head.startswith(b"HTTP/1.1 101 ")
            assert await ws.read_frame(reader) == (0x81, b"early")
            writer.close()
            async with websockets.connect(url + "/ws", compression="deflate") as c:
                await c.send(b"y" * 300_000)
                assert await c.recv() == b"y" * 300_000
            async with websockets.connect(url + "/rec") as c:
                await c.close(4003)
            # A close frame with a code and no reason: close_reason None, as in Tornado.
            await wait_for(lambda: ("close", 4003, None) in log)

    ws.run(main(), use_uvloop=use_uvloop)


def test_ws_connection_is_none_from_close_and_in_on_close_as_in_tornado(ws: Any) -> None:
    seen: list[Any] = []

    class Closer(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.close(4001, "bye")
            seen.append(("after close()", self.ws_connection))
            try:
                self.set_header("X-Late", "1")  # still refused: the response is gone
            except RuntimeError:
                seen.append("set_header refused")

        def on_close(self) -> None:
            seen.append(("on_close", self.ws_connection, self.close_code, self.close_reason))

    async def main() -> None:
        async with ws.app([("/ws", Closer)]) as url:
            async with websockets.connect(url + "/ws") as c:
                await c.send("x")
                await c.wait_closed()
            await wait_for(lambda: len(seen) == 3)

    ws.run(main())
    assert seen == [("after close()", None), "set_header refused", ("on_close", None, 4001, "bye")]


def test_on_connection_close_override_runs_then_on_close_once(ws: Any) -> None:
    # Tornado handlers clean up in on_connection_close (and call super()).
    seen: list[str] = []

    class Cleans(Echo):
        def on_connection_close(self) -> None:
            seen.append("on_connection_close")
            super().on_connection_close()
            super().on_connection_close()  # twice: on_close still runs once

        def on_close(self) -> None:
            seen.append("on_close")

    async def main() -> None:
        async with ws.app([("/ws", Cleans)]) as url:
            async with websockets.connect(url + "/ws") as c:
                await c.send("x")
                assert await c.recv() == "x"
            await wait_for(lambda: "on_close" in seen)

    ws.run(main())
    assert seen == ["on_connection_close", "on_close"]


def test_set_nodelay_sets_the_socket_option_before_and_after_the_handshake(ws: Any) -> None:
    seen: list[int] = []

    class Quick(Echo):
        def prepare(self) -> None:
            self.set_nodelay(False)  # before the handshake: applied once open

        def open(self) -> None:
            transport = self.ws_connection.transport  # type: ignore[union-attr]
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            self.set_nodelay(True)
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    async def main() -> None:
        async with ws.app([("/ws", Quick)]) as url, websockets.connect(url + "/ws") as c:
            await c.send("x")
            assert await c.recv() == "x"

    ws.run(main())
    assert seen[0] == 0 and seen[1] != 0


def test_bytes_sent_as_text_must_be_utf8(ws: Any) -> None:
    errors: list[str] = []

    class Texty(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            try:
                self.write_message(b"\xff not utf-8")
            except UnicodeDecodeError:
                errors.append("refused")
            self.write_message(b"ok")

    async def main() -> None:
        async with ws.app([("/ws", Texty)]) as url, websockets.connect(url + "/ws") as c:
            await c.send("x")
            assert await c.recv() == "ok"  # a text frame

    ws.run(main())
    assert errors == ["refused"]
