"""The sans-I/O frame parser and writer: every vector whole, one byte at a time, with trailing
bytes; every RFC 6455 violation and its close code; hypothesis fuzz and round trips."""

from __future__ import annotations

import gc
import zlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squall.websocket._deflate import Deflater, InflaterImpl
from squall.websocket._errors import ProtocolError
from squall.websocket._frames import (
    BINARY,
    CLOSE,
    CONTINUATION,
    NEED_DATA,
    PING,
    PONG,
    TEXT,
    Close,
    FrameParser,
    Message,
    Ping,
    Pong,
    close_code_is_valid,
    encode_close,
    encode_frame,
    mask_bytes,
)

KEY = b"\x37\xfa\x21\x3d"


def raw(b0: int, payload: bytes, *, masked: bool = True, length: int | None = None) -> bytes:
    """A frame built by hand (any bits, any declared length), masked with KEY."""
    n = len(payload) if length is None else length
    mbit = 0x80 if masked else 0
    if n < 126:
        head = bytes((b0, n | mbit))
    elif n < 65536:
        head = bytes((b0, 126 | mbit)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, 127 | mbit)) + n.to_bytes(8, "big")
    if masked:
        return head + KEY + mask_bytes(KEY, payload)
    return head + payload


def events_of(parser: FrameParser) -> list[object]:
    out: list[object] = []
    while True:
        ev = parser.next_event()
        if ev is NEED_DATA:
            return out
        out.append(ev)


def whole(data: bytes, **kw: object) -> list[object]:
    p = FrameParser(**kw)  # type: ignore[arg-type]
    p.receive_data(data)
    return events_of(p)


def bytewise(data: bytes, **kw: object) -> list[object]:
    p = FrameParser(**kw)  # type: ignore[arg-type]
    out: list[object] = []
    for i in range(len(data)):
        p.receive_data(data[i : i + 1])
        out += events_of(p)
    return out


def trailing(data: bytes, **kw: object) -> list[object]:
    """Followed by the first bytes of another frame: those wait, the events are the same."""
    p = FrameParser(**kw)  # type: ignore[arg-type]
    p.receive_data(data + raw(0x81, b"next")[:3])
    out = events_of(p)
    assert p.buffered == 3 or any(isinstance(e, Close) for e in out)
    return out


FEEDS: list[Callable[..., list[object]]] = [whole, bytewise, trailing]


def describe(events: list[object]) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for e in events:
        if isinstance(e, Message):
            out.append(("message", e.data))
        elif isinstance(e, Ping):
            out.append(("ping", e.payload))
        elif isinstance(e, Pong):
            out.append(("pong", e.payload))
        elif isinstance(e, Close):
            out.append(("close", (e.code, e.reason)))
    return out


VALID = [
    ("text", raw(0x81, b"Hello"), [("message", "Hello")]),
    ("binary", raw(0x82, b"\x00\xff"), [("message", b"\x00\xff")]),
    ("empty text", raw(0x81, b""), [("message", "")]),
    ("126-byte length", raw(0x82, b"a" * 300), [("message", b"a" * 300)]),
    ("64-bit length", raw(0x82, b"b" * 70000), [("message", b"b" * 70000)]),
    # The lengths where the header's form changes (7-bit, 16-bit, 64-bit).
    ("125 bytes", raw(0x82, b"c" * 125), [("message", b"c" * 125)]),
    ("126 bytes", raw(0x82, b"d" * 126), [("message", b"d" * 126)]),
    ("65535 bytes", raw(0x82, b"e" * 65535), [("message", b"e" * 65535)]),
    ("65536 bytes of text", raw(0x81, b"f" * 65536), [("message", "f" * 65536)]),
    ("multibyte text", raw(0x81, "κόσμε €".encode()), [("message", "κόσμε €")]),
    (
        "frames back to back",
        raw(0x81, b"one") + raw(0x82, b"two" * 2000) + raw(0x89, b"") + raw(0x81, b"3"),
        [("message", "one"), ("message", b"two" * 2000), ("ping", b""), ("message", "3")],
    ),
    (
        "fragmented text with a ping between",
        raw(0x01, b"Hel") + raw(0x89, b"p") + raw(0x80, b"lo"),
        [("ping", b"p"), ("message", "Hello")],
    ),
    (
        "UTF-8 split across fragments",
        raw(0x01, "κό".encode()[:3]) + raw(0x80, "κό".encode()[3:]),
        [("message", "κό")],
    ),
    ("ping", raw(0x89, b"abc"), [("ping", b"abc")]),
    ("pong", raw(0x8A, b""), [("pong", b"")]),
    ("close without payload", raw(0x88, b""), [("close", (None, ""))]),
    ("close with code and reason", raw(0x88, b"\x03\xe8bye"), [("close", (1000, "bye"))]),
    ("close 4999", raw(0x88, (4999).to_bytes(2, "big")), [("close", (4999, ""))]),
]


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("name", "data", "expected"), VALID, ids=[v[0] for v in VALID])
def test_valid_frames_give_their_events(
    feed: Callable[..., list[object]], name: str, data: bytes, expected: list[object]
) -> None:
    assert describe(feed(data)) == expected


