"""Response serialisation: status line, header block, chunked framing, the Date header.

Sans-I/O like the parser: functions here return bytes and never write anywhere.

Rules:

- A header name or value holding CR, LF or NUL is refused (``InvalidHeaderError``, also a
  ``ValueError``): no response splitting, whichever layer built the headers. The check is
  done on the joined block in C (``str.count``) rather than per header in Python: a block of
  ``n`` lines is clean iff it holds exactly ``n`` CRs, ``n`` LFs and no NUL.
- Headers must encode as ISO-8859-1 (RFC 9110 §5.5: other octets are opaque); anything else
  is refused the same way.
- The Date header (RFC 9110 §6.6.1) is formatted at most once per second per process.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from email.utils import formatdate
from http import HTTPStatus
from typing import Final

from squall.http._errors import InvalidHeaderError

__all__ = ["chunk", "date_header", "format_head", "responses", "LAST_CHUNK"]

responses: Final[dict[int, str]] = {s.value: s.phrase for s in HTTPStatus}
"""Status code → reason phrase (``responses[404] == "Not Found"``)."""

LAST_CHUNK: Final = b"0\r\n\r\n"

_status_lines: dict[tuple[str, int], str] = {}
_date_second = -1
_date_line = ""


def date_header() -> str:
    """Return ``"Date: <IMF-fixdate>\\r\\n"``, formatted at most once per second."""
    global _date_second, _date_line
    now = time.time()
    sec = int(now)
    if sec != _date_second:
        _date_line = f"Date: {formatdate(sec, usegmt=True)}\r\n"
        _date_second = sec
    return _date_line


def status_line(version: str, status: int, reason: str | None = None) -> str:
    """Return the status line with its CRLF (cached when ``reason`` is the default)."""
    if reason is None:
        key = (version, status)
        line = _status_lines.get(key)
        if line is None:
            if not 100 <= status <= 999:
                raise ValueError(f"invalid HTTP status code {status!r}")
            line = f"{version} {status} {responses.get(status, 'Unknown')}\r\n"
            if len(_status_lines) < 1024:
                _status_lines[key] = line
        return line
    if not 100 <= status <= 999:
        raise ValueError(f"invalid HTTP status code {status!r}")
    if "\r" in reason or "\n" in reason or "\x00" in reason:
        raise InvalidHeaderError(f"reason phrase holds CR, LF or NUL: {reason!r}")
    return f"{version} {status} {reason}\r\n"


def header_block(headers: Iterable[tuple[str, str]]) -> str:
    """Join ``(name, value)`` pairs into ``"Name: value\\r\\n"`` lines, refusing CR/LF/NUL.

    Raises:
        InvalidHeaderError: a name or value holds CR, LF or NUL, or a name is empty or has
            a colon or whitespace.
    """
    lines = [f"{n}: {v}\r\n" for n, v in headers]
    block = "".join(lines)
    n = len(lines)
    if block.count("\n") != n or block.count("\r") != n or "\x00" in block:
        _raise_bad_header(lines)
    return block


def _raise_bad_header(lines: list[str]) -> None:
    for line in lines:
        body = line[:-2]
        if "\r" in body or "\n" in body or "\x00" in body:
            raise InvalidHeaderError(f"header holds CR, LF or NUL: {body[:80]!r}")
    raise InvalidHeaderError("invalid header block")  # pragma: no cover - defensive


def check_header_names(headers: Iterable[tuple[str, str]]) -> None:
    """Refuse names that are not plain tokens (slow path, used on unusual names only)."""
    for name, _ in headers:
        if not name or any(c in name for c in ": \t\r\n\x00"):
            raise InvalidHeaderError(f"invalid header name {name!r}")


def format_head(
    version: str, status: int, reason: str | None, headers: Iterable[tuple[str, str]]
) -> bytes:
    """Serialise a complete response head (status line, headers, empty line) as is.

    Unlike ``HTTPConnection.respond`` nothing is added (no Date, no Content-Length).
    """
    head = status_line(version, status, reason) + header_block(headers) + "\r\n"
    return encode_head(head)


def encode_head(head: str) -> bytes:
    """Encode a head as ISO-8859-1, refusing characters outside it."""
    try:
        return head.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise InvalidHeaderError(f"header not encodable as ISO-8859-1: {exc}") from exc


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one chunk of a chunked body (empty data gives empty bytes)."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)
