"""An incremental ``multipart/form-data`` parser (RFC 7578 / RFC 2046), sans-I/O.

Bytes go in through `MultipartParser.feed`, events come out: `PartStart` (the part's
headers, name, filename and content type), `PartData` (a piece of its content) and
`PART_END`. The parser never does I/O and never logs; the caller decides whether a part's
content goes to memory or to disk, so a 1 GiB upload never has to sit in memory.

Rules / theory of operation
---------------------------
The body is scanned as if it began with CRLF, so that every delimiter, the first one
included, is the same byte string ``DELIM = CRLF "--" boundary`` (RFC 2046 §5.1.1: the CRLF
before a boundary belongs to the boundary, not to the preceding part). Transitions::

    state      on                           next       action
    ---------  ---------------------------  ---------  ------------------------------------
    PREAMBLE   DELIM                        DELIM_END  drop the preamble
    BODY       DELIM                        DELIM_END  PartData(what precedes), PART_END
    DELIM_END  "-"                          DASH
               SP / HT                      PADDING
               CR                           CR
               anything else                -          400: boundary inside the content
    DASH       "-"                          EPILOGUE   close delimiter: the body is done
               anything else                -          400
    PADDING    SP / HT                      PADDING    counted against the header limit
               CR                           CR         (anything else: 400)
    CR         LF                           HEADERS    count the part (413 over max_parts)
               anything else                -          400
    HEADERS    CRLF first, or CRLF CRLF     BODY       PartStart(parsed headers)
    EPILOGUE   anything                     EPILOGUE   ignored

* PREAMBLE and BODY search for ``DELIM`` with ``bytearray.find`` starting where the last
  unconsumed byte is. When it is absent, everything except a possible partial delimiter at
  the very end is consumed (only a suffix starting at the last CR can be one, because a
  boundary holds no CR), so at most ``len(DELIM) - 1`` bytes are carried into the next
  `feed`. Each input byte is therefore searched a bounded number of times: the work is
  linear in the input whatever the chunking, and no pathological body (many CRLFs, many
  near-boundaries) can make it quadratic.
* HEADERS accumulates one part's header block until the empty line, resuming the CRLFCRLF
  search three bytes before where the previous search stopped; a block larger than
  ``max_part_header_size`` is refused (400) before it is complete.
* A delimiter must be followed by ``--`` (the close delimiter) or by optional transport
  padding (spaces, tabs) and CRLF; anything else means the boundary appears inside the
  content, which RFC 2046 forbids, and is refused (400).
* Everything after the close delimiter is epilogue and ignored. `finish` refuses a body that
  ended before it (400 "no final boundary").
* Part headers are decoded as UTF-8 with ``errors="replace"``: browsers send file names as
  raw UTF-8 inside quoted strings (RFC 7578 §4.2), and a bad byte becomes U+FFFD instead of
  an error. ``filename*`` (RFC 5987 ``charset'lang'percent-encoded``) wins over
  ``filename`` (RFC 2231 continuations, ``filename*0=``, are not joined: no browser sends
  them). Header lines holding a NUL, a bare CR or a bare LF are refused (400); obs-fold
  continuation lines are joined with one space.
* Limits, each an `HTTPInputError` naming the limit: more than ``max_parts`` parts (413),
  a part header block over ``max_header_size`` (400).
"""

from __future__ import annotations

import urllib.parse

from squall.http._errors import HTTPInputError

# RFC 2046 §5.1.1 bchars: the characters a boundary may hold (1 to 70 of them, not ending
# with a space).
_BCHARS = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")
MAX_BOUNDARY_LENGTH = 70

_PREAMBLE, _DELIM_END, _DASH, _PADDING, _CR, _HEADERS, _BODY, _EPILOGUE = range(8)
_CRLFCRLF = b"\r\n\r\n"


# -- header values with parameters ------------------------------------------------------------


def _decode_ext_value(value: str) -> str | None:
    """Decode an RFC 5987 ext-value ``charset'lang'percent-encoded``; None when malformed."""
    parts = value.split("'", 2)
    if len(parts) != 3:
        return None
    charset = parts[0].strip().lower() or "utf-8"
    raw = urllib.parse.unquote_to_bytes(parts[2])
    try:
        return raw.decode(charset, "replace")
    except LookupError:
        return raw.decode("utf-8", "replace")


