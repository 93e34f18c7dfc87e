"""The per-path entry cache (squall.static._cache): TTL, revalidation, bounds."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from squall.static import _cache
from squall.static._cache import FileStore, http_date
from squall.static._hashing import HashCache, hash_bytes
from squall.static._paths import resolve


def age(path: Path, seconds: float = 60.0) -> None:
    """Move ``path``'s mtime into the past, out of the racy window."""
    past = os.stat(path).st_mtime - seconds
    os.utime(path, (past, past))


def test_http_date_is_an_imf_fixdate() -> None:
    assert http_date(1_700_000_000) == "Tue, 14 Nov 2023 22:13:20 GMT"


def test_small_file_entry_holds_its_bytes_and_matching_hash(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_bytes(b"body{}")
    age(tmp_path / "a.css")
    store = FileStore(HashCache())
    entry = store.build_small("a.css", resolve(str(tmp_path), "a.css"))
    assert entry.body == b"body{}"
    assert entry.digest == hash_bytes(b"body{}") and entry.etag == f'"{entry.digest}"'
    assert entry.content_type == "text/css; charset=utf-8"
    assert entry.last_modified == http_date(int(os.stat(tmp_path / "a.css").st_mtime))
    assert store.fresh("a.css") is entry


def test_large_file_entry_stays_on_disk(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * (FileStore.small_limit + 1))
    store = FileStore(HashCache())
    resolved = resolve(str(tmp_path), "big.bin")
    assert not store.wants_in_memory(resolved)
    entry = asyncio.run(store.build_large("big.bin", resolved))
    assert entry.body is None and entry.size == FileStore.small_limit + 1


def test_entry_expires_after_the_ttl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").write_bytes(b"1")
    age(tmp_path / "a")
    now = [1000.0]
    monkeypatch.setattr(_cache.time, "monotonic", lambda: now[0])
    store = FileStore(HashCache(), ttl=1.0)
    store.build_small("a", resolve(str(tmp_path), "a"))
    now[0] += 0.5
    assert store.fresh("a") is not None
    now[0] += 0.6
    assert store.fresh("a") is None


def test_revalidation_keeps_an_unchanged_entry_and_drops_an_edited_one(tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"1")
    age(f)
    store = FileStore(HashCache())
    entry = store.build_small("a", resolve(str(tmp_path), "a"))
    assert store.revalidate("a", resolve(str(tmp_path), "a")) is entry
    f.write_bytes(b"22")
    assert store.revalidate("a", resolve(str(tmp_path), "a")) is None


def test_a_hit_notices_an_edited_or_deleted_file_at_once(tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"1")
    age(f)
    store = FileStore(HashCache())
    entry = store.build_small("a", resolve(str(tmp_path), "a"))
    assert store.fresh("a") is entry
    f.write_bytes(b"22")
    assert store.fresh("a") is None  # within the TTL, yet the stat differs
    f.unlink()
    assert store.fresh("a") is None


def test_an_entry_of_a_just_modified_file_is_racy_and_not_reused(tmp_path: Path) -> None:
    # An edit that keeps the size within one clock tick leaves the stat as it was: an entry
    # built so soon after a modification must not be trusted.
    f = tmp_path / "a"
    f.write_bytes(b"1")
    store = FileStore(HashCache())
    entry = store.build_small("a", resolve(str(tmp_path), "a"))
    assert entry.racy
    assert store.fresh("a") is None
    assert store.revalidate("a", resolve(str(tmp_path), "a")) is None
    age(f)
    rebuilt = store.build_small("a", resolve(str(tmp_path), "a"))
    assert not rebuilt.racy and store.fresh("a") is rebuilt


def test_disabled_store_keeps_nothing(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"1")
    store = FileStore(HashCache(enabled=False), enabled=False)
    store.build_small("a", resolve(str(tmp_path), "a"))
    assert store.fresh("a") is None and store.entries == {}


def test_entry_count_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"1")
    store = FileStore(HashCache())
    store.max_entries = 3
    resolved = resolve(str(tmp_path), "a")
    for alias in ("a", "./a", ".//a", "././a", "a/"):
        store.build_small(alias, resolved)
    assert len(store.entries) <= 3


def test_cached_bytes_are_bounded(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 100)
    store = FileStore(HashCache())
    store.max_bytes = 250
    resolved = resolve(str(tmp_path), "a")
    store.build_small("k1", resolved)
    store.build_small("k2", resolved)
    assert not store.wants_in_memory(resolved)  # a third copy would pass the budget
    store.forget("k1")
    assert store.wants_in_memory(resolved)


def test_file_vanishing_before_the_read_raises_oserror(tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"1")
    resolved = resolve(str(tmp_path), "a")
    f.unlink()
    with pytest.raises(FileNotFoundError):
        FileStore(HashCache()).build_small("a", resolved)


def test_a_hit_notices_a_permission_change_at_once(tmp_path: Path) -> None:
    # chmod leaves mtime, size and inode alone; only the ctime says the file changed.
    f = tmp_path / "a"
    f.write_bytes(b"1")
    age(f)
    store = FileStore(HashCache())
    entry = store.build_small("a", resolve(str(tmp_path), "a"))
    assert store.fresh("a") is entry
    f.chmod(0o600)
    assert store.fresh("a") is None
    assert store.revalidate("a", resolve(str(tmp_path), "a")) is None  # built again: re-read


def test_a_hit_notices_a_same_size_same_mtime_replacement(tmp_path: Path) -> None:
    # An atomic deploy (write aside, rename over) keeping size and mtime: a new inode.
    f = tmp_path / "a"
    f.write_bytes(b"1")
    age(f)
    store = FileStore(HashCache())
    entry = store.build_small("a", resolve(str(tmp_path), "a"))
    new = tmp_path / "a.new"
    new.write_bytes(b"2")
    st = os.stat(f)
    os.utime(new, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(new, f)
    assert store.fresh("a") is None
    assert store.fresh("a") is not entry


def test_fresh_key_covers_inode_device_size_mtime_and_ctime(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"12")
    st = os.stat(tmp_path / "a")
    assert _cache.fresh_key(st) == (
        st.st_ino,
        st.st_dev,
        2,
        st.st_mtime_ns,
        st.st_ctime_ns,
    )
