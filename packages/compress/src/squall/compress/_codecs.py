"""The encoders: gzip (always), Brotli (``brotli``), Zstandard (stdlib 3.14+ or ``zstandard``).

Each codec offers two ways to compress:

- ``whole(data, level)``: a complete encoded body in one call (a response finished in one
  piece); the cheapest path.
- ``stream(level)``: an :class:`Encoder` for a streamed response, whose ``flush()`` is a
  *sync flush*: every byte given so far can be decoded from what was returned so far (a
  client reading a streamed page sees each flushed part at once), and ``finish()`` ends the
  stream.

The optional libraries are imported when this module is (at the construction of an
Application with compression on, never per request; ``_plugin`` explains why not earlier); a
codec whose library is missing is simply absent from ``CODECS``.
"""

from __future__ import annotations

import importlib
import sys
import threading
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol


class Encoder(Protocol):
    """A streaming compressor of one response body."""

    def compress(self, data: bytes) -> bytes:
        """Feed ``data``; returns what is ready (may be empty)."""
        ...

    def flush(self) -> bytes:
        """Everything fed so far, decodable by the client now (a sync flush)."""
        ...

    def finish(self) -> bytes:
        """The end of the stream; the encoder is unusable after it."""
        ...


class Codec(NamedTuple):
    """One content coding squall-compress can produce.

    Attributes:
        name: the ``Content-Encoding`` token (``gzip``, ``br``, ``zstd``).
        whole: ``f(data, level) -> encoded`` for a complete body.
        stream: ``f(level) -> Encoder`` for a streamed body.
        levels: the valid levels.
        default_level: the level used when ``compress_levels`` does not name this coding.
        extra: the squall-compress extra that installs its library (None: always there).
    """

    name: str
    whole: Callable[[bytes, int], bytes]
    stream: Callable[[int], Encoder]
    levels: range
    default_level: int
    extra: str | None


# -- gzip --------------------------------------------------------------------------------

_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate


class _GzipEncoder:
    __slots__ = ("_z",)

    def __init__(self, level: int) -> None:
        self._z = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)

    def compress(self, data: bytes) -> bytes:
        return self._z.compress(data)

    def flush(self) -> bytes:
        return self._z.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._z.flush(zlib.Z_FINISH)


def _gzip_whole(data: bytes, level: int) -> bytes:
    # zlib directly: gzip.compress() adds a timestamp and a Python-level header for the same
    # bytes (the header's mtime is 0 here, which makes equal bodies encode equally).
    return zlib.compress(data, level, _GZIP_WBITS)


GZIP = Codec("gzip", _gzip_whole, _GzipEncoder, range(1, 10), 6, None)


# -- Brotli ------------------------------------------------------------------------------

_brotli: Any
try:
    # through importlib: brotli ships no type information
    _brotli = importlib.import_module("brotli")
except ImportError:  # the "brotli" extra is not installed
    _brotli = None


class _BrotliEncoder:
    __slots__ = ("_c",)

    def __init__(self, level: int) -> None:
        self._c = _brotli.Compressor(quality=level)

    def compress(self, data: bytes) -> bytes:
        return bytes(self._c.process(data)) if data else b""

    def flush(self) -> bytes:
        return bytes(self._c.flush())

    def finish(self) -> bytes:
        return bytes(self._c.finish())


def _brotli_whole(data: bytes, level: int) -> bytes:
    return bytes(_brotli.compress(data, quality=level))


BROTLI = Codec("br", _brotli_whole, _BrotliEncoder, range(0, 12), 4, "brotli")


# -- Zstandard ---------------------------------------------------------------------------

# A compression context is costly to create (its tables): one per level and thread is kept
# for whole bodies. Streams get their own (they live as long as the response).
_local = threading.local()

_zstd_whole: Callable[[bytes, int], bytes] | None = None
_zstd_stream: Callable[[int], Encoder] | None = None

if sys.version_info >= (3, 14):  # pragma: no cover - the CI runs 3.11-3.13
    from compression import zstd as _stdzstd

    class _StdZstdEncoder:
        __slots__ = ("_c",)

        def __init__(self, level: int) -> None:
            self._c = _stdzstd.ZstdCompressor(level=level)

        def compress(self, data: bytes) -> bytes:
            return self._c.compress(data)

        def flush(self) -> bytes:
            return self._c.flush(_stdzstd.ZstdCompressor.FLUSH_BLOCK)

        def finish(self) -> bytes:
            return self._c.flush(_stdzstd.ZstdCompressor.FLUSH_FRAME)

    def _std_whole(data: bytes, level: int) -> bytes:
        return _stdzstd.compress(data, level=level)

    _zstd_whole, _zstd_stream = _std_whole, _StdZstdEncoder
    _ZSTD_EXTRA: str | None = None
else:
    _ZSTD_EXTRA = "zstd"
    _zstandard: Any
    try:
        # through importlib, like brotli: a type-check without the extra still passes
        _zstandard = importlib.import_module("zstandard")
    except ImportError:  # the "zstd" extra is not installed
        _zstandard = None

    if _zstandard is not None:

        class _ZstandardEncoder:
            __slots__ = ("_c",)

            def __init__(self, level: int) -> None:
                self._c = _zstandard.ZstdCompressor(level=level).compressobj()

            def compress(self, data: bytes) -> bytes:
                return bytes(self._c.compress(data))

            def flush(self) -> bytes:
                return bytes(self._c.flush(_zstandard.COMPRESSOBJ_FLUSH_BLOCK))

            def finish(self) -> bytes:
                return bytes(self._c.flush(_zstandard.COMPRESSOBJ_FLUSH_FINISH))

        def _zstandard_whole(data: bytes, level: int) -> bytes:
            contexts: dict[int, Any] | None = getattr(_local, "zstd", None)
            if contexts is None:
                contexts = _local.zstd = {}
            cctx = contexts.get(level)
            if cctx is None:
                cctx = contexts[level] = _zstandard.ZstdCompressor(level=level)
            return bytes(cctx.compress(data))

        _zstd_whole, _zstd_stream = _zstandard_whole, _ZstandardEncoder


def _build() -> dict[str, Codec]:
    codecs: dict[str, Codec] = {}
    if _zstd_whole is not None and _zstd_stream is not None:
        codecs["zstd"] = Codec("zstd", _zstd_whole, _zstd_stream, range(1, 23), 3, _ZSTD_EXTRA)
    if _brotli is not None:
        codecs["br"] = BROTLI
    codecs["gzip"] = GZIP
    return codecs


CODECS: dict[str, Codec] = _build()
"""The codings this installation can produce, in squall-compress's default preference order
(Zstandard, Brotli, gzip: for dynamic bodies at the default levels zstd is the fastest for
a size close to Brotli's)."""

KNOWN: dict[str, str | None] = {"zstd": _ZSTD_EXTRA, "br": "brotli", "gzip": None}
"""Every coding squall-compress knows → the extra that installs it (None: built in)."""
