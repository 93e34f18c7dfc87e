"""The per-path cache that makes a static hit cost a dict lookup: stat, hash, headers, bytes.

Theory of operation
-------------------
Tornado and aiohttp ``stat``, ``open`` and hash a file on every request; that, not HTTP,
is what bounds them at a few thousand requests per second. A :class:`FileStore` (one per
application, root folder and handler options) instead keeps one :class:`FileEntry` per URL
path: the resolved file, its stat result, its content hash (→ ``ETag`` and ``?v=``), its
``Last-Modified`` and ``Content-Type``, the ready-made response header lists, and for files
up to :attr:`FileStore.small_limit` the bytes themselves.

Freshness: a hit costs one ``stat`` of the entry's file (and nothing else that asks the
kernel): a file that was deleted, moved away, replaced (new inode), resized, touched (new
mtime) or had its permissions or owner changed (new ctime) is looked up again at once, as
Tornado would serve it (a test or a user that edits a file and reloads must not get the old
bytes; a file made unreadable is a 403 at once). The stat is compared as one precomputed
tuple (:func:`fresh_key`). What the ``stat`` cannot see is an edit that keeps the size
within one tick of the file system's clock; so an entry built from a file modified less than
:data:`RACY_WINDOW` ago is *racy* (git's word for the same problem) and is rebuilt on every
request until the file has aged. (A ``chmod`` in the very tick of a build is the same blind
spot for the ctime; Linux 6.13+ file systems with multigrain timestamps close it, since the
build's ``stat`` makes the next change get a finer, different ctime.)
The whole path resolution (symlinks included) runs again once an entry is
:attr:`FileStore.ttl` seconds (1 s by default) old. Each answer is one consistent snapshot
(headers and bytes always match; never half an old file with a new length). ``enabled=False``
(``static_hash_cache=False``, implied by ``debug=True``) keeps nothing: every request
resolves, stats, reads and hashes, exactly like Tornado.

Bounds: at most :attr:`FileStore.max_entries` URL paths (past that the cache starts over, so
a client inventing aliases such as ``a//b`` cannot grow it forever) and at most
:attr:`FileStore.max_bytes` of cached file bytes (past that, files are served from disk).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Final

from squall.static._hashing import HashCache, hash_bytes
from squall.static._mime import content_type_for
from squall.static._paths import ResolvedPath, open_regular

__all__ = ["FileEntry", "FileStore", "fresh_key", "http_date"]

RACY_WINDOW: Final = 1.0
"""An entry built from a file modified less than this many seconds before is not trusted."""

SMALL_FILE_LIMIT: Final = 64 * 1024
"""Files up to this size are kept in memory and sent with the headers in one write."""


_FreshKey = tuple[int, int, int, int, int]


def fresh_key(st: os.stat_result) -> _FreshKey:
    """What a hit compares: inode, device, size, mtime and ctime (nanoseconds).

    ctime moves on every content, permission, owner or link change, so a ``chmod`` (file
    made unreadable) or a rename is noticed like an edit.
    """
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def http_date(seconds: float) -> str:
    """An IMF-fixdate (``Tue, 14 Nov 2023 22:13:20 GMT``) for a POSIX time."""
    return formatdate(seconds, usegmt=True)


@dataclass(slots=True, eq=False)
class FileEntry:
    """What a response for one file needs, computed once per file version.

    Attributes:
        path: the resolved absolute path.
        stat: the stat result the entry was built from.
        digest: the content hash (the ``?v=`` value).
        etag: the strong ETag, ``'"' + digest + '"'``.
        mtime: modification time in whole seconds (``Last-Modified`` precision).
        last_modified: ``mtime`` as an HTTP date.
        content_type: the ``Content-Type`` value.
        body: the file's bytes for small files, else None (served from disk).
        checked_at: ``time.monotonic()`` of the last check against the file system.
        racy: the file was modified within :data:`RACY_WINDOW` of the build, so a same-size
            edit in the same clock tick could hide behind an unchanged stat: not reused.
        key: :func:`fresh_key` of ``stat``, precomputed for the per-hit comparison.
        stat_path: the path a hit stats: the *lexical* path (root + URL path, symlinks not
            resolved), so a symlink retargeted at another file is noticed at once too; ``path``
            when no lexical path was given.
        responses: header lists prepared by handlers, keyed as they like (per entry, so they
            die with it).
        encoding: the ``Content-Encoding`` of a precompressed sibling's entry
            (``app.js.br`` → ``"br"``); None for the file itself.
        siblings: the codings of this file's precompressed siblings that exist and are not
            older than it, in the handler's preference order (checked with the file's own
            freshness: on misses only); empty when it has none.
    """

    path: str
    stat: os.stat_result
    digest: str
    etag: str
    mtime: int
    last_modified: str
    content_type: str
    body: bytes | None
    checked_at: float
    racy: bool = False
    key: _FreshKey = (0, 0, 0, 0, 0)
    stat_path: str = ""
    responses: dict[Any, list[tuple[str, str]]] = field(default_factory=dict)
    encoding: str | None = None
    siblings: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """The file's length in bytes."""
        return self.stat.st_size


