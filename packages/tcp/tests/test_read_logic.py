"""The read logic of a stream fed chunk by chunk (no socket): whole, byte by byte, fuzzed.

``_data_received`` is what the protocol calls for each chunk the transport reads; feeding it
directly checks the buffering and searching rules independently of how TCP cuts the data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squall.loop import IOLoop
from squall.tcp import BaseIOStream, StreamClosedError, UnsatisfiableReadError


@pytest.fixture(scope="module")
def loop() -> Iterator[IOLoop]:
    io_loop = IOLoop(use_uvloop=False)
    yield io_loop
    io_loop.close()
    IOLoop.clear_current()


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


def _feed(stream: BaseIOStream, pieces: list[bytes]) -> None:
    for piece in pieces:
        stream._data_received(piece)


@pytest.mark.parametrize("mode", ["whole", "byte by byte", "with trailing bytes"])
def test_read_until_finds_a_delimiter_however_the_data_is_cut(loop: IOLoop, mode: str) -> None:
    message = b"HEAD / HTTP/1.1\r\nX: y\r\n\r\n"
    data = message + (b"TRAILING" if mode == "with trailing bytes" else b"")
    pieces = [data] if mode != "byte by byte" else [data[i : i + 1] for i in range(len(data))]
    stream = BaseIOStream()
    future = stream.read_until(b"\r\n\r\n")
    _feed(stream, pieces)
    assert future.result() == message
    rest = stream.read_bytes(8, partial=True)
    if mode == "with trailing bytes":
        assert rest.result() == b"TRAILING"
    else:
        assert not rest.done()


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(st.sampled_from([b"a", b"b", b"\r", b"\n"]), max_size=60).map(b"".join),
    delimiter=st.sampled_from([b"\n", b"\r\n", b"ab", b"aab", b"\r\n\r\n"]),
    cuts=st.lists(st.integers(min_value=0, max_value=70), max_size=12),
    max_bytes=st.one_of(st.none(), st.integers(min_value=1, max_value=70)),
)
def test_read_until_agrees_with_a_plain_search(
    loop: IOLoop, data: bytes, delimiter: bytes, cuts: list[int], max_bytes: int | None
) -> None:
    stream = BaseIOStream()
    future = stream.read_until(delimiter, max_bytes=max_bytes)
    _feed(stream, _chunks(data, cuts))
    position = data.find(delimiter)
    end = position + len(delimiter) if position != -1 else None
    over = max_bytes is not None and (
        (end is not None and end > max_bytes) or (end is None and len(data) >= max_bytes)
    )
    if over:
        error = future.exception()
        assert isinstance(error, StreamClosedError)
        assert isinstance(error.real_error, UnsatisfiableReadError)
        assert stream.closed()
    elif end is not None:
        assert future.result() == data[:end]
    else:
        assert not future.done()
        stream.close()


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=80),
    cuts=st.lists(st.integers(min_value=0, max_value=90), max_size=12),
    wanted=st.integers(min_value=0, max_value=90),
    partial=st.booleans(),
)
def test_read_bytes_and_read_into_agree_with_slicing(
    loop: IOLoop, data: bytes, cuts: list[int], wanted: int, partial: bool
) -> None:
    pieces = _chunks(data, cuts)
    stream = BaseIOStream()
    future = stream.read_bytes(wanted, partial=partial)
    first = pieces[0] if pieces else b""
    _feed(stream, pieces[:1])
    if len(first) >= wanted:
        assert future.result() == first[:wanted]
    elif partial and first:
        assert future.result() == first
    else:
        _feed(stream, pieces[1:])
        if len(data) >= wanted:
            assert future.result() == data[:wanted]
        else:
            assert not future.done()
    target = bytearray(4)
    other = BaseIOStream()
    into = other.read_into(target)
    _feed(other, pieces)
    if len(data) >= 4:
        assert into.result() == 4 and bytes(target) == data[:4]
    else:
        assert not into.done()
    stream.close()
    other.close()


def test_read_until_regex_byte_by_byte(loop: IOLoop) -> None:
    stream = BaseIOStream()
    future = stream.read_until_regex(re.compile(rb"\d{3}-\d{4}"))
    data = b"call 555-1234 now"
    _feed(stream, [data[i : i + 1] for i in range(len(data))])
    assert future.result() == b"call 555-1234"
    stream.close()


def test_stream_closed_error_is_squall_loops_shared_class() -> None:
    import squall.loop
    import squall.tcp

    assert squall.tcp.StreamClosedError is squall.loop.StreamClosedError
    assert not issubclass(squall.tcp.StreamClosedError, squall.tcp.TCPError)
    assert issubclass(squall.tcp.UnsatisfiableReadError, squall.tcp.TCPError)
