"""Uploaded files (`HTTPFile`) and the memory-then-disk buffer behind large bodies.

Rules / theory of operation
---------------------------
* A `SpillBuffer` keeps bytes in a ``bytearray`` while its size is at most ``threshold``.
  The write that takes it past the threshold moves everything to a temporary file and
  every later write goes straight to that file, so memory never holds more than
  ``threshold`` bytes plus the chunk being written.
* Temporary files come from `tempfile.mkstemp` (prefix ``squall-upload-``, in
  `tempfile.gettempdir()`, so ``TMPDIR`` moves them). Uploaded files keep their path while
  they live (``HTTPFile.path``, so a handler can ``os.link``/copy it); a spooled raw body is
  unlinked at once (anonymous: the kernel frees it when the descriptor closes).
* Cleanup is tied to the file object (a `TempFile`): its raw layer does not own the
  descriptor (``closefd=False``), and a `weakref.finalize` on it closes the descriptor and
  unlinks the path. ``close()`` runs that finalizer at once. So a temporary file disappears
  when it or its ``HTTPFile`` is closed, when the last reference to the file object is
  dropped (the HTTPFile, or a ``f.file`` the handler kept), or at interpreter exit —
  whichever comes first — and garbage collection never emits a ``ResourceWarning``.
* `HTTPFile.body` always reads as bytes, as in the notes
  (``request.files["image1"][0]["body"]``); for a spooled file it reads the whole file from
  disk on every access, so large uploads should use ``f.file`` or ``f.path`` instead.
"""

from __future__ import annotations

import io
import os
import weakref
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

_KEYS = ("filename", "body", "content_type")
_TEMP_PREFIX = "squall-upload-"


def _release(fd: int, path: str | None) -> None:
    """Close a temporary file's descriptor and unlink its path; never raises."""
    try:
        os.close(fd)
    except OSError:
        pass
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass


class TempFile(io.BufferedRandom):
    """A buffered temporary file that deletes itself when closed or garbage-collected."""

    _cleanup: weakref.finalize[Any, Any] | None = None

    def close(self) -> None:
        """Flush and close the file, then close its descriptor and delete it from disk."""
        try:
            super().close()
        finally:
            if self._cleanup is not None:
                self._cleanup()


def new_temp_file(*, named: bool) -> tuple[TempFile, str | None]:
    """Create a self-cleaning temporary file.

    Args:
        named: keep the path on disk (for ``HTTPFile.path``); otherwise unlink it at once.

    Returns:
        ``(file, path)``: ``file`` is open for reading and writing at position 0 and
        deletes itself when closed or garbage-collected; ``path`` is its path or None.
    """
    # Imported here: tempfile brings shutil, random and more (≈ 9 ms at start-up), and
    # only a body that spills to disk needs it.
    import tempfile

    fd, path = tempfile.mkstemp(prefix=_TEMP_PREFIX)
    try:
        fileobj = TempFile(io.FileIO(fd, "r+b", closefd=False))
    except BaseException:
        _release(fd, path)
        raise
    kept: str | None = path
    if not named:
        os.unlink(path)
        kept = None
    fileobj._cleanup = weakref.finalize(fileobj, _release, fd, kept)
    return fileobj, kept


class SpillBuffer:
    """Bytes held in memory up to ``threshold``, moved to a temporary file beyond it.

    Args:
        threshold: the largest size kept in memory, in bytes.
        named: whether a spilled file keeps a path on disk (uploaded files) or not (raw bodies).
    """

    __slots__ = ("_threshold", "_named", "_first", "_memory", "_file", "_path", "_size")

    def __init__(self, threshold: int, *, named: bool) -> None:
        self._threshold = threshold
        self._named = named
        # A body that arrives in one piece is handed over as that very bytes object (no
        # copy); a second piece moves everything to a bytearray (amortized appends, and no
        # per-chunk overhead when a slow client sends one byte per packet).
        self._first = b""
        self._memory: bytearray | None = None
        self._file: BinaryIO | None = None
        self._path: str | None = None
        self._size = 0

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._size

    @property
    def spilled(self) -> bool:
        """True once the content lives in a temporary file."""
        return self._file is not None

    def write(self, data: bytes) -> None:
        """Append ``data``, spilling to disk when the total passes the threshold."""
        self._size += len(data)
        if self._file is not None:
            self._file.write(data)
            return
        if self._size <= self._threshold:
            if self._memory is not None:
                self._memory += data
            elif self._first:
                self._memory = bytearray(self._first)
                self._memory += data
                self._first = b""
            else:
                self._first = data if type(data) is bytes else bytes(data)  # never alias a buffer
            return
        self._file, self._path = new_temp_file(named=self._named)
        self._file.write(self._first if self._memory is None else self._memory)
        self._file.write(data)
        self._first = b""
        self._memory = None

    def getvalue(self) -> bytes | None:
        """The content as bytes when it is still in memory, else None."""
        if self._file is not None:
            return None
        return self._first if self._memory is None else bytes(self._memory)

    def detach_file(self) -> BinaryIO | None:
        """The temporary file (flushed, at position 0), or None when nothing was spilled.

        After this call the buffer no longer owns the file: its cleanup follows the file.
        """
        fileobj = self._file
        if fileobj is not None:
            fileobj.flush()
            fileobj.seek(0)
        return fileobj

    def to_httpfile(self, filename: str, content_type: str) -> HTTPFile:
        """Turn the content into an `HTTPFile` (in memory or spooled) and hand it over."""
        if self._file is None:
            return HTTPFile(filename, self.getvalue() or b"", content_type)
        fileobj = self.detach_file()
        assert fileobj is not None
        result = HTTPFile._spooled(filename, content_type, fileobj, self._path, self._size)
        self._file = None
        return result

    def close(self) -> None:
        """Discard the content and delete the temporary file, if one is still owned."""
        self._first = b""
        self._memory = None
        if self._file is not None:
            self._file.close()
            self._file = None


