"""A sans-I/O HTTP/1.1 request parser: bytes in, events out.

Theory of operation
-------------------
The driver (the Protocol in ``_protocol.py``, or a test) calls ``receive_data(bytes)``
whenever bytes arrive, then calls ``next_event()`` until it returns ``NEED_DATA``. Events:

- ``Request``: a complete request head. When ``has_body`` is false the request is complete
  by itself (no ``EndOfMessage`` follows: one call less on the hot path).
- ``Data``: a piece of the decoded body (Content-Length or chunked framing removed).
- ``EndOfMessage``: the body is complete; ``trailers`` holds chunked trailers, if any.

Any framing or grammar violation raises ``RemoteProtocolError`` with ``status_hint``; the
parser then stays broken (every later call raises the same error), because after a framing
error no later byte can be trusted. This module never touches sockets, asyncio or logging.

States (``_state``)::

    HEAD ──Request(no body)──► HEAD
    HEAD ──Request(Content-Length)──► BODY ──Data*──► END ──EndOfMessage──► HEAD
    HEAD ──Request(chunked)──► CHUNK_SIZE ─► CHUNK_DATA ─► CHUNK_CRLF ─► CHUNK_SIZE …
                                    └─size 0─► TRAILERS ──EndOfMessage──► HEAD
    HEAD ──Request(CONNECT)──► TUNNEL (terminal: later bytes are never parsed)
    any ──RemoteProtocolError──► ERROR (terminal)

The driver decides when to pull the next event, so pipelined requests simply wait in the
buffer until the driver has answered the one before (ordering and bounded memory are the
driver's policy, not the parser's).

Speed: the head is located with one ``bytes.find(b"\\r\\n\\r\\n")``, decoded once, validated
with one compiled regex and split into pairs with one ``findall``; no per-character Python
loop runs on the hot path. A keep-alive client that repeats its last head byte for byte
(the same method, target and headers) gets that head's parse again after one prefix
comparison, with a fresh copy of its headers. Slow arrivals (a byte at a time) stay
linear: the buffer is a ``bytearray`` grown in place and the terminator search resumes
where it stopped.

Strictness (RFC 9112; each check names the attack it stops): obs-fold, bare CR/LF, NUL and
non-token names are refused (request smuggling through lenient proxies); Content-Length must
be plain decimal and appear once; Transfer-Encoding must be exactly ``chunked`` and
never combined with Content-Length (CL.TE / TE.CL desync); HTTP/1.1 needs exactly one valid
Host; chunk lines follow the chunk-ext grammar exactly, and trailers never hold fields that
steer framing or routing (smuggling through a proxy that reads them differently); chunk
sizes are bounded in digits and chunk lines in length (overflow, slowloris). The HTTP/2
preface and the PRI method are refused; CONNECT carries no body and ends the parse.
"""

from __future__ import annotations

import copy
import sys
from typing import Final

from squall.http._errors import RemoteProtocolError
from squall.http._events import END_OF_MESSAGE, NEED_DATA, Data, EndOfMessage, NeedData, Request
from squall.http._grammar import (
    BARE_LF_RE,
    BLOCK_MEMO,
    CHUNK_LINE_RE,
    FORBIDDEN_TRAILERS,
    HEADER_LINE_RE,
    HTTP10,
    HTTP11,
    LINE_MEMO,
    MEMO_BLOCK_MAX,
    MEMO_SIZE,
    REQUEST_LINE_RE,
    TOKEN_CHARS,
    analyze_block,
    chunk_line_error,
    header_block_error,
    parse_request_line,
    pri_error,
    request_line_error,
)
from squall.http._headers import HTTPHeaders
from squall.http._limits import HTTPLimits

__all__ = [
    "NEED_DATA",
    "Data",
    "EndOfMessage",
    "Request",
    "RequestParser",
]

# What a head parsed to: method, target, version, the header dict (copied per request),
# keep-alive, expect-continue, content length, chunked.
_Parsed = tuple[str, str, str, dict[str, str], bool, bool, int, bool]
_LAST_HEAD_MAX: Final = 1024