def test_nothing_is_parsed_after_a_close_frame() -> None:
    p = FrameParser()
    p.receive_data(raw(0x88, b"\x03\xe8") + raw(0x81, b"after"))
    assert describe(events_of(p)) == [("close", (1000, ""))]
    p.receive_data(raw(0x81, b"more"))
    assert p.next_event() is NEED_DATA


def test_client_side_parser_takes_unmasked_frames() -> None:
    assert describe(whole(raw(0x81, b"hi", masked=False), mask_required=False)) == [
        ("message", "hi")
    ]


VIOLATIONS = [
    ("unmasked client frame", raw(0x81, b"x", masked=False), 1002),
    ("RSV1 without deflate", raw(0xC1, b"x"), 1002),
    ("RSV2", raw(0xA1, b"x"), 1002),
    ("RSV3", raw(0x91, b"x"), 1002),
    ("reserved data opcode 3", raw(0x83, b""), 1002),
    ("reserved control opcode 11", raw(0x8B, b""), 1002),
    ("fragmented ping", raw(0x09, b"x"), 1002),
    ("ping of 126 bytes", raw(0x89, b"x" * 126), 1002),
    ("continuation without a message", raw(0x80, b"x"), 1002),
    ("text inside a fragmented message", raw(0x01, b"a") + raw(0x81, b"b"), 1002),
    ("64-bit length with its top bit set", raw(0x82, b"", length=1 << 63)[:10], 1002),
    ("invalid UTF-8", raw(0x81, b"\xce\xba\xff"), 1007),
    ("text ending mid-sequence", raw(0x81, b"\xce"), 1007),
    ("invalid UTF-8 in a later fragment", raw(0x01, b"ok") + raw(0x80, b"\xc0\xaf"), 1007),
    ("close with a 1-byte payload", raw(0x88, b"\x03"), 1002),
    ("close code 999", raw(0x88, (999).to_bytes(2, "big")), 1002),
    ("close code 1004", raw(0x88, (1004).to_bytes(2, "big")), 1002),
    ("close code 1005", raw(0x88, (1005).to_bytes(2, "big")), 1002),
    ("close code 1006", raw(0x88, (1006).to_bytes(2, "big")), 1002),
    ("close code 1015", raw(0x88, (1015).to_bytes(2, "big")), 1002),
    ("close code 1016", raw(0x88, (1016).to_bytes(2, "big")), 1002),
    ("close code 2999", raw(0x88, (2999).to_bytes(2, "big")), 1002),
    ("close code 5000", raw(0x88, (5000).to_bytes(2, "big")), 1002),
    ("close reason not UTF-8", raw(0x88, b"\x03\xe8\xff"), 1007),
]


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("name", "data", "code"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_violations_close_with_their_code(
    feed: Callable[..., list[object]], name: str, data: bytes, code: int
) -> None:
    with pytest.raises(ProtocolError) as info:
        feed(data)
    assert info.value.code == code


def test_masked_frame_from_a_server_is_refused() -> None:
    with pytest.raises(ProtocolError) as info:
        whole(raw(0x81, b"x"), mask_required=False)
    assert info.value.code == 1002


def test_a_parser_stays_failed_after_a_violation() -> None:
    p = FrameParser()
    p.receive_data(raw(0xA1, b"x"))
    with pytest.raises(ProtocolError) as first:
        p.next_event()
    p.receive_data(raw(0x81, b"fine"))
    with pytest.raises(ProtocolError) as again:
        p.next_event()
    assert (again.value.code, str(again.value)) == (first.value.code, str(first.value))


def _live_parsers() -> int:
    return sum(type(obj) is FrameParser for obj in gc.get_objects())


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.__name__)
@pytest.mark.usefixtures("no_cycle_collector")
def test_a_failed_parser_is_freed_without_the_cycle_collector(
    feed: Callable[..., list[object]],
) -> None:
    # The parser kept the ProtocolError it raised, whose traceback's frames hold the parser
    # (and its caller: the connection): a failed WebSocket waited for the cyclic collector.
    before = _live_parsers()
    for _ in range(3):
        with pytest.raises(ProtocolError) as info:
            feed(raw(0xA1, b"x"))
        assert info.value.code == 1002
        del info
    assert _live_parsers() == before


