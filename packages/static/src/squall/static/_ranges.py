"""Range requests (RFC 9110 §14): parse ``Range``, judge ``If-Range``. Pure functions.

Theory of operation
-------------------
:func:`parse_range` maps a ``Range`` header and the representation's size to one of three
answers:

- ``None``: serve the whole file with 200. Used when there is no header, when it is
  malformed or uses another unit (RFC 9110 §14.2: a server MAY ignore it), and when it
  asks for **several** ranges that can be satisfied: squall never builds
  ``multipart/byteranges`` bodies; the whole file is a correct answer, and it bounds the
  work of a header listing thousands of overlapping ranges to one pass over the file.
- a :class:`ByteRange` ``(start, stop)`` (``stop`` exclusive): answer 206 with
  ``Content-Range: bytes start-(stop-1)/size``.
- :data:`UNSATISFIABLE`: answer 416 with ``Content-Range: bytes */size``. Given when no
  range can be satisfied: a start at or past the end (``bytes=100-`` of a 100-byte file),
  a zero-length suffix (``bytes=-0``), a start after the end (``bytes=5-1``: invalid by
  the RFC; we refuse it as Tornado does instead of silently sending everything), any range
  of an empty file.

Cost: the header is scanned once with ``split``/``strip``/``partition`` (no regular
expression, so nothing can backtrack), so time is linear in its length whatever it holds;
more than :data:`MAX_RANGES` specs stop the scan early and serve the whole file. Numbers
longer than 18 digits are clamped instead of converted (``int()`` of a 10,000-digit string
is quadratic and, since 3.11, refused).
"""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Final, NamedTuple

__all__ = ["MAX_RANGES", "UNSATISFIABLE", "ByteRange", "if_range_allows", "parse_range"]

MAX_RANGES: Final = 100
"""More range specs than this and the header is answered with the whole file."""

# A number past 10**18 bytes is past the end of any file, so clamping is exact.
_BIG: Final = 10**18
_OWS: Final = " \t"


class ByteRange(NamedTuple):
    """A satisfiable range: bytes ``start`` up to, not including, ``stop``."""

    start: int
    stop: int

    def content_range(self, size: int) -> str:
        """The ``Content-Range`` value for a 206 answer."""
        return f"bytes {self.start}-{self.stop - 1}/{size}"


class _Unsatisfiable:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSATISFIABLE"


UNSATISFIABLE: Final = _Unsatisfiable()
"""The answer of :func:`parse_range` that calls for a 416."""


def _is_digits(text: str) -> bool:
    # str.isdigit alone accepts other scripts' digits ("²", "٣"); the RFC wants ASCII.
    return text == "" or (text.isascii() and text.isdigit())


def _num(digits: str) -> int:
    # Leading zeros are valid (1*DIGIT) and say nothing about the size: drop them before
    # judging the length, so "bytes=000…01-2" is the range 1-2, not "past the end".
    digits = digits.lstrip("0") or "0"
    return _BIG if len(digits) > 18 else int(digits)


def parse_range(header: str | None, size: int) -> ByteRange | _Unsatisfiable | None:
    """Judge a ``Range`` header against a representation of ``size`` bytes.

    Args:
        header: the header's value, or None when absent.
        size: the length of the file.

    Returns:
        None (serve everything with 200), a :class:`ByteRange` (206) or
        :data:`UNSATISFIABLE` (416). See the module docstring for the rules.
    """
    if not header:
        return None
    # Hand-written scanning (strip/partition, no regex): each step is linear, so no input
    # can make it backtrack (a regex with optional whitespace on both sides of "-" went
    # quadratic on a header of spaces).
    unit = header.lstrip(_OWS)
    if unit[:5].lower() != "bytes":
        return None
    rest = unit[5:].lstrip(_OWS)
    if not rest.startswith("="):
        return None
    specs = rest[1:].split(",", MAX_RANGES)
    if len(specs) > MAX_RANGES:
        return None
    found: ByteRange | None = None
    count = 0
    seen = False
    for raw_spec in specs:
        spec = raw_spec.strip(_OWS)
        if not spec:
            continue  # RFC 9110 list syntax allows empty elements: "bytes=0-1, ,"
        first, dash, last = spec.partition("-")
        first, last = first.rstrip(_OWS), last.lstrip(_OWS)
        if not dash or not _is_digits(first) or not _is_digits(last):
            return None  # malformed: ignore the whole header
        seen = True
        if first:
            start = _num(first)
            if last:
                end = _num(last)
                if end < start:
                    continue  # invalid spec: unsatisfiable
                stop = min(end + 1, size)
            else:
                stop = size
            if start >= size:
                continue
        elif last:
            length = _num(last)
            if length == 0 or size == 0:
                continue
            start, stop = max(0, size - length), size
        else:
            return None  # "bytes=-": malformed
        count += 1
        found = ByteRange(start, stop)
    if not seen:
        return None  # "bytes=" or "bytes=,": malformed
    if count == 0:
        return UNSATISFIABLE
    if count > 1:
        return None
    return found


def if_range_allows(if_range: str | None, etag: str, last_modified: int) -> bool:
    """Whether a ``Range`` may be honoured under the request's ``If-Range``.

    Args:
        if_range: the ``If-Range`` value, or None when absent.
        etag: the file's current (strong) ETag, quotes included.
        last_modified: the file's modification time in whole seconds.

    Returns:
        True when there is no ``If-Range`` or it still matches the file: a strong ETag equal
        to ours, or an HTTP date equal to our ``Last-Modified`` (RFC 9110 §13.1.5: weak
        validators never match). False means: ignore ``Range``, send the whole file.
    """
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith('"') or value.startswith("W/"):
        return value == etag
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are UTC
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp()) == last_modified
