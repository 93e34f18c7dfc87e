"""The encoders: whole bodies and streams decode back, and every sync flush is decodable."""

from __future__ import annotations

import zlib

import brotli
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from squall.compress import CODECS, Codec

TEXT = b"".join(b"<p>line %d of a page, some words repeat</p>\n" % i for i in range(400))


def decode_all(name: str, data: bytes) -> bytes:
    if name == "gzip":
        return zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if name == "br":
        return bytes(brotli.decompress(data))
    return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(data))


class Incremental:
    """A streaming decoder, as a browser runs one on the bytes arrived so far."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "gzip":
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "br":
            self._b = brotli.Decompressor()
        else:
            self._d = zstandard.ZstdDecompressor().decompressobj()

    def feed(self, data: bytes) -> bytes:
        if self.name == "gzip":
            return self._z.decompress(data)
        if self.name == "br":
            return bytes(self._b.process(data))
        return bytes(self._d.decompress(data))


CODEC_NAMES = ["gzip", "br", "zstd"]


def codec(name: str) -> Codec:
    return CODECS[name]


def test_all_three_codings_are_installed_with_the_extras() -> None:
    assert list(CODECS) == ["zstd", "br", "gzip"]


@pytest.mark.parametrize("name", CODEC_NAMES)
def test_a_whole_body_round_trips_and_shrinks(name: str) -> None:
    c = codec(name)
    encoded = c.whole(TEXT, c.default_level)
    assert len(encoded) < len(TEXT) // 5
    assert decode_all(name, encoded) == TEXT


@pytest.mark.parametrize("level", [1, 9])
def test_the_level_given_is_the_level_used(level: int) -> None:
    assert codec("gzip").whole(TEXT, level) == zlib.compress(TEXT, level, 16 + zlib.MAX_WBITS)
    assert codec("br").whole(TEXT, level) == brotli.compress(TEXT, quality=level)
    expected = zstandard.ZstdCompressor(level=level).compress(TEXT)
    assert codec("zstd").whole(TEXT, level) == expected


@pytest.mark.parametrize("name", CODEC_NAMES)
def test_each_sync_flush_makes_everything_so_far_decodable(name: str) -> None:
    encoder = codec(name).stream(codec(name).default_level)
    decoder = Incremental(name)
    sent = b""
    got = b""
    for i in range(5):
        part = b"chunk %d: " % i + TEXT[: 100 * (i + 1)]
        sent += part
        got += decoder.feed(encoder.compress(part) + encoder.flush())
        assert got == sent, f"after flush {i} the client cannot read what was sent"
    got += decoder.feed(encoder.finish())
    assert got == sent


@pytest.mark.parametrize("name", CODEC_NAMES)
def test_a_stream_decodes_whole_as_well(name: str) -> None:
    encoder = codec(name).stream(3 if name != "br" else 4)
    out = encoder.compress(b"") + encoder.flush()
    out += encoder.compress(TEXT) + encoder.flush()
    out += encoder.compress(b"tail") + encoder.finish()
    assert decode_all(name, out) == TEXT + b"tail"


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(CODEC_NAMES),
    parts=st.lists(st.binary(max_size=3000), max_size=6),
)
def test_any_chunking_of_any_bytes_round_trips(name: str, parts: list[bytes]) -> None:
    encoder = codec(name).stream(codec(name).default_level)
    decoder = Incremental(name)
    got = b""
    for part in parts:
        got += decoder.feed(encoder.compress(part) + encoder.flush())
    got += decoder.feed(encoder.finish())
    assert got == b"".join(parts)
