"""Reading a request body: ``BodyReader``, between a request head and its end.

Theory of operation
-------------------
A connection makes its reader when its first request with a body arrives and keeps it
(bodiless requests never pay for one). The connection feeds it the body's decoded pieces
and its end; the reader inflates, collects or streams them. Input the client got wrong
comes back as ``HTTPInputError`` (the connection answers it). What the reader needs from
the connection is the small ``BodyOwner`` interface, given to the calls that need it (and
carried by the callbacks they schedule), so the reader holds no reference to it: no cycle
leaves a closed connection to the cyclic collector. Rules:

- A Content-Length over the limit (set by ``connection.set_max_body_size`` in
  ``headers_received``, else the delegate's ``max_body_size``, else the server's) is
  refused with 413 before a byte of the body is read: the check comes after the
  delegate's ``headers_received``, so a limit raised there is honoured.
- ``100 Continue`` is sent when the client asked for it, the application did not answer in
  ``headers_received`` and no body byte has arrived yet.
- Under ``decompress_request`` gzip/deflate bodies are inflated piece by piece, with the
  inflated size bounded by ``max_body_size`` (decompression bombs → 413). A gzip body of
  several members is all of them; bytes after the compressed data are refused (400).
- Streamed bodies go to ``delegate.data_received`` in pieces of at most
  ``HTTPLimits.chunk_size`` bytes (the parser cuts the raw ones; an inflated body is
  inflated a piece at a time, so a small compressed chunk never becomes one huge
  allocation); when it returns an awaitable, pulling events (and inflating the rest) stops
  until it completes (flow control). Other bodies go to a ``BodyCollector`` (spooled to
  disk past ``spool_threshold``, forms parsed at the end).
- At most ``_BURST_MAX`` body bytes are read per turn of the loop (see ``received``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import zlib
from typing import Any, Final, Protocol

from squall.http._body import BodyCollector
from squall.http._connection import HTTPConnection
from squall.http._errors import HTTPInputError
from squall.http._events import Request
from squall.http._headers import HTTPHeaders
from squall.http._limits import HTTPLimits
from squall.http._parser import RequestParser
from squall.http._request import HTTPServerRequest
from squall.http._timeouts import ConnectionTimer

__all__ = ["BodyOwner", "BodyReader"]

_BURST_MAX: Final = 256 * 1024  # body bytes one connection may read per turn of the loop
_HEAD_KEEP: Final = 64 * 1024  # input kept for a raw-deflate retry until output appears


class BodyOwner(Protocol):
    """What a body reader needs from its connection."""

    @property
    def _parser(self) -> RequestParser:
        """The connection's parser (its ``max_body_size`` is set per request)."""

    @property
    def _delegate(self) -> Any:
        """The request's delegate (``data_received`` of a streamed body)."""

    @property
    def _closed(self) -> bool:
        """Whether the connection is closed."""

    _own_body_limits: bool  # a request set its own body limits (read them from its connection)

    @property
    def _read_paused(self) -> bool:
        """Whether reading from the socket is paused."""

    def _pause_reading(self) -> None:
        """Stop reading from the socket."""

    def _resume_reading(self) -> None:
        """Read from the socket again."""

    def _process_safely(self) -> None:
        """Pull the parser's events again (flow control let go)."""

    def _app_error(self, what: str) -> None:
        """The application raised (the exception being handled): answer and log it."""

    def _app_exception(self, exc: BaseException, what: str) -> None:
        """The application failed with ``exc``: answer and log it."""

    def _on_data(self, data: bytes) -> None:
        """Feed a piece of the body to the reader (b"": go on inflating); answer its errors."""


