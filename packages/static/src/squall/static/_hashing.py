"""Content hashes of static files: the ``?v=`` of ``static_url`` and the ``ETag``.

Theory of operation
-------------------
A file's version is the SHA-256 of its bytes, cut to 128 bits (32 hex digits): collisions are
not a concern at that length, and SHA-256 runs at about 1.4 GB/s on CPUs with SHA
extensions (measured here: faster than MD5, which Tornado uses). The ETag is the same
digest in quotes, a *strong* validator, so ``If-Range`` can use it.

:class:`HashCache` remembers one digest per resolved path, keyed by the file's
``(st_mtime_ns, st_size, st_ino)``: a digest is reused only while the file still has the
stat that was hashed, so an edit (new mtime or size) or a replaced file (new inode) is
hashed again. The caller supplies the stat, which it already has; the cache never stats.
``HashCache(enabled=False)`` (the ``static_hash_cache=False`` setting, which ``debug=True``
implies) remembers nothing: every call hashes.

Files up to :data:`SYNC_HASH_LIMIT` are hashed on the calling thread (a few hundred
microseconds at most); bigger ones are hashed in the event loop's default executor, and
concurrent requests for the same file share one computation.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from typing import Final

from squall.static._paths import open_regular

__all__ = ["SYNC_HASH_LIMIT", "HashCache", "hash_bytes", "hash_file"]

SYNC_HASH_LIMIT: Final = 256 * 1024
"""Files up to this size are hashed synchronously (≈0.2 ms), bigger ones in an executor."""

_MAX_ENTRIES: Final = 20_000
"""Past this many paths the cache starts over: a bound on memory for huge static trees."""

_StatKey = tuple[int, int, int]


def stat_key(st: os.stat_result) -> _StatKey:
    """The part of a stat result that says whether a file's content may have changed."""
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def hash_bytes(data: bytes) -> str:
    """The version string of a file whose whole content is ``data``."""
    return hashlib.sha256(data).hexdigest()[:32]


def hash_file(path: str) -> str:
    """The version string of the file at ``path``, read in chunks (memory stays flat).

    Raises:
        OSError: the file cannot be opened or read.
    """
    with open_regular(path) as f:
        # file_digest reads with readinto into one reused buffer: memory stays flat
        return hashlib.file_digest(f, "sha256").hexdigest()[:32]  # type: ignore[arg-type]


class HashCache:
    """Digests of files, valid while their stat key is unchanged.

    Args:
        enabled: False disables caching (every lookup misses, nothing is stored).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._digests: dict[str, tuple[_StatKey, str]] = {}
        self._pending: dict[tuple[str, _StatKey, int], asyncio.Future[str]] = {}

    def lookup(self, path: str, st: os.stat_result) -> str | None:
        """The cached digest of ``path`` if it was computed for this stat, else None."""
        entry = self._digests.get(path)
        if entry is not None and entry[0] == stat_key(st):
            return entry[1]
        return None

    def store(self, path: str, st: os.stat_result, digest: str) -> None:
        """Remember ``digest`` as the hash of ``path`` with stat ``st`` (no-op if disabled)."""
        if not self.enabled:
            return
        if len(self._digests) >= _MAX_ENTRIES and path not in self._digests:
            self._digests.clear()
        self._digests[path] = (stat_key(st), digest)

    def get_sync(self, path: str, st: os.stat_result) -> str:
        """The digest of ``path``, computed on this thread if not cached.

        Raises:
            OSError: the file cannot be read.
        """
        digest = self.lookup(path, st)
        if digest is None:
            digest = hash_file(path)
            self.store(path, st, digest)
        return digest

    async def get(self, path: str, st: os.stat_result) -> str:
        """The digest of ``path``; files over :data:`SYNC_HASH_LIMIT` hash in an executor.

        Raises:
            OSError: the file cannot be read.
        """
        digest = self.lookup(path, st)
        if digest is not None:
            return digest
        if st.st_size <= SYNC_HASH_LIMIT:
            return self.get_sync(path, st)
        # shield: one client going away must not cancel the hash others wait for
        return await asyncio.shield(self._start(path, st))

    def get_nowait(self, path: str, st: os.stat_result) -> str | None:
        """The digest if it is cached or cheap; else start hashing and return None.

        For synchronous callers (``static_url`` in a template) that must not block the loop
        on a large file: the first call gives None (an unversioned URL), later calls the
        digest once the executor is done. Without a running loop it hashes synchronously.

        Raises:
            OSError: the file cannot be read (small files only; large ones fail quietly in
                the background and are retried on the next call).
        """
        digest = self.lookup(path, st)
        if digest is not None or st.st_size <= SYNC_HASH_LIMIT:
            return digest if digest is not None else self.get_sync(path, st)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.get_sync(path, st)
        fut = self._start(path, st)
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            return fut.result()
        return None

    def _start(self, path: str, st: os.stat_result) -> asyncio.Future[str]:
        loop = asyncio.get_running_loop()
        # Keyed by loop too: a future may only be awaited on its own loop, and the cache is
        # shared by every application of the process (one loop per thread is allowed).
        key = (path, stat_key(st), id(loop))
        fut = self._pending.get(key)
        if fut is None:
            fut = asyncio.ensure_future(loop.run_in_executor(None, hash_file, path))
            self._pending[key] = fut

            def done(f: asyncio.Future[str]) -> None:
                self._pending.pop(key, None)
                if not f.cancelled() and f.exception() is None:
                    self.store(path, st, f.result())

            fut.add_done_callback(done)
        return fut
