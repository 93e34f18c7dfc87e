"""Form bodies and query strings: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Rules / theory of operation
---------------------------
* Values stay ``bytes`` (as Tornado's ``arguments`` dicts); the web layer decodes them as
  UTF-8 when a handler asks for a ``str``. Names are ``str``, decoded here as UTF-8 with
  ``errors="replace"`` (Tornado decodes them as latin-1, which garbles non-ASCII names; a
  bad byte here becomes U+FFFD and never raises), so ``get_argument("名字")`` finds a field
  a browser sent from a UTF-8 page.
* `parse_qs_bytes` percent-decodes straight to bytes (``+`` is a space, a malformed
  ``%`` escape is kept as is; a long value in slices, so its memory stays a few times its
  size, see `_unquote`), splits on ``&`` only (as Python ≥ 3.10 and Tornado ≥ 6.3)
  and skips empty pieces with a regular expression, so a body of ten million ``&`` costs one
  C-level scan, not ten million Python iterations. A ``str`` query is taken as latin-1 (how
  a server decodes the request target), or as UTF-8 when it holds characters above U+00FF.
* More than ``max_fields`` fields (urlencoded pieces, or multipart parts without a file
  name) is refused with HTTPInputError(400) naming the limit.
* Multipart bodies go through the incremental `MultipartParser`; `MultipartFormReader`
  turns its events into arguments and `HTTPFile` objects, spooling each file part larger
  than ``spool_threshold`` to a temporary file as it arrives. A part with a non-empty file
  name is a file (Content-Type defaulting to ``application/octet-stream``, RFC 7578 §4.4);
  a part without one (or with ``filename=""``, what browsers send for an empty file input,
  as Tornado) is an argument; a part without a ``form-data`` name is ignored.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping

from squall.http._errors import HTTPInputError
from squall.http._files import HTTPFile, SpillBuffer
from squall.http._limits import HTTPLimits
from squall.http._multipart import (
    MultipartParser,
    PartData,
    PartStart,
    boundary_from_params,
    parse_header_value,
)

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
DEFAULT_FILE_TYPE = "application/octet-stream"

_FIELD = re.compile(rb"[^&]+")
_SLICE = 4096  # bytes percent-decoded per call of the standard library's decoder


def _unquote(data: bytes) -> bytes:
    """Percent-decode ``data`` as ``urllib.parse.unquote_to_bytes``, in bounded memory.

    The standard decoder splits its input at every ``%`` and keeps a bytes object per piece
    until it joins them: about 190 bytes of memory per input byte for ``%41%41...``, so a
    10 MB urlencoded body would take gigabytes for a moment. Decoding slices of ``_SLICE``
    bytes keeps that overhead to one slice's worth. A slice never ends inside an escape (a
    ``%`` among its last two bytes starts the next slice instead), and an escape is never
    longer than three bytes, so the result is the same as decoding the whole at once.
    """
    if len(data) <= _SLICE:
        return urllib.parse.unquote_to_bytes(data)
    out = bytearray()
    start, size = 0, len(data)
    while start < size:
        end = start + _SLICE
        if end < size:
            cut = data.rfind(b"%", end - 2, end)
            if cut > start:
                end = cut
        out += urllib.parse.unquote_to_bytes(data[start:end])
        start = end
    return bytes(out)


def _to_bytes(qs: str | bytes) -> bytes:
    if isinstance(qs, bytes):
        return qs
    try:
        return qs.encode("latin-1")
    except UnicodeEncodeError:
        return qs.encode("utf-8")


def parse_qs_bytes(
    qs: str | bytes, *, keep_blank_values: bool = True, max_fields: int = 1000
) -> dict[str, list[bytes]]:
    """Parse a query string or urlencoded body into ``{name: [value, ...]}`` with bytes values.

    Args:
        qs: the query string (without ``?``) or the body.
        keep_blank_values: keep ``a=`` and ``a`` as ``b""`` (True, as Tornado's request
            parsing) or drop them.
        max_fields: the most ``&``-separated fields accepted.

    Raises:
        HTTPInputError: (400) with more than ``max_fields`` fields.

    .. versionadded:: 0.1.0
    """
    result: dict[str, list[bytes]] = {}
    count = 0
    for match in _FIELD.finditer(_to_bytes(qs)):
        count += 1
        if count > max_fields:
            raise HTTPInputError(f"more than max_fields={max_fields} form fields", 400)
        name, _, value = match.group().partition(b"=")
        if not value and not keep_blank_values:
            continue
        if b"+" in name:
            name = name.replace(b"+", b" ")
        if b"+" in value:
            value = value.replace(b"+", b" ")
        key = (_unquote(name) if b"%" in name else name).decode("utf-8", "replace")
        val = _unquote(value) if b"%" in value else value
        if key in result:
            result[key].append(val)
        else:
            result[key] = [val]
    return result


def merge_arguments(target: dict[str, list[bytes]], source: dict[str, list[bytes]]) -> None:
    """Append every value of ``source`` to ``target`` (which keeps its own first)."""
    for name, values in source.items():
        target.setdefault(name, []).extend(values)


class MultipartFormReader:
    """Feeds a multipart body to `MultipartParser` and builds arguments and files from it.

    Args:
        boundary: the validated boundary.
        limits: ``max_fields``, ``max_multipart_parts``, ``max_part_header_size`` and
            ``spool_threshold`` are used.
        arguments: receives ``name → [value]`` for parts without a file name.
        files: receives ``name → [HTTPFile]`` for file parts.
    """

    def __init__(
        self,
        boundary: bytes,
        limits: HTTPLimits,
        arguments: dict[str, list[bytes]],
        files: dict[str, list[HTTPFile]],
    ) -> None:
        self._parser = MultipartParser(
            boundary,
            max_parts=limits.max_multipart_parts,
            max_header_size=limits.max_part_header_size,
        )
        self._limits = limits
        self.arguments = arguments
        self.files = files
        self._fields = 0
        self._name: str | None = None
        self._filename = ""
        self._content_type = DEFAULT_FILE_TYPE
        self._value: bytearray | None = None  # the current argument part
        self._file: SpillBuffer | None = None  # the current file part
        self._made: list[HTTPFile] = []  # every file this reader created, for close()

    def feed(self, data: bytes) -> None:
        """Parse ``data``; raises HTTPInputError on malformed input or a limit."""
        for event in self._parser.feed(data):
            if isinstance(event, PartData):
                if self._file is not None:
                    self._file.write(event.data)
                elif self._value is not None:
                    self._value += event.data
            elif isinstance(event, PartStart):
                self._start(event)
            else:
                self._end()

    def _start(self, part: PartStart) -> None:
        self._name = part.name
        if part.name is None:
            return  # no form-data name: the part is read and dropped
        if part.filename:
            self._filename = part.filename
            self._content_type = part.content_type or DEFAULT_FILE_TYPE
            self._file = SpillBuffer(self._limits.spool_threshold, named=True)
        else:
            self._fields += 1
            if self._fields > self._limits.max_fields:
                raise HTTPInputError(
                    f"more than max_fields={self._limits.max_fields} form fields", 400
                )
            self._value = bytearray()

    def _end(self) -> None:
        name = self._name
        if name is None:
            return
        if self._file is not None:
            upload = self._file.to_httpfile(self._filename, self._content_type)
            self._file = None
            self._made.append(upload)
            self.files.setdefault(name, []).append(upload)
        elif self._value is not None:
            self.arguments.setdefault(name, []).append(bytes(self._value))
            self._value = None
        self._name = None

    def finish(self) -> None:
        """Check the body ended with its final boundary (HTTPInputError 400 otherwise)."""
        self._parser.finish()

    def close(self) -> None:
        """Drop a half-received part and delete every temporary file made so far."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._value = None
        for upload in self._made:
            upload.close()


