"""URLs of static files: the ``static_url_prefix`` path and the ``?v=`` content version.

Two caches serve two different promises (see the README):

- :data:`HASHES` keeps digests per resolved path *and stat*, so it can never hand out the
  hash of an older version of a file; file entries and ETags use it, as does
  ``static_url`` the first time it sees a path.
- ``_URL_VERSIONS`` keeps the version ``static_url`` gave for a path for the life of the
  process while ``static_hash_cache`` is on, as the notes describe (an edited file keeps its
  URL until a restart; ``static_hash_cache=False``, implied by ``debug=True``, recomputes on
  every call so an edited file gets a new URL at once). It is shared by every application of
  the process, like Tornado's class-level cache, because ``make_static_url(settings, path)``
  has no application at hand.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

from squall.static._hashing import HashCache
from squall.static._paths import PathRefused, resolve, resolve_absolute
from squall.web import HTTPError

__all__ = ["HASHES", "NO_HASHES", "forget_versions", "static_version", "unversioned_url"]

gen_log = logging.getLogger("squall.general")

HASHES: Final = HashCache()
"""Digests shared by every application of the process: keyed by resolved path and stat, so
sharing is safe, and ``make_static_url(settings, path)`` (no application at hand) can use it."""

NO_HASHES: Final = HashCache(enabled=False)
"""The digest "cache" of ``static_hash_cache=False``: remembers nothing."""

_URL_VERSIONS: dict[tuple[str, str, bool, Callable[[str, str], str] | None], str] = {}
_URL_VERSIONS_MAX: Final = 10_000

# RFC 3986 sub-delims and ':' '@' stay readable in paths; spaces and '%' get quoted.
_SAFE: Final = "/~!$&'()*+,;=:@"


def forget_versions() -> None:
    """Drop the versions ``static_url`` handed out: the next call hashes the files again."""
    _URL_VERSIONS.clear()


def unversioned_url(settings: Mapping[str, Any], path: str) -> str:
    """``static_url_prefix`` + the quoted ``path`` (a prefix without its final ``/`` gets one)."""
    prefix = settings.get("static_url_prefix") or "/static/"
    if not prefix.endswith("/"):
        prefix += "/"
    return prefix + quote(path.lstrip("/"), safe=_SAFE)


def static_version(
    settings: Mapping[str, Any],
    path: str,
    absolute_path: Callable[[str, str], str] | None = None,
) -> str | None:
    """The content version of ``static_path``/``path``, or None (with a warning) if unknown.

    A large file not hashed yet is hashed in the executor and gives None this time.

    Args:
        settings: the application's settings.
        path: the path ``static_url`` was given.
        absolute_path: a handler class's own ``get_absolute_path(root, path)``, when it
            maps URL paths to other files: the file it names is versioned (still checked to
            be a regular file under the root), as Tornado versions it.
    """
    root = settings.get("static_path")
    if not root:
        gen_log.warning("static_url(%r): no static_path setting", path)
        return None
    root = os.fspath(root)
    path = path.lstrip("/")  # as unversioned_url does: "/css/a.css" means "css/a.css"
    follow = bool(settings.get("static_follow_symlinks", False))
    caching = bool(settings.get("static_hash_cache", True))
    key = (root, path, follow, absolute_path)
    if caching:
        hit = _URL_VERSIONS.get(key)
        if hit is not None:
            return hit
    version = _compute_version(root, path, follow, HASHES if caching else NO_HASHES, absolute_path)
    if caching and version is not None:  # a missing file is looked for again next time
        if len(_URL_VERSIONS) >= _URL_VERSIONS_MAX:
            _URL_VERSIONS.clear()
        _URL_VERSIONS[key] = version
    return version


def _compute_version(
    root: str,
    path: str,
    follow: bool,
    hashes: HashCache,
    absolute_path: Callable[[str, str], str] | None,
) -> str | None:
    try:
        if absolute_path is None:
            resolved = resolve(root, path, follow_symlinks=follow)
        else:
            resolved = resolve_absolute(root, absolute_path(root, path), follow_symlinks=follow)
    except PathRefused as exc:
        gen_log.warning("static_url(%r): could not find the file: %s", path, exc)
        return None
    except HTTPError as exc:  # a Tornado-style override refusing the path
        gen_log.warning("static_url(%r): could not find the file: %s", path, exc)
        return None
    if resolved.is_dir:
        gen_log.warning("static_url(%r): is a directory", path)
        return None
    try:
        return hashes.get_nowait(resolved.path, resolved.stat)
    except OSError as exc:
        gen_log.warning("static_url(%r): could not read the file: %s", path, exc)
        return None