class BodyReader:
    """The body-reading state of one connection (see the module docstring)."""

    __slots__ = (
        "_loop",
        "_limits",
        "_decompress",
        "_timer",
        "_collector",
        "_inflater",
        "_inflated",
        "_stream",
        "_tail",
        "flow_paused",
        "_burst",
        "_burst_paused",
        "continue_pending",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limits: HTTPLimits,
        decompress: bool,
        timer: ConnectionTimer,
    ) -> None:
        self._loop = loop
        self._limits = limits
        self._decompress = decompress
        self._timer = timer
        self._collector: BodyCollector | None = None
        self._inflater: _Inflater | None = None
        self._inflated = 0
        self._stream = False
        self._tail = False  # a streamed body's inflater holds output not yet handed over
        self.flow_paused = False  # a streaming data_received has not completed yet
        self._burst = 0  # body bytes read in this turn of the loop
        self._burst_paused = False
        self.continue_pending = False  # the client waits for 100 Continue to send the body

    def begin(
        self,
        owner: BodyOwner,
        ev: Request,
        request: HTTPServerRequest,
        conn: HTTPConnection,
        stream: bool,
        max_body: int | None,
    ) -> bool:
        """Prepare to read the body of ``ev``; return whether reading begins.

        Not when the application already began a streamed answer in ``headers_received``
        (the body is dropped after it).

        Raises:
            HTTPInputError: the body is too large (413), or its Content-Type is unusable.
        """
        lim = self._limits
        limit = lim.max_body_size if max_body is None else max_body
        timeout = lim.body_timeout
        if owner._own_body_limits:
            # The request's own choices (HTTPConnection.set_max_body_size / set_body_timeout
            # in headers_received) win. Their slots stay unset when never used, and the
            # hint keeps the others from paying for a failed getattr; it may come from an
            # earlier request, so the values are read from this request's connection.
            owner._own_body_limits = False
            limit = getattr(conn, "_max_body", limit)
            timeout = getattr(conn, "_body_timeout", timeout)
        parser = owner._parser
        parser.max_body_size = limit
        if conn.headers_written:
            return False
        if ev.content_length > limit:
            raise HTTPInputError("request body too large", 413)
        self._inflater = None
        if self._decompress:
            self._inflater = _take_encoding(request.headers)
            self._inflated = 0
        self._stream = stream
        self._tail = False
        if stream:
            parser.max_data = lim.chunk_size
        else:
            if limit != lim.max_body_size:
                lim = dataclasses.replace(lim, max_body_size=limit)
            self._collector = BodyCollector(request.headers, lim)
        self._timer.body_timeout = timeout
        self._timer.body_begun()
        if ev.expect_continue and parser.buffered == 0:
            conn.send_continue()
        self.continue_pending = False
        return True

    def feed(self, owner: BodyOwner, data: bytes) -> None:
        """Handle a piece of decoded body: inflate, then stream it or collect it.

        Raises:
            HTTPInputError: bad compressed data, or the body grew past its limit.
        """
        if self._stream:
            if self._inflater is not None:
                self._stream_inflated(owner, data)
            else:
                self._deliver(owner, data)
            return
        if self._inflater is not None:
            data = self._inflate(data, owner._parser.max_body_size)
            if not data:
                return
        self._collector.feed(data)  # type: ignore[union-attr]

    def _deliver(self, owner: BodyOwner, data: bytes) -> bool:
        """Give ``data`` to the streaming delegate; whether the next piece may follow now."""
        try:
            result = owner._delegate.data_received(data)
        except Exception:
            owner._app_error("error in data_received")
            return False
        if result is not None:
            self.flow_paused = True
            self._timer.flow_paused()
            fut = asyncio.ensure_future(result)
            fut.add_done_callback(functools.partial(self._flow_done, owner))
            return False
        return not owner._closed

    def _stream_inflated(self, owner: BodyOwner, data: bytes) -> None:
        """Inflate ``data`` (b"": what the inflater still holds) a chunk_size at a time."""
        inflater = self._inflater
        assert inflater is not None
        size = self._limits.chunk_size
        limit = owner._parser.max_body_size
        try:
            out = inflater.decompress(data, size) if data else inflater.more(size)
            while True:
                self._inflated += len(out)
                if self._inflated > limit:
                    raise HTTPInputError("request body too large once decompressed", 413)
                if out:
                    go_on = self._deliver(owner, out)
                    if self._inflater is not inflater:
                        # close() ran meanwhile: an answer from data_received ends the
                        # body, and its inflated rest goes with the inflater.
                        return
                    if not go_on:
                        self._tail = self.flow_paused and inflater.pending
                        return
                if not inflater.pending:
                    return
                out = inflater.more(size)
        except zlib.error as exc:
            raise HTTPInputError(f"bad compressed request body: {exc}", 400) from exc

    def _inflate(self, data: bytes, limit: int) -> bytes:
        """Inflate ``data``; the inflated total may not pass ``limit`` (413)."""
        inflater = self._inflater
        assert inflater is not None
        try:
            out = inflater.decompress(data, limit - self._inflated + 1)
        except zlib.error as exc:
            raise HTTPInputError(f"bad compressed request body: {exc}", 400) from exc
        self._inflated += len(out)
        if self._inflated > limit or inflater.unconsumed_tail:
            raise HTTPInputError("request body too large once decompressed", 413)
        return out

    def end(self, request: HTTPServerRequest, trailers: HTTPHeaders | None) -> None:
        """The body is complete: fill ``request`` from what was collected.

        Raises:
            HTTPInputError: a truncated compressed body, or a form that does not parse.
        """
        if self._inflater is not None:
            if not self._inflater.eof:
                raise HTTPInputError("truncated compressed request body", 400)
            self._inflater = None
        request.trailers = trailers
        collector = self._collector
        if collector is not None:
            self._collector = None
            parsed = collector.finish()
            request._set_spooled_body(parsed.spool, parsed.body)
            request._body_arguments = parsed.body_arguments
            request._files = parsed.files

    def close(self) -> None:
        """Drop what a body left unread holds (its spool file, its inflater)."""
        if self._collector is not None:
            self._collector.close()
            self._collector = None
        self._inflater = None
        self._tail = False  # the inflated rest goes with the inflater: nothing to hand over

    # -- reading pace ------------------------------------------------------------------------

    def received(self, owner: BodyOwner, n: int) -> None:
        """Count ``n`` body bytes read in this turn of the loop; past ``_BURST_MAX``, pause.

        asyncio reads a ready socket once per turn (at most 256 KiB), but uvloop (libuv) reads
        it up to 32 times in a row: a fast upload then had the loop to itself for megabytes,
        and new connections waited their turn (about 1 s in the soak of issue 21, against
        0.25 s under asyncio). Pausing until the loop has gone round once gives every
        connection, and the accepting socket, its turn; asyncio never reaches the bound.
        Reading resumes in the next turn.
        """
        self._timer.body_received(n)
        if self._burst == 0:
            self._loop.call_soon(self._burst_over, owner)
        self._burst += n
        if self._burst > _BURST_MAX and not owner._read_paused:
            self._burst_paused = True
            owner._pause_reading()

    def _burst_over(self, owner: BodyOwner) -> None:
        """The loop went round: count afresh, and read again if the burst paused reading."""
        self._burst = 0
        if self._burst_paused:
            self._burst_paused = False
            if not owner._closed and not self.flow_paused:
                owner._resume_reading()

    def _flow_done(self, owner: BodyOwner, fut: asyncio.Future[Any]) -> None:
        """A streaming ``data_received`` awaitable finished: resume pulling events."""
        self.flow_paused = False
        if owner._closed:
            return
        self._timer.flow_resumed()
        exc = fut.exception() if not fut.cancelled() else None
        if exc is not None:
            owner._app_exception(exc, "error in data_received")
            return
        if self._tail and self._inflater is not None:
            # Inflated output waits before any new input: hand it over first.
            self._tail = False
            owner._on_data(b"")
            if self.flow_paused or owner._closed:
                return
        if owner._read_paused:
            owner._resume_reading()
        owner._process_safely()


