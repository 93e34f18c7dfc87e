"""Content hashes and their cache (squall.static._hashing)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from squall.static import _hashing
from squall.static._hashing import SYNC_HASH_LIMIT, HashCache, hash_bytes, hash_file


def test_hash_of_a_file_equals_the_hash_of_its_bytes(tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"hello")
    assert hash_file(str(f)) == hash_bytes(b"hello") == hashlib.sha256(b"hello").hexdigest()[:32]


def test_cached_digest_is_reused_while_the_stat_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"one")
    cache = HashCache()
    first = cache.get_sync(str(f), os.stat(f))
    calls: list[str] = []
    monkeypatch.setattr(_hashing, "hash_file", lambda p: calls.append(p) or "x")
    assert cache.get_sync(str(f), os.stat(f)) == first
    assert calls == []


def test_edited_file_gets_a_new_digest(tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"one")
    cache = HashCache()
    first = cache.get_sync(str(f), os.stat(f))
    f.write_bytes(b"two!")
    os.utime(f, ns=(1, 1))
    assert cache.get_sync(str(f), os.stat(f)) == hash_bytes(b"two!") != first


def test_disabled_cache_hashes_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"one")
    cache = HashCache(enabled=False)
    calls: list[str] = []
    monkeypatch.setattr(_hashing, "hash_file", lambda p: calls.append(p) or "x")
    cache.get_sync(str(f), os.stat(f))
    cache.get_sync(str(f), os.stat(f))
    assert len(calls) == 2
    assert cache.lookup(str(f), os.stat(f)) is None


def test_large_file_is_hashed_in_the_executor(tmp_path: Path) -> None:
    f = tmp_path / "big"
    data = os.urandom(SYNC_HASH_LIMIT + 1)
    f.write_bytes(data)
    cache = HashCache()
    st = os.stat(f)

    async def main() -> tuple[str | None, str, str | None, str | None]:
        first = cache.get_nowait(str(f), st)  # not cached yet: starts the job, no blocking
        awaited = await asyncio.gather(cache.get(str(f), st), cache.get(str(f), st))
        assert awaited[0] == awaited[1]
        return first, awaited[0], cache.get_nowait(str(f), st), cache.lookup(str(f), st)

    first, digest, later, cached = asyncio.run(main())
    assert first is None
    assert digest == later == cached == hash_bytes(data)


def test_small_file_is_hashed_at_once_even_without_a_cache_hit(tmp_path: Path) -> None:
    f = tmp_path / "small"
    f.write_bytes(b"x" * 100)

    async def main() -> str | None:
        return HashCache().get_nowait(str(f), os.stat(f))

    assert asyncio.run(main()) == hash_bytes(b"x" * 100)


def test_large_file_without_a_loop_is_hashed_synchronously(tmp_path: Path) -> None:
    f = tmp_path / "big"
    f.write_bytes(b"y" * (SYNC_HASH_LIMIT + 10))
    assert HashCache().get_nowait(str(f), os.stat(f)) == hash_file(str(f))


def test_failed_background_hash_is_retried(tmp_path: Path) -> None:
    f = tmp_path / "big"
    f.write_bytes(b"z" * (SYNC_HASH_LIMIT + 10))
    st = os.stat(f)
    cache = HashCache()

    async def main() -> None:
        f.unlink()
        assert cache.get_nowait(str(f), st) is None
        with pytest.raises(FileNotFoundError):
            await cache.get(str(f), st)
        assert cache.lookup(str(f), st) is None

    asyncio.run(main())