def test_invalid_utf8_fails_before_the_frame_is_complete() -> None:
    p = FrameParser()
    frame = raw(0x81, b"\xff" + b"a" * 10000)
    p.receive_data(frame[:20])  # header and the first payload bytes only
    with pytest.raises(ProtocolError) as info:
        p.next_event()
    assert info.value.code == 1007


def test_huge_declared_length_is_refused_from_the_header_alone() -> None:
    p = FrameParser(max_message_size=1024)
    p.receive_data(raw(0x82, b"", length=(1 << 62))[:14])  # a header announcing 4 EiB
    with pytest.raises(ProtocolError) as info:
        p.next_event()
    assert info.value.code == 1009


def test_a_whole_frame_over_the_limit_is_1009() -> None:
    for feed in FEEDS:
        with pytest.raises(ProtocolError) as info:
            feed(raw(0x82, b"a" * 1001), max_message_size=1000)
        assert info.value.code == 1009
    assert describe(whole(raw(0x82, b"a" * 1000), max_message_size=1000)) == [
        ("message", b"a" * 1000)
    ]


def test_a_big_frame_read_whole_leaves_the_buffer_free_to_grow() -> None:
    # The payload is read through a view of the buffer, which is a bytearray once a frame
    # came in pieces; a view still alive would make the next receive_data fail.
    first, second = raw(0x82, b"x" * 5000), raw(0x81, b"after")
    p = FrameParser()
    p.receive_data(first[:3])
    assert p.next_event() is NEED_DATA
    p.receive_data(first[3:] + second[:4])
    assert describe([p.next_event()]) == [("message", b"x" * 5000)]
    p.receive_data(second[4:])
    assert describe(events_of(p)) == [("message", "after")]


def test_fragments_adding_up_past_the_limit_are_1009() -> None:
    data = raw(0x02, b"a" * 600) + raw(0x80, b"b" * 600)
    for feed in FEEDS:
        with pytest.raises(ProtocolError) as info:
            feed(data, max_message_size=1000)
        assert info.value.code == 1009
    assert describe(whole(data, max_message_size=1200)) == [("message", b"a" * 600 + b"b" * 600)]


def _deflated(data: bytes) -> bytes:
    return Deflater(6, 8, 15, False).compress(data)


def test_compressed_message_is_inflated() -> None:
    payload = _deflated(b"hello hello hello")
    for feed in FEEDS:
        events = feed(raw(0xC2, payload), inflater=InflaterImpl(False))
        assert describe(events) == [("message", b"hello hello hello")]


def test_compressed_fragments_rsv1_only_on_the_first() -> None:
    payload = _deflated("ünïcode text".encode())
    data = raw(0x41, payload[:4]) + raw(0x80, payload[4:])
    assert describe(whole(data, inflater=InflaterImpl(False))) == [("message", "ünïcode text")]
    with pytest.raises(ProtocolError) as info:
        whole(raw(0x41, payload[:4]) + raw(0xC0, payload[4:]), inflater=InflaterImpl(False))
    assert info.value.code == 1002


def test_compression_bomb_is_1009_as_it_inflates() -> None:
    bomb = _deflated(b"\x00" * 5_000_000)
    assert len(bomb) < 10_000
    with pytest.raises(ProtocolError) as info:
        whole(raw(0xC2, bomb), inflater=InflaterImpl(False), max_message_size=100_000)
    assert info.value.code == 1009


def test_corrupt_compressed_data_is_1007() -> None:
    with pytest.raises(ProtocolError) as info:
        whole(raw(0xC2, b"\xff\xff\xff\xff"), inflater=InflaterImpl(False))
    assert info.value.code == 1007


# -- writer ----------------------------------------------------------------------------------