def _take_encoding(headers: HTTPHeaders) -> _Inflater | None:
    """An inflater for a gzip/deflate body, whose Content-Encoding then counts as consumed."""
    ce = headers.get("Content-Encoding", "").strip().lower()
    if ce not in ("gzip", "x-gzip", "deflate"):
        return None
    del headers["Content-Encoding"]
    headers["X-Consumed-Content-Encoding"] = ce
    # zlib and gzip auto-detected; "deflate" may also be raw (see _Inflater).
    return _Inflater(raw_fallback=ce == "deflate")


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

    @property
    def pending(self) -> bool:
        """Whether output is still to come from input already given (see `more`)."""
        d = self._d
        return bool(d.unconsumed_tail) or bool(d.eof and d.unused_data)

    def more(self, max_length: int) -> bytes:
        """Up to about ``max_length`` more bytes from input already given (a capped call's rest)."""
        d = self._d
        out = bytes(d.decompress(d.unconsumed_tail, max_length)) if d.unconsumed_tail else b""
        if self._d.eof and self._d.unused_data and len(out) < max_length:
            out += self._next_members(max_length - len(out))
        return out

    def decompress(self, data: bytes, max_length: int) -> bytes:
        head = self._head
        if head is None:
            out = bytes(self._d.decompress(data, max_length))
        else:
            head += data
            try:
                out = bytes(self._d.decompress(data, max_length))
            except zlib.error:
                self._head = None
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                out = bytes(self._d.decompress(head, max_length))
            else:
                # Output means the wrapper was right; past the cap we stop keeping the input.
                self._head = None if out or len(head) > _HEAD_KEEP else head
        if self._d.eof and self._d.unused_data:
            out += self._next_members(max_length - len(out))
        return out

    def _next_members(self, max_length: int) -> bytes:
        """Inflate what follows a finished stream: further gzip members, or an error.

        A gzip body may hold several members one after the other (RFC 1952 §2.2, what
        ``cat a.gz b.gz`` makes), and the body is all of them inflated in turn. Anything
        else after the end of the compressed data (padding, a stray byte) is refused rather
        than dropped: zlib raises on it.
        """
        out = b""
        while self._d.eof and self._d.unused_data and len(out) < max_length:
            rest = self._d.unused_data
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip members only
            out += bytes(self._d.decompress(rest, max_length - len(out)))
        return out
