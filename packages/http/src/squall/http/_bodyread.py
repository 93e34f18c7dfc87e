"""Reading a request body: the part of ``HTTPProtocol`` between a head and its end.

Kept apart from ``_protocol.py`` (a mixin of ``HTTPProtocol``, sharing its slots) because it
is off the hot path of bodiless requests. Rules:

- A Content-Length over the limit (the delegate's ``max_body_size`` or the server's) is
  refused with 413 before a byte of the body is read.
- ``100 Continue`` is sent when the client asked for it, the application did not answer in
  ``headers_received`` and no body byte has arrived yet.
- Under ``decompress_request`` gzip/deflate bodies are inflated piece by piece, with the
  inflated size bounded by ``max_body_size`` (decompression bombs → 413).
- Streamed bodies go to ``delegate.data_received``; when it returns an awaitable, pulling
  events stops until it completes (flow control). Other bodies go to a ``BodyCollector``
  (spooled to disk past ``spool_threshold``, forms parsed at the end).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import zlib
from typing import TYPE_CHECKING, Any, Final

from squall.http._body import BodyCollector
from squall.http._errors import HTTPInputError
from squall.http._events import EndOfMessage, Request

if TYPE_CHECKING:
    from squall.http._connection import HTTPConnection
    from squall.http._protocol import HTTPProtocol
    from squall.http._request import HTTPServerRequest

__all__ = ["burst_over", "flow_done", "inflate", "on_data", "on_end", "read_burst", "start_body"]

log: Final = logging.getLogger("squall.http")
_BURST_MAX: Final = 256 * 1024  # body bytes one connection may read per turn of the loop
_HEAD_KEEP: Final = 64 * 1024  # input kept for a raw-deflate retry until output appears
_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


def start_body(
    self: HTTPProtocol,
    ev: Request,
    request: HTTPServerRequest,
    conn: HTTPConnection,
    stream: bool,
    max_body: int | None,
) -> None:
    """Prepare to read the body of ``ev`` (limit, inflater, collector, 100 Continue)."""
    ctx = self._ctx
    lim = ctx.limits
    limit = lim.max_body_size if max_body is None else max_body
    self._parser.max_body_size = limit
    if conn.headers_written:
        return  # a streamed answer began in headers_received; the body is dropped later
    if ev.content_length > limit:
        self._bad_input(HTTPInputError("request body too large", 413))
        return
    self._decomp = None
    if ctx.decompress:
        ce = request.headers.get("Content-Encoding", "").strip().lower()
        if ce in ("gzip", "x-gzip", "deflate"):
            # zlib and gzip auto-detected; "deflate" may also be raw (see _Inflater).
            self._decomp = _Inflater(raw_fallback=ce == "deflate")
            self._inflated = 0
            del request.headers["Content-Encoding"]
            request.headers["X-Consumed-Content-Encoding"] = ce
    self._stream = stream
    if not stream:
        if limit != lim.max_body_size:
            lim = dataclasses.replace(lim, max_body_size=limit)
        try:
            self._collector = BodyCollector(request.headers, lim)
        except HTTPInputError as exc:
            self._bad_input(exc)
            return
    self._reading_body = True
    self._body_progress = self._body_start = self._loop.time()
    self._body_bytes = 0
    if ev.expect_continue and self._parser.buffered == 0:
        self._transport.write(_CONTINUE)  # type: ignore[union-attr]
    self._continue_pending = False


def on_data(self: HTTPProtocol, data: bytes) -> None:
    """Handle a piece of decoded body: inflate, then stream it or collect it."""
    if self._discarding or not self._reading_body:
        return
    if self._decomp is not None:
        try:
            data = self._inflate(data)
        except HTTPInputError as exc:
            self._bad_input(exc)
            return
        if not data:
            return
    if self._stream:
        try:
            result = self._delegate.data_received(data)
        except Exception:
            self._app_error("error in data_received")
            return
        if result is not None:
            self._flow_paused = True
            self._flow_since = self._loop.time()
            fut = asyncio.ensure_future(result)
            fut.add_done_callback(self._flow_done)
        return
    try:
        self._collector.feed(data)  # type: ignore[union-attr]
    except HTTPInputError as exc:
        self._bad_input(exc)


class _Inflater:
    """A decompressor for gzip or zlib bodies (auto-detected), optionally raw deflate.

    ``Content-Encoding: deflate`` means the zlib format, but some clients send a bare
    deflate stream (no zlib wrapper), as browsers and curl tolerate in responses. So
    with ``raw_fallback`` the input is kept until the decompressor has produced output
    (at most ``_HEAD_KEEP`` bytes): if it fails before that, the same input is inflated
    again as raw deflate (wbits -15).
    """

    __slots__ = ("_d", "_head")

    def __init__(self, raw_fallback: bool) -> None:
        self._d: Any = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self._head: bytes | None = b"" if raw_fallback else None

    @property
    def eof(self) -> bool:
        return bool(self._d.eof)

    @property
    def unconsumed_tail(self) -> bytes:
        return bytes(self._d.unconsumed_tail)

    def decompress(self, data: bytes, max_length: int) -> bytes:
        head = self._head
        if head is None:
            return bytes(self._d.decompress(data, max_length))
        head += data
        try:
            out = bytes(self._d.decompress(data, max_length))
        except zlib.error:
            self._head = None
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            return bytes(self._d.decompress(head, max_length))
        # Output means the wrapper was right; past the cap we stop keeping the input.
        self._head = None if out or len(head) > _HEAD_KEEP else head
        return out


def inflate(self: HTTPProtocol, data: bytes) -> bytes:
    """Inflate ``data``; the inflated total may not pass ``max_body_size`` (413)."""
    decomp = self._decomp
    room = self._parser.max_body_size - self._inflated
    try:
        out = decomp.decompress(data, room + 1)
    except zlib.error as exc:
        raise HTTPInputError(f"bad compressed request body: {exc}", 400) from exc
    self._inflated += len(out)
    if self._inflated > self._parser.max_body_size or decomp.unconsumed_tail:
        raise HTTPInputError("request body too large once decompressed", 413)
    return bytes(out)


def read_burst(self: HTTPProtocol, n: int) -> None:
    """Count body bytes read in this turn of the loop; past ``_BURST_MAX``, pause until the next.

    asyncio reads a ready socket once per turn (at most 256 KiB), but uvloop (libuv) reads
    it up to 32 times in a row: a fast upload then had the loop to itself for megabytes,
    and new connections waited their turn (about 1 s in the soak of issue 21, against
    0.25 s under asyncio). Pausing until the loop has gone round once gives every
    connection, and the accepting socket, its turn; asyncio never reaches the bound.
    """
    if self._burst == 0:
        self._loop.call_soon(self._burst_over)
    self._burst += n
    if self._burst > _BURST_MAX and not self._read_paused:
        self._burst_paused = True
        self._pause_reading()


def burst_over(self: HTTPProtocol) -> None:
    """The loop went round: count afresh, and read again if the burst paused reading."""
    self._burst = 0
    if self._burst_paused:
        self._burst_paused = False
        if not self._closed and not self._flow_paused:
            self._resume_reading()


def flow_done(self: HTTPProtocol, fut: asyncio.Future[Any]) -> None:
    """A streaming ``data_received`` awaitable finished: resume pulling events."""
    self._flow_paused = False
    if self._closed:
        return
    self._flow_resumed()
    exc = fut.exception() if not fut.cancelled() else None
    if exc is not None:
        self._app_exception(exc, "error in data_received")
        return
    if self._read_paused:
        self._resume_reading()
    self._process_safely()


def on_end(self: HTTPProtocol, ev: EndOfMessage) -> None:
    """The body is complete: fill the request from the collector and dispatch it."""
    if self._discarding:
        self._discarding = False
        return
    if not self._reading_body:
        return
    request = self._request
    assert request is not None
    if self._decomp is not None:
        if not self._decomp.eof:
            self._bad_input(HTTPInputError("truncated compressed request body", 400))
            return
        self._decomp = None
    self._reading_body = False
    request.trailers = ev.trailers
    collector = self._collector
    if collector is not None:
        self._collector = None
        try:
            parsed = collector.finish()
        except HTTPInputError as exc:
            self._reading_body = True  # so the error path closes after answering
            self._bad_input(exc)
            return
        request._set_spooled_body(parsed.spool, parsed.body)
        request._body_arguments = parsed.body_arguments
        request._files = parsed.files
    self._dispatch()
