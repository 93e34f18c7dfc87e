"""Reading one HTTP/1.1 response off an asyncio stream, strictly (RFC 9112).

Every response a Python client of the soak reads goes through ``read_response``: the status
line, each header line and the body framing (Content-Length, chunked, or close-delimited)
are checked, and anything off raises ``Malformed`` naming what. ``NoResponse`` is the
server closing (or resetting) before the first byte of a response, which is its own
outcome: a client that expected an answer counts it as a failure, one that sent garbage or
left early may not.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from dataclasses import dataclass, field

MAX_HEAD = 64 * 1024
STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5][0-9][0-9]) [\t\x20-\x7e\x80-\xff]*\r\n")
HEADER_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\r\n]*?)[ \t]*\r\n")
CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})(;[^\r\n]*)?\r\n")


class Malformed(Exception):
    """A response broke HTTP/1.1's grammar or framing; the message says where."""


class NoResponse(Exception):
    """The connection ended (EOF or reset) before the first byte of a response."""


@dataclass
class Response:
    """What the soak keeps of a response: status, headers, and the body's size and CRC."""

    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    body_size: int = 0
    body_crc: int = 0
    body: bytes = b""
    framing: str = "length"

    def header(self, name: str) -> str | None:
        """The only value of header `name` (lower case), or None."""
        values = self.headers.get(name)
        return values[-1] if values else None

    @property
    def closes(self) -> bool:
        """True when the server said it closes the connection after this response."""
        conn = (self.header("connection") or "").lower()
        return "close" in conn or self.framing == "eof"


async def _line(reader: asyncio.StreamReader, what: str) -> bytes:
    try:
        return await reader.readuntil(b"\r\n")
    except asyncio.IncompleteReadError as exc:
        raise Malformed(f"connection ended inside the {what}: {exc.partial[:80]!r}") from None
    except asyncio.LimitOverrunError:
        raise Malformed(f"{what} longer than the reader's limit") from None


async def read_response(
    reader: asyncio.StreamReader, *, head: bool = False, keep_body_below: int = 4096
) -> Response:
    """Read and check one response; the body is kept only when under `keep_body_below`.

    Raises:
        NoResponse: the connection ended before any byte of a response.
        Malformed: anything else off (a partial response included).
    """
    try:
        first = await reader.readuntil(b"\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise NoResponse("EOF before a response") from None
        raise Malformed(f"connection ended inside the status line: {exc.partial[:80]!r}") from None
    except (ConnectionResetError, BrokenPipeError) as exc:
        raise NoResponse(f"reset before a response ({exc.__class__.__name__})") from None
    m = STATUS_LINE.fullmatch(first)
    if m is None:
        raise Malformed(f"bad status line {first[:80]!r}")
    resp = Response(int(m.group(1)))
    if 100 <= resp.status < 200:
        raise Malformed(f"unexpected interim response {first[:80]!r}")
    size = len(first)
    while True:
        line = await _line(reader, "header block")
        size += len(line)
        if size > MAX_HEAD:
            raise Malformed("header block over 64 KiB")
        if line == b"\r\n":
            break
        h = HEADER_LINE.fullmatch(line)
        if h is None:
            raise Malformed(f"bad header line {line[:80]!r}")
        name = h.group(1).decode("ascii").lower()
        resp.headers.setdefault(name, []).append(h.group(2).decode("latin-1"))
    await _read_body(reader, resp, head, keep_body_below)
    return resp


async def _read_body(
    reader: asyncio.StreamReader, resp: Response, head: bool, keep_below: int
) -> None:
    lengths = resp.headers.get("content-length", [])
    codings = resp.headers.get("transfer-encoding", [])
    if len(lengths) > 1:
        raise Malformed(f"{len(lengths)} Content-Length fields")
    if lengths and codings:
        raise Malformed("both Content-Length and Transfer-Encoding")
    if lengths and not lengths[0].isdigit():
        raise Malformed(f"bad Content-Length {lengths[0]!r}")
    if head or resp.status in (204, 304):
        resp.framing = "none"
        return
    kept = bytearray()
    crc = 0
    total = 0

    def take(data: bytes) -> None:
        nonlocal crc, total
        crc = zlib.crc32(data, crc)
        total += len(data)
        if total <= keep_below:
            kept.extend(data)

    if codings:
        if [c.strip().lower() for c in codings] != ["chunked"]:
            raise Malformed(f"Transfer-Encoding {codings!r} is not just chunked")
        resp.framing = "chunked"
        while True:
            line = await _line(reader, "chunk-size line")
            c = CHUNK_LINE.fullmatch(line)
            if c is None:
                raise Malformed(f"bad chunk-size line {line[:80]!r}")
            n = int(c.group(1), 16)
            if n == 0:
                break
            take(await _exactly(reader, n))
            if await _exactly(reader, 2) != b"\r\n":
                raise Malformed("chunk data not followed by CRLF")
        while (line := await _line(reader, "trailer section")) != b"\r\n":
            if HEADER_LINE.fullmatch(line) is None:
                raise Malformed(f"bad trailer line {line[:80]!r}")
    elif lengths:
        resp.framing = "length"
        left = int(lengths[0])
        while left:
            piece = await reader.read(min(left, 1 << 20))
            if not piece:
                raise Malformed(f"connection ended with {left} body bytes missing")
            take(piece)
            left -= len(piece)
    else:
        resp.framing = "eof"
        while piece := await reader.read(1 << 20):
            take(piece)
    resp.body_size = total
    resp.body_crc = crc
    resp.body = bytes(kept) if total <= keep_below else b""


async def _exactly(reader: asyncio.StreamReader, n: int) -> bytes:
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as exc:
        raise Malformed(f"connection ended inside a chunk ({len(exc.partial)} of {n})") from None


async def at_eof(reader: asyncio.StreamReader, timeout: float = 10.0) -> bool:
    """True when the server closes the connection (no more bytes) within `timeout`."""
    try:
        extra = await asyncio.wait_for(reader.read(1), timeout)
    except TimeoutError:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    return extra == b""