def unsupported_form_encoding(coding: str) -> HTTPInputError:
    """The error for a form body that still carries the Content-Encoding ``coding``."""
    return HTTPInputError(
        f"unsupported Content-Encoding {coding[:40]!r} on a form body "
        "(the server inflates gzip only with decompress_request on)",
        400,
    )


def parse_body_arguments(
    content_type: str,
    body: bytes,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    headers: Mapping[str, str] | None = None,
    *,
    limits: HTTPLimits | None = None,
) -> None:
    """Parse a whole form body into ``arguments`` and ``files`` (Tornado-compatible helper).

    Understands ``application/x-www-form-urlencoded`` and ``multipart/form-data``; any other
    content type leaves both dicts untouched. A form whose ``Content-Encoding`` (in
    ``headers``) is neither absent nor ``identity`` cannot be read: `HTTPInputError` (400),
    as Tornado 6.5+.

    Args:
        content_type: the request's Content-Type header value.
        body: the whole body.
        arguments: receives the fields (values appended to existing lists).
        files: receives the uploaded files.
        headers: the request headers, consulted for Content-Encoding only.
        limits: the limits to apply (default `HTTPLimits()`).

    Raises:
        HTTPInputError: a malformed body, a limit exceeded, or a form still encoded
            (status_hint 400 or 413).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.7
       A form with a Content-Encoding is refused (it was left unparsed, silently).
    """
    limits = limits or HTTPLimits()
    media, params = parse_header_value(content_type)
    media = media.lower()
    if headers is not None and media in (URLENCODED, MULTIPART):
        coding = headers.get("Content-Encoding")
        if coding is not None and coding.strip().lower() not in ("identity", ""):
            raise unsupported_form_encoding(coding)
    if media == URLENCODED:
        merge_arguments(arguments, parse_qs_bytes(body, max_fields=limits.max_fields))
    elif media == MULTIPART:
        reader = MultipartFormReader(boundary_from_params(params), limits, arguments, files)
        try:
            reader.feed(body)
            reader.finish()
        except BaseException:
            reader.close()
            raise
