"""Tornado 6.6's handshake and handler rules, which ported Tornado code relies on."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from squall.websocket import HandshakeError, WebSocketHandler, websocket_connect


class Echo(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message)


async def _echoes(url: str, headers: dict[str, str]) -> bool:
    """Whether a handshake with ``headers`` is accepted (and then echoes)."""
    try:
        conn = await websocket_connect(url, headers=headers)
    except HandshakeError as exc:
        assert exc.code == 403
        return False
    await conn.write_message("hi")
    assert await conn.read_message() == "hi"
    conn.close()
    return True


def test_origin_rule_sec_fetch_site_then_host_then_trusted_origins(ws: Any) -> None:
    async def main() -> None:
        async with ws.app([("/ws", Echo)], trusted_origins=["http://trusted.test"]) as url:
            host = url.split("//")[1]
            u = url + "/ws"
            assert await _echoes(u, {})  # not a browser
            assert await _echoes(u, {"Origin": f"http://{host}"})  # same host
            assert not await _echoes(u, {"Origin": "http://evil.test"})
            assert await _echoes(u, {"Origin": "http://trusted.test"})  # trusted_origins
            # the browser's Sec-Fetch-Site wins over the Origin/Host comparison
            proxied = {"Origin": "http://proxied.test", "Sec-Fetch-Site": "same-origin"}
            assert await _echoes(u, proxied)
            cross = {"Origin": f"http://{host}", "Sec-Fetch-Site": "cross-site"}
            assert not await _echoes(u, cross)
            assert not await _echoes(u, {"Origin": "http://sub.x", "Sec-Fetch-Site": "same-site"})
            trusted = {"Origin": "http://trusted.test", "Sec-Fetch-Site": "cross-site"}
            assert await _echoes(u, trusted)

    ws.run(main())


def test_check_origin_runs_after_prepare_and_only_for_cross_origin(ws: Any) -> None:
    seen: list[str] = []

    class Token(Echo):
        def prepare(self) -> None:
            self.token_ok = self.get_argument("token", None) == "secret"

        def check_origin(self, origin: str) -> bool:
            seen.append(origin)
            return self.token_ok

    async def main() -> None:
        async with ws.app([("/ws", Token)]) as url:
            host = url.split("//")[1]
            cross = {"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"}
            assert await _echoes(url + "/ws?token=secret", cross)
            assert not await _echoes(url + "/ws", cross)
            assert await _echoes(url + "/ws", {"Origin": f"http://{host}"})

    ws.run(main())
    assert seen == ["http://evil.test", "http://evil.test"]  # never for the same host


def test_select_subprotocol_is_called_with_an_empty_list_when_none_is_offered(ws: Any) -> None:
    calls: list[list[str]] = []

    class Choose(WebSocketHandler):
        def select_subprotocol(self, subprotocols: list[str]) -> str | None:
            calls.append(subprotocols)
            return subprotocols[0] if subprotocols else None

        def open(self) -> None:
            self.write_message(f"chose {self.selected_subprotocol}")

    async def main() -> None:
        async with ws.app([("/ws", Choose)]) as url:
            plain = await websocket_connect(url + "/ws")
            assert await plain.read_message() == "chose None"
            offered = await websocket_connect(url + "/ws", subprotocols=["a", "b"])
            assert await offered.read_message() == "chose a"
            plain.close()
            offered.close()

    ws.run(main())
    assert calls == [[], ["a", "b"]]


def test_select_subprotocol_returning_an_empty_string_selects_none(ws: Any) -> None:
    class EmptyMeansNone(WebSocketHandler):
        def select_subprotocol(self, subprotocols: list[str]) -> str | None:
            return subprotocols[0] if subprotocols else ""

        def open(self) -> None:
            self.write_message(f"chose {self.selected_subprotocol}")

    async def main() -> None:
        async with ws.app([("/ws", EmptyMeansNone)]) as url:
            plain = await websocket_connect(url + "/ws")  # accepted: no 500
            assert await plain.read_message() == "chose None"
            assert "Sec-WebSocket-Protocol" not in plain.headers
            offered = await websocket_connect(url + "/ws", subprotocols=["b"])
            assert await offered.read_message() == "chose b"
            plain.close()
            offered.close()

    ws.run(main())


def test_http_response_methods_raise_once_upgraded(ws: Any) -> None:
    class Misuse(WebSocketHandler):
        def open(self) -> None:
            refused = []
            for call in (
                lambda: self.set_status(503),
                lambda: self.set_header("X-A", "1"),
                lambda: self.set_cookie("c", "v"),
                self.flush,
            ):
                try:
                    call()
                except RuntimeError:
                    refused.append(True)
            self.write_message(str(len(refused)))

    class HeadersInPrepare(WebSocketHandler):
        def prepare(self) -> None:
            self.set_header("X-Before", "allowed")  # before the upgrade: part of the 101

        def open(self) -> None:
            self.write_message("ok")

    async def main() -> None:
        async with ws.app([("/misuse", Misuse), ("/prepare", HeadersInPrepare)]) as url:
            conn = await websocket_connect(url + "/misuse")
            assert await conn.read_message() == "4"
            conn.close()
            conn = await websocket_connect(url + "/prepare")
            assert conn.headers["X-Before"] == "allowed"  # HTTPHeaders: any case
            assert conn.headers.get("x-before") == "allowed"
            assert await conn.read_message() == "ok"
            conn.close()

    ws.run(main())


@pytest.mark.parametrize("raised", [ZeroDivisionError, asyncio.CancelledError])
def test_an_exception_in_on_message_is_logged_as_uncaught_and_closes_1011(
    ws: Any, raised: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    class Fails(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            raise raised()

    async def main() -> int | None:
        async with ws.app([("/ws", Fails)]) as url:
            conn = await websocket_connect(url + "/ws")
            await conn.write_message("boom")
            assert await conn.read_message() is None
            return conn.close_code

    with caplog.at_level(logging.ERROR, logger="squall.application"):
        assert ws.run(main()) == 1011
    assert any(r.getMessage().startswith("Uncaught exception") for r in caplog.records)


@pytest.mark.parametrize("raised", [ZeroDivisionError, asyncio.CancelledError])
def test_an_exception_in_an_async_on_message_is_logged_as_uncaught_and_closes_1011(
    ws: Any, raised: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    # CancelledError included: an on_message that awaits a cancelled future is a bug of
    # the handler, not the server going away.
    class Fails(WebSocketHandler):
        async def on_message(self, message: str | bytes) -> None:
            await asyncio.sleep(0)
            if raised is asyncio.CancelledError:
                cancelled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                cancelled.cancel()
                await cancelled
            raise raised()

    async def main() -> int | None:
        async with ws.app([("/ws", Fails)]) as url:
            conn = await websocket_connect(url + "/ws")
            await conn.write_message("boom")
            assert await conn.read_message() is None
            return conn.close_code

    with caplog.at_level(logging.ERROR, logger="squall.application"):
        assert ws.run(main()) == 1011
    assert any(r.getMessage().startswith("Uncaught exception") for r in caplog.records)


def test_a_plain_future_from_on_message_cancelled_from_outside_closes_1001_unlogged(
    ws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A gen.coroutine's Future (no Task) cannot say who cancelled it: the loop shutting
    # down is the common case, so it closes with 1001 and logs nothing.
    class Waits(WebSocketHandler):
        def on_message(self, message: str | bytes) -> asyncio.Future[None]:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_later(0.01, fut.cancel)
            return fut

    async def main() -> int | None:
        async with ws.app([("/ws", Waits)]) as url:
            conn = await websocket_connect(url + "/ws")
            await conn.write_message("wait")
            assert await conn.read_message() is None
            return conn.close_code

    with caplog.at_level(logging.ERROR, logger="squall.application"):
        assert ws.run(main()) == 1001
    assert not any(r.getMessage().startswith("Uncaught exception") for r in caplog.records)


def test_the_client_pings_with_a_str_as_utf8(ws: Any) -> None:
    class Pings(WebSocketHandler):
        def on_ping(self, data: bytes) -> None:
            self.write_message(data, binary=True)

    async def main() -> None:
        async with ws.app([("/ws", Pings)]) as url:
            conn = await websocket_connect(url + "/ws")
            conn.ping("héllo")
            assert await conn.read_message() == "héllo".encode()
            with pytest.raises(ValueError):
                conn.ping("a" * 126)
            conn.close()

    ws.run(main())