class HTTPFile:
    """A file uploaded in a ``multipart/form-data`` body.

    ``filename``, ``body`` and ``content_type`` are attributes and also keys, as in the notes:
    ``request.files["image1"][0]["body"]``. Small uploads live in memory; uploads larger than
    ``HTTPLimits.spool_threshold`` live in a temporary file (``path`` is its name), which is
    deleted by `close`, when the file object is garbage-collected, or at exit.

    Args:
        filename: the client's file name (from ``filename*`` or ``filename``), as sent.
        body: the content, for an in-memory file.
        content_type: the part's Content-Type (``application/octet-stream`` if none was sent).
        file: an open binary file holding the content instead of ``body`` (not closed for you
            unless you call `close`).

    .. versionadded:: 0.1.0
    """

    __slots__ = ("filename", "content_type", "_body", "_file", "_path", "_size")

    filename: str
    content_type: str

    def __init__(
        self,
        filename: str = "",
        body: bytes = b"",
        content_type: str = "application/octet-stream",
        *,
        file: BinaryIO | None = None,
    ) -> None:
        self.filename = filename
        self.content_type = content_type
        self._body: bytes | None = None if file is not None else bytes(body)
        self._file: BinaryIO | None = file
        self._path: str | None = None
        if file is not None:
            file.seek(0, os.SEEK_END)
            self._size = file.tell()
            file.seek(0)
        else:
            self._size = len(body)

    @classmethod
    def _spooled(
        cls,
        filename: str,
        content_type: str,
        fileobj: BinaryIO,
        path: str | None,
        size: int,
    ) -> HTTPFile:
        """An HTTPFile owning a temporary file made by `new_temp_file`."""
        self = cls.__new__(cls)
        self.filename = filename
        self.content_type = content_type
        self._body = None
        self._file = fileobj
        self._path = path
        self._size = size
        return self

    @property
    def body(self) -> bytes:
        """The whole content as bytes (read from disk, on each access, when spooled)."""
        if self._body is not None:
            return self._body
        assert self._file is not None
        self._file.seek(0)
        data = self._file.read()
        self._file.seek(0)
        return data

    @property
    def file(self) -> BinaryIO:
        """A readable binary file object holding the content, positioned at 0."""
        if self._file is None:
            self._file = io.BytesIO(self._body or b"")
        self._file.seek(0)
        return self._file

    @property
    def path(self) -> str | None:
        """The temporary file's path when the upload was spooled to disk, else None."""
        return self._path

    @property
    def size(self) -> int:
        """The content's length in bytes."""
        return self._size

    @property
    def in_memory(self) -> bool:
        """True when the content is held as bytes, False when it lives in a file."""
        return self._body is not None

    def close(self) -> None:
        """Release the content: close the file and delete a spooled temporary file."""
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> HTTPFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- mapping-style access, as Tornado's ObjectDict-based HTTPFile ------------------------

    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """``f[key]`` for ``filename``, ``body`` or ``content_type``, else ``default``."""
        return getattr(self, key) if key in _KEYS else default

    def keys(self) -> tuple[str, ...]:
        """The mapping keys: ``("filename", "body", "content_type")``."""
        return _KEYS

    def __contains__(self, key: object) -> bool:
        return key in _KEYS

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HTTPFile | Mapping):
            try:
                return all(self[k] == other[k] for k in _KEYS)
            except KeyError:
                return False
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        where = f", path={self._path!r}" if self._path is not None else ""
        return (
            f"HTTPFile(filename={self.filename!r}, content_type={self.content_type!r}, "
            f"size={self._size}{where})"
        )
