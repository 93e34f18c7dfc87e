"""Collecting a request body as it arrives: raw bytes (spooled past a threshold) and forms.

Rules / theory of operation
---------------------------
The protocol creates one `BodyCollector` per request whose body it reads for the delegate
(not when the delegate streams the body), calls `BodyCollector.feed` with each decoded
piece (already de-chunked and decompressed) and `BodyCollector.finish` at the end, which
returns a `ParsedBody`. Nothing here does socket I/O.

* The raw body is kept in memory up to ``HTTPLimits.spool_threshold`` bytes and moved to an
  anonymous temporary file beyond (``ParsedBody.spool``, at position 0, deleted when it is
  closed or garbage-collected); ``ParsedBody.body`` is then None.
* ``multipart/form-data`` is parsed incrementally while the body arrives, so file parts over
  the threshold are written to their own temporary files chunk by chunk (`HTTPFile.path`)
  and a large upload never sits whole in memory. Parts without a file name become
  arguments (held in memory, bounded by ``max_body_size``).
* ``application/x-www-form-urlencoded`` is parsed once, at `finish` (its fields are all
  needed in memory anyway). Every other content type leaves the body alone: no arguments.
* A form body still carrying a ``Content-Encoding`` other than ``identity`` (the server did
  not decompress it: ``decompress_request`` off) is refused with a 400 naming the encoding,
  as Tornado 6.5+ does: its fields cannot be read, and running the handler without them
  would lose them silently. Any other content type is kept raw, still encoded, for the
  handler. When the server decompresses, it renames the header
  ``X-Consumed-Content-Encoding``.
* Errors are `HTTPInputError` with a ``status_hint``: a body over ``max_body_size`` (413,
  defensive: the protocol enforces it first), a missing or invalid boundary (400, raised by
  the first `feed` or by `finish`), and the limits of the form parsers (`_forms`,
  `_multipart`). On any error the collector deletes every temporary file it made, and
  `close` does the same for a request abandoned midway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from squall.http._errors import HTTPInputError
from squall.http._files import HTTPFile, SpillBuffer
from squall.http._forms import (
    MULTIPART,
    URLENCODED,
    MultipartFormReader,
    merge_arguments,
    parse_qs_bytes,
    unsupported_form_encoding,
)
from squall.http._limits import HTTPLimits
from squall.http._multipart import boundary_from_params, parse_header_value


@dataclass(slots=True)
class ParsedBody:
    """A request body once fully received.

    Attributes:
        body: the raw body in memory, or None when it was spooled to disk.
        spool: the raw body in an anonymous temporary file (position 0) when it was larger
            than ``spool_threshold``, else None.
        body_arguments: form fields, ``name → [bytes value, ...]``.
        files: uploaded files, ``name → [HTTPFile, ...]``.

    .. versionadded:: 0.1.0
    """

    body: bytes | None
    spool: BinaryIO | None = None
    body_arguments: dict[str, list[bytes]] = field(default_factory=dict)
    files: dict[str, list[HTTPFile]] = field(default_factory=dict)

    def read_body(self) -> bytes:
        """The raw body as bytes, read from the spool file when it was spooled."""
        if self.body is not None:
            return self.body
        if self.spool is None:
            return b""
        self.spool.seek(0)
        data = self.spool.read()
        self.spool.seek(0)
        return data

    def close(self) -> None:
        """Close the spool file and every uploaded file (deleting temporary files)."""
        if self.spool is not None:
            self.spool.close()
        for uploads in self.files.values():
            for upload in uploads:
                upload.close()


class BodyCollector:
    """Receives a request body chunk by chunk and parses form bodies while it arrives.

    Args:
        headers: the request headers; only ``Content-Type`` is read.
        limits: ``max_body_size``, ``spool_threshold``, ``max_fields``,
            ``max_multipart_parts`` and ``max_part_header_size`` apply.
        max_body_size: overrides ``limits.max_body_size`` for this request (a delegate's
            own ``max_body_size``, which may be larger or smaller than the server's); also
            settable later through the attribute of the same name.

    .. versionadded:: 0.1.0
    """

    __slots__ = (
        "_limits",
        "_raw",
        "_size",
        "_arguments",
        "_files",
        "_form",
        "_urlencoded",
        "_error",
        "max_body_size",
    )

    def __init__(
        self, headers: Mapping[str, str], limits: HTTPLimits, *, max_body_size: int | None = None
    ) -> None:
        self._limits = limits
        self.max_body_size = limits.max_body_size if max_body_size is None else max_body_size
        self._raw: SpillBuffer | None = SpillBuffer(limits.spool_threshold, named=False)
        self._size = 0
        self._arguments: dict[str, list[bytes]] = {}
        self._files: dict[str, list[HTTPFile]] = {}
        self._form: MultipartFormReader | None = None
        self._error: HTTPInputError | None = None
        media, params = parse_header_value(headers.get("Content-Type") or "")
        media = media.lower()
        encoding = (headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding != "identity":
            if media in (URLENCODED, MULTIPART):
                self._error = unsupported_form_encoding(headers["Content-Encoding"])
            media = ""  # still compressed: not a form we can read
        self._urlencoded = media == URLENCODED
        if media == MULTIPART and self._error is None:
            try:
                boundary = boundary_from_params(params)
            except HTTPInputError as exc:
                # Raised by the first feed() or by finish(); kept without the traceback
                # (its frames hold this collector: a cycle).
                self._error = exc.with_traceback(None)
            else:
                self._form = MultipartFormReader(boundary, limits, self._arguments, self._files)

    def _take_error(self) -> HTTPInputError:
        """The error found in ``__init__``, dropped as it is raised (close() follows).

        Neither an attribute nor a local of the raising frame may keep it: its traceback
        holds that frame, and the cycle would leave the connection to the cyclic collector.
        """
        error = self._error
        assert error is not None
        self._error = None
        return error

    @property
    def size(self) -> int:
        """Bytes received so far."""
        return self._size

    def feed(self, chunk: bytes | bytearray) -> None:
        """Take the next piece of the decoded body.

        Raises:
            HTTPInputError: body over ``max_body_size`` (413) or a malformed or over-limit
                form (400/413); temporary files are deleted before it propagates.
        """
        if self._raw is None:
            raise RuntimeError("BodyCollector.feed() after finish() or close()")
        if type(chunk) is not bytes:
            chunk = bytes(chunk)  # a caller's buffer may change after this call: keep a copy
        try:
            if self._error is not None:
                raise self._take_error()
            self._size += len(chunk)
            if self._size > self.max_body_size:
                raise HTTPInputError(f"request body over max_body_size={self.max_body_size}", 413)
            self._raw.write(chunk)
            if self._form is not None:
                self._form.feed(chunk)
        except BaseException:
            self.close()
            raise

    def finish(self) -> ParsedBody:
        """The body is complete: finish parsing and hand everything over.

        Raises:
            HTTPInputError: e.g. a multipart body without its final boundary (400).
        """
        raw = self._raw
        if raw is None:
            raise RuntimeError("BodyCollector.finish() called twice or after close()")
        try:
            if self._error is not None:
                raise self._take_error()
            if self._form is not None:
                self._form.finish()
            body = raw.getvalue()
            spool = raw.detach_file()
            parsed = ParsedBody(body, spool, self._arguments, self._files)
            if self._urlencoded:
                fields = parse_qs_bytes(parsed.read_body(), max_fields=self._limits.max_fields)
                merge_arguments(self._arguments, fields)
        except BaseException:
            self.close()
            raise
        self._raw = None
        self._form = None
        return parsed

    def close(self) -> None:
        """Abandon the body: delete the spool and every temporary file made so far."""
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        if self._form is not None:
            self._form.close()
            self._form = None