class FileStore:
    """Entries of one root folder, keyed by URL path (see the module docstring).

    Args:
        hashes: the digest cache to use when a file is not kept in memory.
        enabled: False keeps nothing (debug / ``static_hash_cache=False``).
        ttl: seconds an entry is trusted without looking at the disk.
    """

    small_limit: int = SMALL_FILE_LIMIT
    max_entries: int = 10_000
    max_bytes: int = 64 * 1024 * 1024

    def __init__(self, hashes: HashCache, *, enabled: bool = True, ttl: float = 1.0) -> None:
        self.hashes = hashes
        self.enabled = enabled
        self.ttl = ttl
        self.entries: dict[str, FileEntry] = {}
        self._bytes = 0

    def fresh(self, key: str) -> FileEntry | None:
        """The entry of ``key`` if it is still the file on disk, else None (look it up).

        None when there is no entry, it is racy, its path was resolved ``ttl`` seconds ago
        or more, or a ``stat`` of its file fails or differs (:func:`fresh_key`).
        """
        entry = self.entries.get(key)
        if entry is None or entry.racy or time.monotonic() - entry.checked_at >= self.ttl:
            return None
        try:
            st = os.stat(entry.stat_path)
        except OSError:
            return None
        # One tuple built and compared: this runs on every hit.
        if (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != entry.key:
            return None
        return entry

    def revalidate(
        self, key: str, resolved: ResolvedPath, stat_path: str | None = None
    ) -> FileEntry | None:
        """The old entry of ``key`` if ``resolved`` is still the same file, refreshed; else None.

        "The same" is the whole :func:`fresh_key` (ctime included): a file whose permissions
        changed is built again, so reading it answers whether it is still readable.
        """
        entry = self.entries.get(key)
        if (
            entry is not None
            and not entry.racy
            and entry.path == resolved.path
            and entry.stat_path == (stat_path or resolved.path)
            and entry.key == fresh_key(resolved.stat)
        ):
            entry.checked_at = time.monotonic()
            return entry
        return None

    def forget(self, key: str) -> None:
        """Drop the entry of ``key`` (its file vanished or changed under us)."""
        entry = self.entries.pop(key, None)
        if entry is not None and entry.body is not None:
            self._bytes -= len(entry.body)

    def build_small(
        self, key: str, resolved: ResolvedPath, stat_path: str | None = None
    ) -> FileEntry:
        """Read a small file whole (one ``read``), hash those very bytes, store the entry.

        Raises:
            OSError: the file vanished or cannot be read since it was resolved.
        """
        with open_regular(resolved.path) as f:
            st = os.fstat(f.fileno())
            body = f.read(st.st_size + 1)
        if len(body) != st.st_size:  # written to while we read: hash what we got, stat lies
            body = body[: st.st_size]
        return self._store(key, resolved.path, st, hash_bytes(body), body, stat_path)

    async def build_large(
        self, key: str, resolved: ResolvedPath, stat_path: str | None = None
    ) -> FileEntry:
        """Hash a file that stays on disk (in an executor when large) and store the entry.

        Raises:
            OSError: the file vanished or cannot be read since it was resolved.
        """
        digest = await self.hashes.get(resolved.path, resolved.stat)
        return self._store(key, resolved.path, resolved.stat, digest, None, stat_path)

    def wants_in_memory(self, resolved: ResolvedPath) -> bool:
        """Whether the file is small enough to keep its bytes (and the budget allows it)."""
        size = resolved.stat.st_size
        return size <= self.small_limit and (
            not self.enabled or self._bytes + size <= self.max_bytes
        )

    def _store(
        self,
        key: str,
        path: str,
        st: os.stat_result,
        digest: str,
        body: bytes | None,
        stat_path: str | None,
    ) -> FileEntry:
        mtime = int(st.st_mtime)
        entry = FileEntry(
            path=path,
            stat=st,
            digest=digest,
            etag=f'"{digest}"',
            mtime=mtime,
            last_modified=http_date(mtime),
            content_type=content_type_for(path),
            body=body,
            checked_at=time.monotonic(),
            racy=time.time() - st.st_mtime < RACY_WINDOW,
            key=fresh_key(st),
            stat_path=stat_path or path,
        )
        if self.enabled:
            self.hashes.store(path, st, digest)
            self.forget(key)
            if len(self.entries) >= self.max_entries:
                self.entries.clear()
                self._bytes = 0
            self.entries[key] = entry
            if body is not None:
                self._bytes += len(body)
        return entry