# States. Small ints compare fastest.
_HEAD: Final = 0
_BODY: Final = 1
_END: Final = 2
_CHUNK_SIZE: Final = 3
_CHUNK_DATA: Final = 4
_CHUNK_CRLF: Final = 5
_TRAILERS: Final = 6
_ERROR: Final = 7
_TUNNEL: Final = 8  # after CONNECT: the bytes that follow are not HTTP (terminal)
_NO_MAX: Final = sys.maxsize  # Data events of any size


class RequestParser:
    """Incremental parser for the requests of one connection (see the module docstring).

    Args:
        limits: the sizes it enforces (request line → 414, head → 431, chunk lines → 400,
            chunked body over ``max_body_size`` → 413).

    ``max_body_size`` may be changed by the driver after a ``Request`` event (a handler may
    allow more or less); it applies to chunked bodies as they arrive. Content-Length bodies
    are checked by the driver against the same value before it reads them. ``max_data``,
    set likewise (reset with each request), caps the bytes of one ``Data`` event: the rest
    stays buffered for the next ``next_event()``.
    """

    __slots__ = (
        "_limits",
        "_buf",
        "_pos",
        "_scan",
        "_state",
        "_remaining",
        "_received",
        "_line_len",
        "_error",
        "max_body_size",
        "max_data",
        "_last_head",
        "_last_parse",
    )

    def __init__(self, limits: HTTPLimits | None = None) -> None:
        self._limits = limits if limits is not None else HTTPLimits()
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._scan = 0  # where the next terminator search may start (linear slow arrivals)
        self._state = _HEAD
        self._remaining = 0
        self._received = 0
        self._line_len = -1  # length of the current head's request line, once seen whole
        self._error: RemoteProtocolError | None = None
        self.max_body_size = self._limits.max_body_size
        self.max_data = _NO_MAX  # most bytes in one Data event (the driver sets it per body)
        # The last head parsed (its bytes, up to the blank line) and what it parsed to: a
        # keep-alive client mostly repeats its request, and the same bytes parse the same
        # under the same limits. Kept for short heads without repeated names only.
        self._last_head: bytes | None = None
        self._last_parse: _Parsed | None = None

    # -- input -----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Append bytes received from the peer."""
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            # Common case: everything before was consumed; keep the bytes object, no copy.
            self._buf = data
            self._pos = 0
            self._scan = 0
            return
        if type(buf) is bytearray:
            if pos:
                del buf[:pos]  # CPython deletes a bytearray prefix without moving the rest
            buf += data
        else:
            nb = bytearray(memoryview(buf)[pos:])
            nb += data
            self._buf = nb
        self._scan = max(0, self._scan - pos)
        self._pos = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet consumed by an event."""
        return len(self._buf) - self._pos

    @property
    def in_progress(self) -> bool:
        """Whether a request has begun but not ended (a close now would cut it)."""
        if self._state != _HEAD:
            return self._state < _ERROR
        buf = self._buf
        return bool(buf[self._pos :].strip(b"\r\n")) if self._pos < len(buf) else False

    @property
    def reading_body(self) -> bool:
        """Whether the parser is inside a request body."""
        return _HEAD < self._state < _ERROR

    @property
    def body_remaining(self) -> int | None:
        """Bytes of the current Content-Length body still to come (None when chunked)."""
        state = self._state
        if state == _BODY:
            return self._remaining
        if _CHUNK_SIZE <= state <= _TRAILERS:
            return None
        return 0

    # -- events ----------------------------------------------------------------------------

    def next_event(self) -> Request | Data | EndOfMessage | NeedData:
        """Return the next event, or ``NEED_DATA``.

        Raises:
            RemoteProtocolError: the input breaks HTTP/1.1 or a limit (terminal).
        """
        state = self._state
        try:
            if state == _HEAD:
                if self._pos >= len(self._buf):
                    # Everything consumed: the usual end of a batch. Drop the buffer: the
                    # bytes object a transport hands over may sit in a page-sized block
                    # (recv into 256 KiB, then shrunk), so keeping it would cost an idle
                    # keep-alive connection ~4 KiB.
                    self._buf = b""
                    self._pos = 0
                    self._scan = 0
                    return NEED_DATA
                return self._next_head()
            if state == _BODY or state == _CHUNK_DATA:
                return self._next_data()
            if state == _END:
                self._state = _HEAD
                return END_OF_MESSAGE
            if state == _CHUNK_SIZE:
                return self._next_chunk_size()
            if state == _CHUNK_CRLF:
                return self._next_chunk_crlf()
            if state == _TRAILERS:
                return self._next_trailers()
            if state == _TUNNEL:
                return NEED_DATA
        except RemoteProtocolError as exc:
            self._state = _ERROR
            # Kept as a copy without the traceback (whose frames hold this parser and its
            # protocol): the cycle would leave the dead connection to the cyclic collector.
            self._error = copy.copy(exc)
            raise
        assert self._error is not None
        raise copy.copy(self._error)

    def _next_head(self) -> Request | NeedData:
        buf = self._buf
        pos = self._pos
        first = buf[pos]
        if first == 13 or first == 10:
            # RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
            # request line (clients send a stray CRLF after a POST body). One ended by a
            # bare LF too: nothing in it can be misread, unlike a bare LF inside a head.
            while True:
                if buf.startswith(b"\r\n", pos):
                    pos += 2
                elif buf.startswith(b"\n", pos):
                    pos += 1
                else:
                    break
            self._pos = pos
        last = self._last_head
        if last is not None and buf.startswith(last, pos):
            return self._repeated_head(pos + len(last))
        scan = self._scan
        end = buf.find(b"\r\n\r\n", scan if scan > pos else pos)
        if end < 0:
            return self._incomplete_head(buf, pos)
        lim = self._limits
        # Include the CRLF that ends the last header line: every line then ends in CRLF.
        text = buf[pos : end + 2].decode("latin-1")
        self._pos = end + 4
        self._scan = end + 4
        self._line_len = -1
        nl = text.find("\r\n")
        line = text[:nl]
        block = text[nl + 2 :]
        if len(line) > lim.max_request_line_size:
            raise RemoteProtocolError("request line too long", 414)
        if len(block) > lim.max_header_size:
            raise RemoteProtocolError("request header block too large", 431)
        parsed = LINE_MEMO.get(line)
        if parsed is None:
            parsed = parse_request_line(line)
            if len(LINE_MEMO) >= MEMO_SIZE:
                LINE_MEMO.clear()
            LINE_MEMO[line] = parsed
        method, target, version, http11 = parsed
        info = BLOCK_MEMO.get(block)
        if info is None:
            headers, info = analyze_block(block)
            if headers._multi is None and len(block) <= MEMO_BLOCK_MAX:
                if len(BLOCK_MEMO) >= MEMO_SIZE:
                    BLOCK_MEMO.clear()
                BLOCK_MEMO[block] = info
        else:
            headers = HTTPHeaders.__new__(HTTPHeaders)
            headers._dict = info[0].copy()
            headers._multi = None
            headers._stale = None
        _, host_missing, chunked, length, close, keep, expect100, count = info
        if count > lim.max_headers:
            raise RemoteProtocolError(f"more than {lim.max_headers} header lines", 431)
        if http11:
            if host_missing:
                raise RemoteProtocolError("HTTP/1.1 request without a Host header")
            keep_alive = not close
            expect_continue = expect100
        else:
            # RFC 9112 §6.1/§9.3: HTTP/1.0 keeps alive only when asked, never after chunked.
            keep_alive = keep and not chunked
            expect_continue = False

        if method == "CONNECT":
            return self._connect_request(target, version, headers)
        if headers._multi is None and end + 4 - pos <= _LAST_HEAD_MAX:
            self._last_head = bytes(buf[pos : end + 4])
            self._last_parse = (
                method, target, version, info[0], keep_alive, expect_continue, length, chunked
            )  # fmt: skip
        return self._begin(
            Request(method, target, version, headers, keep_alive, expect_continue, length, chunked)
        )

    def _repeated_head(self, end: int) -> Request:
        """The head before ``end`` is the last one again, byte for byte: its parse, anew."""
        self._pos = end
        self._scan = end
        self._line_len = -1
        method, target, version, fields, keep_alive, expect_continue, length, chunked = (
            self._last_parse  # type: ignore[misc]
        )
        headers = HTTPHeaders.__new__(HTTPHeaders)
        headers._dict = fields.copy()
        headers._multi = None
        headers._stale = None
        return self._begin(
            Request(method, target, version, headers, keep_alive, expect_continue, length, chunked)
        )

    def _begin(self, request: Request) -> Request:
        """Enter the state of ``request`` (its body, if any, comes next); return it."""
        self.max_body_size = self._limits.max_body_size
        self.max_data = _NO_MAX
        self._received = 0
        if request.chunked:
            self._state = _CHUNK_SIZE
        elif request.content_length:
            self._state = _BODY
            self._remaining = request.content_length
        return request

    def _connect_request(self, target: str, version: str, headers: HTTPHeaders) -> Request:
        # CONNECT has no content (RFC 9110 §9.3.6): a Content-Length or Transfer-Encoding
        # it carries frames nothing, so no body is read. What follows its head would be
        # tunnel bytes, never a next request, and squall does not tunnel: the parser stops
        # here and the connection closes after the answer (as llhttp stops at CONNECT).
        self._state = _TUNNEL
        return Request("CONNECT", target, version, headers, False, False, 0, False)

    def _incomplete_head(self, buf: bytes | bytearray, pos: int) -> NeedData:
        n = len(buf) - pos
        if n == 0:
            return NEED_DATA
        resume = self._scan  # where this head's earlier searches stopped
        self._scan = max(pos, len(buf) - 3)
        lim = self._limits
        if buf[pos] not in TOKEN_CHARS and not (n == 1 and buf[pos] == 13):
            # Not even a method: TLS handshakes and binary noise fail here, at once.
            raise RemoteProtocolError("garbage before the request line")
        if self._line_len < 0:
            nl = buf.find(b"\r\n", pos, pos + lim.max_request_line_size + 2)
            if nl < 0:
                if buf.find(b"\n", pos, pos + lim.max_request_line_size + 2) >= 0:
                    # No CRLF before it, so this LF is bare: the CRLF the head needs may
                    # never come, and waiting would hold the connection until a timeout.
                    raise RemoteProtocolError("bare LF ends the request line")
                if n > lim.max_request_line_size:
                    raise RemoteProtocolError("request line too long", 414)
                return NEED_DATA
            else:
                self._line_len = nl - pos
                # Validate the request line as soon as it is complete: garbage fails fast
                # instead of waiting for a head terminator that may never come.
                line = buf[pos:nl].decode("latin-1")
                m = REQUEST_LINE_RE.fullmatch(line)
                if m is None:
                    raise request_line_error(line)
                if m.group(1) == "PRI":
                    raise pri_error(line)
                if m.group(3) not in (HTTP10, HTTP11):
                    raise RemoteProtocolError(f"unsupported HTTP version {m.group(3)!r}", 505)
        # A bare LF in the header lines so far: refused now, not after a timeout (the head's
        # CRLF CRLF may never come). Searched from where the last search stopped (linear).
        if BARE_LF_RE.search(buf, max(resume, pos + self._line_len + 2)) is not None:
            raise RemoteProtocolError("bare LF in the header lines")
        # The header block so far (after the request line and its CRLF); its final CRLF
        # may be half there, hence the 2 bytes of slack.
        if n - self._line_len - 2 > lim.max_header_size + 2:
            raise RemoteProtocolError("request header block too large", 431)
        return NEED_DATA

    def _next_data(self) -> Data | NeedData:
        buf = self._buf
        pos = self._pos
        avail = len(buf) - pos
        if avail <= 0:
            return NEED_DATA
        remaining = self._remaining
        take = avail if avail <= remaining else remaining
        if take > self.max_data:
            take = self.max_data
        if take == avail:
            chunk = buf if pos == 0 and type(buf) is bytes else bytes(buf[pos:])
        else:
            chunk = bytes(buf[pos : pos + take])
        self._pos = pos + take
        self._remaining = remaining - take
        if self._remaining == 0:
            self._state = _END if self._state == _BODY else _CHUNK_CRLF
        return Data(chunk)

    def _next_chunk_size(self) -> NeedData | Data | EndOfMessage:
        buf = self._buf
        pos = self._pos
        lim = self._limits.max_chunk_ext_size
        nl = buf.find(b"\r\n", pos, pos + lim + 2)
        if nl < 0:
            if len(buf) - pos > lim:
                raise RemoteProtocolError("chunk size line too long")
            return NEED_DATA
        m = CHUNK_LINE_RE.fullmatch(buf, pos, nl)
        if m is None:
            raise chunk_line_error(bytes(buf[pos:nl]))
        digits = m.group(1)
        if len(digits) > self._limits.max_chunk_size_digits:
            raise RemoteProtocolError("chunk size overflows")
        size = int(digits, 16)
        self._pos = nl + 2
        if size == 0:
            self._state = _TRAILERS
            self._scan = self._pos
            return self._next_trailers()
        self._received += size
        if self._received > self.max_body_size:
            raise RemoteProtocolError("request body too large", 413)
        self._remaining = size
        self._state = _CHUNK_DATA
        return self._next_data()

    def _next_chunk_crlf(self) -> NeedData | Data | EndOfMessage:
        buf = self._buf
        pos = self._pos
        avail = len(buf) - pos
        if avail < 2:
            if avail == 1 and buf[pos] != 13:
                raise RemoteProtocolError("chunk data not followed by CRLF")
            return NEED_DATA
        if buf[pos] != 13 or buf[pos + 1] != 10:
            raise RemoteProtocolError("chunk data not followed by CRLF")
        self._pos = pos + 2
        self._state = _CHUNK_SIZE
        return self._next_chunk_size()

    def _next_trailers(self) -> NeedData | EndOfMessage:
        buf = self._buf
        pos = self._pos
        if buf.startswith(b"\r\n", pos):
            self._pos = pos + 2
            self._state = _HEAD
            return END_OF_MESSAGE
        end = buf.find(b"\r\n\r\n", max(pos, self._scan))
        if end < 0:
            # As in the head: a bare LF means the CRLF CRLF may never come; refuse it now.
            if BARE_LF_RE.search(buf, max(pos, self._scan)) is not None:
                raise RemoteProtocolError("bare LF in the trailer lines")
            self._scan = max(pos, len(buf) - 3)
            avail = len(buf) - pos
            if avail > self._limits.max_header_size:
                raise RemoteProtocolError("trailer block too large", 431)
            if avail >= 1 and buf[pos] not in TOKEN_CHARS and buf[pos] != 13:
                raise RemoteProtocolError("malformed trailer block")
            return NEED_DATA
        block = buf[pos : end + 2].decode("latin-1")
        if len(block) > self._limits.max_header_size:
            raise RemoteProtocolError("trailer block too large", 431)
        pairs = HEADER_LINE_RE.findall(block)
        if len(pairs) != block.count("\n"):
            raise header_block_error(block)
        if len(pairs) > self._limits.max_headers:
            raise RemoteProtocolError(f"more than {self._limits.max_headers} trailer lines", 431)
        for name, _ in pairs:
            if name.lower() in FORBIDDEN_TRAILERS:
                raise RemoteProtocolError(f"{name[:40]!r} is not allowed in a trailer section")
        self._pos = end + 4
        self._scan = end + 4
        self._state = _HEAD
        return EndOfMessage(HTTPHeaders._from_pairs(pairs))