def parse_header_value(value: str) -> tuple[str, dict[str, str]]:
    """Split a header value with parameters into its main value and its parameters.

    ``'form-data; name="a;b"; filename*=UTF-8\\'\\'%E2%82%AC.txt'`` gives
    ``("form-data", {"name": "a;b", "filename": "€.txt"})``. Parameter names are lowercased;
    quoted strings are unquoted (only ``\\"`` and ``\\\\`` are escapes, so Windows paths sent
    by old browsers keep their backslashes); ``name*`` extended values (RFC 5987) are decoded
    and win over ``name``; the first occurrence of a parameter wins.
    """
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " \t;":
            i += 1
        start = i
        while i < n and rest[i] not in "=;":
            i += 1
        key = rest[start:i].strip().lower()
        val = ""
        if i < n and rest[i] == "=":
            i += 1
            while i < n and rest[i] in " \t":
                i += 1
            if i < n and rest[i] == '"':
                i += 1
                chars: list[str] = []
                while i < n and rest[i] != '"':
                    if rest[i] == "\\" and i + 1 < n and rest[i + 1] in '"\\':
                        i += 1
                    chars.append(rest[i])
                    i += 1
                i += 1  # the closing quote (or the end, for an unterminated string)
                val = "".join(chars)
                while i < n and rest[i] != ";":  # ignore junk after the closing quote
                    i += 1
            else:
                start = i
                while i < n and rest[i] != ";":
                    i += 1
                val = rest[start:i].strip()
        if not key:
            continue
        if key.endswith("*"):
            decoded = _decode_ext_value(val)
            if decoded is not None:
                extended.setdefault(key[:-1], decoded)
        else:
            params.setdefault(key, val)
    params.update(extended)
    return main.strip(), params


def boundary_from_params(params: dict[str, str]) -> bytes:
    """The multipart boundary of a parsed Content-Type, validated per RFC 2046.

    Raises:
        HTTPInputError: (400) when the boundary parameter is missing or invalid.
    """
    boundary = params.get("boundary")
    if not boundary:
        raise HTTPInputError("multipart/form-data without a boundary parameter", 400)
    try:
        raw = boundary.encode("ascii")
    except UnicodeEncodeError:
        raw = b"\x00"
    if len(raw) > MAX_BOUNDARY_LENGTH or raw.endswith(b" ") or not _BCHARS.issuperset(raw):
        raise HTTPInputError(f"invalid multipart boundary {boundary[:80]!r}", 400)
    return raw


# -- events ------------------------------------------------------------------------------------


class PartStart:
    """A part's header block has been read.

    Attributes:
        headers: the part's headers, names lowercased (the last value of a repeated name).
        name: the ``name`` of its ``Content-Disposition: form-data``, or None when the part
            has no form-data disposition or no name (such a part is ignored by forms).
        filename: the ``filename*`` or ``filename`` parameter, or None.
        content_type: the part's Content-Type, or None when it sent none.
    """

    __slots__ = ("headers", "name", "filename", "content_type")

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        disposition, params = parse_header_value(headers.get("content-disposition", ""))
        is_form = disposition.lower() == "form-data"
        self.name: str | None = params.get("name") if is_form else None
        self.filename: str | None = params.get("filename") if is_form else None
        self.content_type: str | None = headers.get("content-type")

    def __repr__(self) -> str:
        return f"PartStart(name={self.name!r}, filename={self.filename!r})"


class PartData:
    """A piece of the current part's content (possibly one of many)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"PartData({len(self.data)} bytes)"


class PartEnd:
    """The current part is complete."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PART_END"


PART_END = PartEnd()
Event = PartStart | PartData | PartEnd


def _parse_part_headers(block: bytes) -> dict[str, str]:
    """Parse a part's header block (without its final empty line) into a dict."""
    headers: dict[str, str] = {}
    if not block:
        return headers
    last: str | None = None
    for line in block.decode("utf-8", "replace").split("\r\n"):
        if "\r" in line or "\n" in line or "\x00" in line:
            raise HTTPInputError("multipart part header holds a bare CR, LF or NUL", 400)
        if line[:1] in (" ", "\t"):  # obs-fold continuation: join with one space
            if last is None:
                raise HTTPInputError("multipart part headers start with a continuation", 400)
            headers[last] = f"{headers[last]} {line.strip()}".strip()
            continue
        name, colon, val = line.partition(":")
        name = name.strip()
        if not colon or not name:
            raise HTTPInputError(f"multipart part header line without a colon: {line!r}", 400)
        last = name.lower()
        headers[last] = val.strip()
    return headers


# -- the state machine ---------------------------------------------------------------------------