def test_writer_lengths_and_bits() -> None:
    assert encode_frame(TEXT, b"hi") == b"\x81\x02hi"
    assert encode_frame(BINARY, b"x" * 200)[:4] == b"\x82\x7e\x00\xc8"
    assert encode_frame(BINARY, b"x" * 70000)[:10] == b"\x82\x7f" + (70000).to_bytes(8, "big")
    assert encode_frame(TEXT, b"a", fin=False, rsv1=True)[0] == 0x41
    masked = encode_frame(TEXT, b"hello", mask=True)
    assert masked[1] == 0x85 and mask_bytes(masked[2:6], masked[6:]) == b"hello"


def test_writer_refuses_big_or_fragmented_control_frames() -> None:
    with pytest.raises(ValueError):
        encode_frame(PING, b"x" * 126)
    with pytest.raises(ValueError):
        encode_frame(CLOSE, b"", fin=False)


def test_close_payloads() -> None:
    assert encode_close() == b""
    assert encode_close(1001) == b"\x03\xe9"
    assert encode_close(None, "bye") == b"\x03\xe8bye"
    with pytest.raises(ValueError):
        encode_close(1005)
    with pytest.raises(ValueError):
        encode_close(1000, "x" * 124)


def test_close_code_table() -> None:
    valid = [c for c in range(0, 6000) if close_code_is_valid(c)]
    assert valid == [*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)]


# -- fuzz ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.booleans(), st.booleans())
def test_random_bytes_give_events_or_a_protocol_error(
    data: bytes, server: bool, deflate: bool
) -> None:
    p = FrameParser(
        mask_required=server,
        max_message_size=4096,
        inflater=InflaterImpl(False) if deflate else None,
    )
    p.receive_data(data)
    try:
        events_of(p)
    except ProtocolError as exc:
        assert exc.code in (1002, 1007, 1009)


@st.composite
def messages(draw: st.DrawFn) -> tuple[int, bytes, list[int]]:
    binary = draw(st.booleans())
    if binary:
        data = draw(st.binary(max_size=2000))
    else:
        data = draw(st.text(max_size=500)).encode("utf-8")
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    return (BINARY if binary else TEXT), data, cuts


@settings(max_examples=200, deadline=None)
@given(st.lists(messages(), min_size=1, max_size=4), st.booleans(), st.booleans(), st.data())
def test_writer_to_parser_round_trip(
    msgs: list[tuple[int, bytes, list[int]]], masked: bool, compress: bool, data: st.DataObject
) -> None:
    deflater = Deflater(6, 8, 15, False) if compress else None
    wire = b""
    expected: list[object] = []
    for opcode, payload, cuts in msgs:
        body = deflater.compress(payload) if deflater else payload
        cuts = [min(c, len(body)) for c in cuts]
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        for i, piece in enumerate(pieces):
            op = opcode if i == 0 else CONTINUATION
            rsv1 = compress and i == 0
            wire += encode_frame(op, piece, fin=i == len(pieces) - 1, rsv1=rsv1, mask=masked)
            if i < len(pieces) - 1 and data.draw(st.booleans()):  # between fragments
                wire += encode_frame(PONG, b"pp", mask=masked)
                expected.append(("pong", b"pp"))
        expected.append(("message", payload.decode() if opcode == TEXT else payload))
    p = FrameParser(mask_required=masked, inflater=InflaterImpl(False) if compress else None)
    split = data.draw(st.integers(0, len(wire)))
    p.receive_data(wire[:split])
    got = events_of(p)
    p.receive_data(wire[split:])
    got += events_of(p)
    assert describe(got) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(messages(), min_size=1, max_size=5), st.booleans(), st.data())
def test_any_chunking_gives_the_events_of_the_whole(
    msgs: list[tuple[int, bytes, list[int]]], masked: bool, data: st.DataObject
) -> None:
    # Whole frames take the parser's fast path, pieces its general path: same events.
    wire = b"".join(encode_frame(op, payload, mask=masked) for op, payload, _ in msgs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    p = FrameParser(mask_required=masked)
    got: list[object] = []
    for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        p.receive_data(wire[a:b])
        got += events_of(p)
    assert describe(got) == describe(whole(wire, mask_required=masked))
    assert describe(got) == [
        ("message", payload.decode() if op == TEXT else payload) for op, payload, _ in msgs
    ]


def test_zlib_window_of_8_bits_is_not_available_for_compression() -> None:
    # Why the server declines server_max_window_bits=8 (see _deflate).
    with pytest.raises(ValueError):
        zlib.compressobj(6, zlib.DEFLATED, -8)
