"""WebSocketProtocol's writing and reading against a transport that records what it gets:
big frames go to uvloop as (header, payload) through ``writelines``, to any other transport
(asyncio's, squall.asgi's) as one ``write``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from squall.websocket._connection import WRITELINES_FROM, WebSocketProtocol
from squall.websocket._frames import BINARY, TEXT, encode_frame, mask_bytes


class WriteOnlyTransport(asyncio.Transport):
    """Implements ``write`` only: ``writelines`` is asyncio.Transport's default."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 5555) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def is_closing(self) -> bool:
        return False


class LinesTransport(WriteOnlyTransport):
    """Records ``writelines`` calls apart from ``write`` calls."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[list[bytes]] = []

    def writelines(self, list_of_data: Any) -> None:
        self.lines.append([bytes(d) for d in list_of_data])


class UvloopLikeTransport(LinesTransport):
    """Passes for uvloop's (the protocol trusts only uvloop's writelines, see below)."""


UvloopLikeTransport.__module__ = "uvloop.loop"


def server(transport: asyncio.Transport, received: list[str | bytes]) -> WebSocketProtocol:
    protocol = WebSocketProtocol(is_client=False, on_message=received.append, on_close=lambda: None)
    protocol.connection_made(transport)
    protocol.start()
    return protocol


@pytest.mark.parametrize("size", [0, 125, 126, WRITELINES_FROM - 1, WRITELINES_FROM, 70_000])
def test_a_message_leaves_as_one_frame_on_a_write_only_transport(size: int) -> None:
    tr = WriteOnlyTransport()
    server(tr, []).send_message(b"z" * size, True)
    assert tr.writes == [encode_frame(BINARY, b"z" * size)]


def test_a_big_payload_goes_to_uvloops_writelines_unjoined_and_a_small_one_to_write() -> None:
    tr = UvloopLikeTransport()
    protocol = server(tr, [])
    big = b"\x01" * WRITELINES_FROM
    protocol.send_message(big, True)
    protocol.send_message("small", False)
    assert tr.lines == [[encode_frame(BINARY, big)[:-WRITELINES_FROM], big]]
    assert tr.writes == [encode_frame(TEXT, b"small")]


def test_other_transports_get_big_frames_through_write() -> None:
    # asyncio's socket transport (3.12, 3.13) has a writelines that never pauses the
    # protocol: back-pressure would be lost, so it is not used.
    tr = LinesTransport()
    big = b"\x02" * (WRITELINES_FROM * 2)
    server(tr, []).send_message(big, True)
    assert tr.lines == []
    assert tr.writes == [encode_frame(BINARY, big)]


def test_messages_arriving_together_or_in_pieces_are_delivered_in_order() -> None:
    key = b"\x10\x20\x30\x40"

    def client_frame(b0: int, payload: bytes) -> bytes:
        n = len(payload)
        head = bytes((b0, 0x80 | n)) if n < 126 else bytes((b0, 0xFE)) + n.to_bytes(2, "big")
        return head + key + mask_bytes(key, payload)

    wire = client_frame(0x81, b"one") + client_frame(0x82, b"2" * 300) + client_frame(0x81, b"3")
    for step in (len(wire), 1, 7):
        received: list[str | bytes] = []
        protocol = server(WriteOnlyTransport(), received)
        for i in range(0, len(wire), step):
            protocol.data_received(wire[i : i + step])
        assert received == ["one", b"2" * 300, "3"], step


def _protocol_with_pings(interval: float, timeout: float | None) -> WebSocketProtocol:
    return WebSocketProtocol(
        is_client=False,
        on_message=lambda message: None,
        on_close=lambda: None,
        ping_interval=interval,
        ping_timeout=timeout,
    )


def test_ping_timeout_longer_than_interval_warns_once_naming_both(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("squall.websocket._connection._warned_ping_pairs", set())
    with caplog.at_level("WARNING", logger="squall.websocket"):
        first = _protocol_with_pings(10, 30)
        _protocol_with_pings(10, 30)  # a second connection with the same settings
    warnings = [r.getMessage() for r in caplog.records if r.name == "squall.websocket"]
    assert len(warnings) == 1
    assert "ping_timeout 30s" in warnings[0] and "ping_interval 10s" in warnings[0]
    assert first._ping_timeout == 10  # the pong is awaited one interval, as Tornado


def test_ping_timeout_within_interval_is_kept_without_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("squall.websocket._connection._warned_ping_pairs", set())
    with caplog.at_level("WARNING", logger="squall.websocket"):
        within = _protocol_with_pings(10, 5)
        never = _protocol_with_pings(10, 0)
    assert not [r for r in caplog.records if r.name == "squall.websocket"]
    assert within._ping_timeout == 5 and never._ping_timeout == 0