class MultipartParser:
    """Incremental parser of one ``multipart/form-data`` body; see the module docstring.

    Args:
        boundary: the boundary from the Content-Type (see `boundary_from_params`).
        max_parts: the most parts accepted; one more raises HTTPInputError(413).
        max_header_size: the largest header block of one part, bytes; over it → 400.
    """

    __slots__ = (
        "_delim",
        "_buf",
        "_state",
        "_parts",
        "_max_parts",
        "_max_header",
        "_pad",
        "_scan",
        "_work",
    )

    def __init__(self, boundary: bytes, *, max_parts: int, max_header_size: int) -> None:
        self._delim = b"\r\n--" + boundary
        self._buf = bytearray(b"\r\n")  # the virtual CRLF before the first boundary
        self._state = _PREAMBLE
        self._parts = 0
        self._max_parts = max_parts
        self._max_header = max_header_size
        self._pad = 0  # transport-padding bytes seen after the current delimiter
        self._scan = 0  # HEADERS: how far the CRLFCRLF search got (from the block's start)
        self._work = 0  # bytes handed to find(): the linear-time claim, checked by the tests

    @property
    def bytes_examined(self) -> int:
        """Bytes searched so far (a work counter: stays within a small factor of the input)."""
        return self._work

    @property
    def done(self) -> bool:
        """True once the close delimiter has been seen."""
        return self._state == _EPILOGUE

    def _keep_from(self, pos: int, end: int) -> int:
        """Where a possible partial delimiter at the end of the buffer starts (or ``end``)."""
        buf = self._buf
        cr = buf.rfind(b"\r", max(pos, end - len(self._delim) + 1), end)
        if cr != -1 and self._delim.startswith(buf[cr:end]):
            return cr
        return end

    def feed(self, data: bytes) -> list[Event]:
        """Consume ``data`` and return the events it completes, in order.

        Raises:
            HTTPInputError: malformed body (400) or a limit exceeded (400/413).
        """
        if self._state == _EPILOGUE:
            return []
        buf = self._buf
        buf += data
        n = len(buf)
        pos = 0
        events: list[Event] = []
        delim = self._delim
        while pos < n:
            state = self._state
            if state == _BODY or state == _PREAMBLE:
                i = buf.find(delim, pos)
                self._work += (n if i == -1 else i + len(delim)) - pos
                if i == -1:
                    keep = self._keep_from(pos, n)
                    if state == _BODY and keep > pos:
                        events.append(PartData(bytes(buf[pos:keep])))
                    pos = keep
                    break
                if state == _BODY:
                    if i > pos:
                        events.append(PartData(bytes(buf[pos:i])))
                    events.append(PART_END)
                pos = i + len(delim)
                self._state = _DELIM_END
            elif state == _DELIM_END:
                byte = buf[pos]
                if byte == 0x2D:  # "-": the close delimiter, if another follows
                    self._state = _DASH
                    pos += 1
                elif byte == 0x0D:
                    self._state = _CR
                    pos += 1
                elif byte in (0x20, 0x09):
                    self._state = _PADDING
                    self._pad = 0
                else:
                    raise HTTPInputError("multipart boundary found inside a part's content", 400)
            elif state == _DASH:
                if buf[pos] != 0x2D:
                    raise HTTPInputError("multipart boundary found inside a part's content", 400)
                self._state = _EPILOGUE
                pos = n
            elif state == _PADDING:
                while pos < n and buf[pos] in (0x20, 0x09):
                    pos += 1
                    self._pad += 1
                if self._pad > self._max_header:
                    raise HTTPInputError(
                        f"multipart boundary line over max_part_header_size={self._max_header}",
                        400,
                    )
                if pos < n:
                    if buf[pos] != 0x0D:
                        raise HTTPInputError("multipart boundary line has trailing junk", 400)
                    self._state = _CR
                    pos += 1
            elif state == _CR:
                if buf[pos] != 0x0A:
                    raise HTTPInputError("multipart boundary line not ended by CRLF", 400)
                pos += 1
                self._parts += 1
                if self._parts > self._max_parts:
                    raise HTTPInputError(
                        f"multipart body has more than max_multipart_parts={self._max_parts} parts",
                        413,
                    )
                self._state = _HEADERS
                self._scan = 0
            else:  # _HEADERS
                start = self._header_end(pos, n)
                if start < 0:
                    break  # need more bytes; pos stays at the start of the block
                block_end = start - 4 if start - pos >= 4 else pos
                events.append(PartStart(_parse_part_headers(bytes(buf[pos:block_end]))))
                pos = start
                self._state = _BODY
        if self._state == _EPILOGUE:
            self._buf = bytearray()
        elif pos:
            # Compact once per feed: what remains is a partial delimiter (< len(DELIM)),
            # a few boundary-line bytes, or an incomplete header block (< the limit).
            del buf[:pos]
        return events

    def _header_end(self, pos: int, n: int) -> int:
        """HEADERS: the offset where the part's content starts, or -1 if not yet known."""
        buf = self._buf
        limit = self._max_header
        if n - pos >= 2 and buf[pos] == 0x0D and buf[pos + 1] == 0x0A:
            return pos + 2  # an empty header block
        begin = pos + max(0, self._scan - 3)
        i = buf.find(_CRLFCRLF, begin, pos + limit + 1)
        self._work += (min(n, pos + limit + 1) if i == -1 else i + 4) - begin
        if i == -1:
            if n - pos > limit:
                raise HTTPInputError(
                    f"multipart part header block over max_part_header_size={limit}", 400
                )
            self._scan = n - pos
            return -1
        if i + 4 - pos > limit:
            raise HTTPInputError(
                f"multipart part header block over max_part_header_size={limit}", 400
            )
        return i + 4

    def finish(self) -> None:
        """Check that the body ended after its close delimiter.

        Raises:
            HTTPInputError: (400) when the final boundary never came.
        """
        if self._state != _EPILOGUE:
            raise HTTPInputError("multipart body has no final boundary", 400)
