"""``StaticFileHandler``: files from a folder, correct (ETag, Range, 304, HEAD) and fast.

Theory of operation
-------------------
A request goes one of two ways:

- **Hit** (the common case): the :class:`~squall.static._cache.FileStore` of this
  application and root has a fresh entry for the URL path (one ``stat`` says the file is
  unchanged). The conditional headers are compared with the entry's prepared ETag /
  Last-Modified, and the answer (prepared header list, cached bytes for a small file) goes
  out through one ``finish``. No ``open``, no hash, no path resolution.
- **Miss** (first request, file changed or deleted, entry older than the store's TTL,
  caching off): the URL path is
  resolved safely (:mod:`squall.static._paths`), a directory is mapped to its
  ``default_filename`` or redirected to its trailing-slash form, the file is read (small)
  or hashed (large, in an executor past a size) and an entry is stored; then as a hit.

Large files are opened *before* any header is sent (so a file that vanished is a clean
404), then streamed with ``request.connection.sendfile`` (``loop.sendfile`` / ``os.sendfile``
where the transport allows, chunked writes otherwise, always awaiting flow control) or, when
the connection has no ``sendfile``, in chunks with ``await self.flush()`` between them.

Precompressed siblings: ``app.js.br``, ``app.js.zst``, ``app.js.gz`` next to ``app.js``
are found on misses (with the file's own freshness: a regular file, not a symlink, not
older than the file) and kept in its entry; a hit on a file with siblings negotiates
``Accept-Encoding`` (``squall.web.negotiate_encoding``, as squall-compress does) and answers
with the chosen sibling's own cache entry: its bytes, its ETag, its length and ranges, the
file's Content-Type, ``Content-Encoding``. Every representation of such a file carries
``Vary: Accept-Encoding``. A file without siblings (and a request to it, whatever its
``Accept-Encoding``) costs nothing more. ``PRECOMPRESSED`` sets the codings and their order.

Overriding: ``get_cache_time``, ``get_content_type``, ``set_extra_headers`` (whose headers win
over the handler's own, as in Tornado), ``compute_etag`` (None: no ETag) and
``should_return_304`` (per request),
``get_absolute_path`` and ``validate_absolute_path`` (on misses), and the classmethods
``make_static_url`` / ``get_version`` (URL building) keep Tornado's names and meanings. When a
subclass overrides one of the per-request methods, header lists are built per request
instead of reused from the cache, so the override always sees every request.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Final

from squall.http import StreamClosedError
from squall.static._cache import FileEntry, FileStore
from squall.static._paths import (
    PathRefused,
    ResolvedPath,
    join_under,
    open_regular,
    resolve_absolute,
)
from squall.static._ranges import UNSATISFIABLE, ByteRange, if_range_allows, parse_range
from squall.static._urls import (
    HASHES,
    NO_HASHES,
    forget_versions,
    static_version,
    unversioned_url,
)
from squall.web import HTTPError, RequestHandler, StashKey, negotiate_encoding

__all__ = ["StaticFileHandler"]

gen_log = logging.getLogger("squall.general")

CHUNK_SIZE: Final = 256 * 1024
"""Bytes per write when a file is streamed without ``sendfile``."""

_StoreKey = tuple[Any, str | None, bool | None, bool, bool, float, tuple[str, ...]]
_STORES: StashKey[dict[_StoreKey, tuple[Any, bool, FileStore]]] = StashKey()
"""Per application: (root, default_filename, follow_symlinks argument, the two settings,
CACHE_TTL, PRECOMPRESSED) → (root, follow_symlinks in effect, store)."""

SIBLING_SUFFIXES: Final = {"br": ".br", "zstd": ".zst", "gzip": ".gz"}
"""The file name suffix of each precompressed sibling (``app.js.br``, ``.zst``, ``.gz``)."""

_PER_REQUEST_METHODS: Final = (
    "get_cache_time",
    "get_content_type",
    "set_extra_headers",
    "compute_etag",
    "should_return_304",
)


_UNCALLED_HOOKS: Final = {
    "get_content": "serve such content from a RequestHandler of your own",
    "get_content_size": "serve such content from a RequestHandler of your own",
    "get_content_version": "override get_version (static_url) or compute_etag (the ETag)",
    "get_modified_time": "the file's own modification time is used",
    "set_headers": "override set_extra_headers, get_cache_time or get_content_type",
}
"""Tornado StaticFileHandler hooks a subclass may not override here, and what to do instead."""


class StaticRootMissingError(TypeError):
    """A subclass's ``initialize`` neither called ``super().initialize(path)`` nor set root."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name}.initialize() must call super().initialize(path) or set self.root")


def _sibling_key(path: str, coding: str) -> str:
    """The store key of ``path``'s sibling in ``coding`` (a NUL cannot be in a URL path)."""
    return f"{path}\x00{coding}"


class StaticFileHandler(RequestHandler):
    """Serve the files under ``path``; see the module docstring for the behaviour.

    Use it in any rule whose pattern has one group, the path under ``path``::

        (r"/(.*)", StaticFileHandler, {"path": "/srv/site", "default_filename": "index.html"})

    Args (to ``initialize``, i.e. the rule's kwargs):
        path: the root folder.
        default_filename: the file served for a directory URL (``/`` or ``/docs/``); None
            makes directory URLs a 403. Directory listings are never produced.
        follow_symlinks: serve symlinks that lead out of ``path``; None takes the
            ``static_follow_symlinks`` setting (False by default).

    .. versionadded:: 0.1.0
    """

    CACHE_MAX_AGE: ClassVar[int] = 86400 * 365
    """``max-age`` for versioned URLs (``?v=``): a year, with ``immutable``."""

    CACHE_TTL: ClassVar[float] = 1.0
    """Seconds a cached file entry is trusted before the disk is looked at again."""

    PRECOMPRESSED: ClassVar[tuple[str, ...]] = ("br", "zstd", "gzip")
    """Codings of precompressed siblings served (``app.js.br``, ``.zst``, ``.gz``), most
    preferred first when the client accepts several equally; ``()`` turns them off."""

    root: str
    path: str
    absolute_path: str
    modified: datetime
    default_filename: str | None
    follow_symlinks: bool
    _store: FileStore
    _entry: FileEntry
    _etag: str | None

    _fast_classes: ClassVar[dict[type, bool]] = {}
    _parses_url_path: ClassVar[bool] = False
    _maps_absolute_path: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Tornado hooks this handler never calls (it answers from its own file cache): an
        # override would be silently ignored, so it is refused where it is written.
        for name, instead in _UNCALLED_HOOKS.items():
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__qualname__}.{name}: squall.static.StaticFileHandler does not "
                    f"call Tornado's {name}() (it serves files from its own cache); {instead}"
                )
        cls._parses_url_path = cls.parse_url_path is not StaticFileHandler.parse_url_path
        cls._maps_absolute_path = (
            cls.get_absolute_path.__func__  # type: ignore[attr-defined]
            is not StaticFileHandler.get_absolute_path.__func__  # type: ignore[attr-defined]
        )

    def initialize(
        self,
        path: str | os.PathLike[str],
        default_filename: str | None = None,
        follow_symlinks: bool | None = None,
    ) -> None:
        """Take the rule's kwargs (see the class docstring)."""
        # Runs on every request: one key, one dict lookup; everything derived from the
        # kwargs and the two settings (read each time, so a changed setting applies) is
        # made once and kept with the store.
        root = path if type(path) is str else os.fspath(path)
        self.root, self.follow_symlinks, self._store = self._find_store(
            root, default_filename, follow_symlinks
        )
        self.default_filename = default_filename

    def _find_store(
        self, root: Any, default_filename: str | None, follow_symlinks: bool | None
    ) -> tuple[Any, bool, FileStore]:
        """This application's (root, follow_symlinks in effect, store) for these kwargs."""
        settings = self.application.settings
        key = (
            root,
            default_filename,
            follow_symlinks,
            bool(settings.get("static_follow_symlinks", False)),
            bool(settings.get("static_hash_cache", True)),
            self.CACHE_TTL,
            self.PRECOMPRESSED,
        )
        try:
            stores = self.application.stash[_STORES]
        except KeyError:
            stores = self.application.stash.setdefault(_STORES, {})
        found = stores.get(key)
        if found is None:
            follow = key[3] if follow_symlinks is None else follow_symlinks
            enabled = key[4]
            store = FileStore(HASHES if enabled else NO_HASHES, enabled=enabled, ttl=key[5])
            found = stores[key] = (root, follow, store)
        return found

    def _own_initialize_skipped(self) -> FileStore:
        """The store of a subclass whose ``initialize`` does not call this class's.

        Tornado allows it: such a subclass sets ``self.root`` itself (Jupyter's
        ``FileFindHandler`` sets a tuple of folders, which its own ``get_absolute_path`` and
        ``validate_absolute_path`` search), and the other attributes keep their defaults.
        """
        if not hasattr(self, "root"):
            raise StaticRootMissingError(type(self).__qualname__)
        if not hasattr(self, "default_filename"):
            self.default_filename = None
        root = self.root
        # The key must be hashable: a list of folders is keyed as the tuple it holds.
        key_root = tuple(root) if isinstance(root, list) else root
        _, follow, store = self._find_store(
            key_root, self.default_filename, getattr(self, "follow_symlinks", None)
        )
        self.follow_symlinks = follow
        self._store = store
        return store

    # ---------------------------------------------------------------- request entry points

    def head(self, path: str) -> Awaitable[None]:  # type: ignore[override]
        """Same headers as ``get``, no body."""
        return self.get(path, include_body=False)

    def get(  # type: ignore[override]
        self, path: str, include_body: bool = True
    ) -> Awaitable[None]:
        """Answer with the file at ``path`` (relative to the root): 200, 206, 304, 416...

        Always returns an awaitable, as Tornado's coroutine does, so a subclass may write
        ``async def get(self, path, include_body=True): ... await super().get(...)`` (a
        single-page app falling back to ``index.html``).
        """
        if self._parses_url_path and path is not None:
            path = self.parse_url_path(path)
        try:
            store = self._store
        except AttributeError:
            store = self._own_initialize_skipped()
        entry = store.fresh(path)
        if entry is None or entry.body is None:
            return self._get_slow(path, include_body)
        if entry.siblings:  # precompressed siblings: only these files negotiate
            coding = negotiate_encoding(self.request.headers.get("Accept-Encoding"), entry.siblings)
            if coding is not None:
                encoded = self._store.fresh(_sibling_key(path, coding))
                if encoded is None or encoded.body is None:
                    return self._get_slow(path, include_body)
                entry = encoded
        return self._answer(path, entry, include_body)

    async def _get_slow(self, path: str | None, include_body: bool) -> None:
        if path is None:  # an optional group that matched nothing: the root
            path = ""
        for attempt in range(2):
            # A fresh entry of a large file is trusted for its path; the open descriptor's
            # stat is compared with it below, so a replaced file is still noticed.
            entry = self._store.fresh(path) if attempt == 0 else None
            if entry is None:
                entry = await self._lookup(path)
            if entry is None:
                return  # redirected
            key = path
            if entry.siblings:
                encoded = await self._encoded(path, entry)
                if encoded is not None:
                    key, entry = encoded
            if entry.body is not None:
                self._answer(path, entry, include_body)
                return
            try:
                f = open_regular(entry.path)
            except FileNotFoundError as exc:
                self._store.forget(key)
                if key != path:
                    continue  # a sibling vanished: answer with the file itself
                raise HTTPError(404) from exc
            except PermissionError as exc:
                self._store.forget(key)
                raise HTTPError(403) from exc
            except OSError as exc:
                self._store.forget(key)
                raise HTTPError(404) from exc
            try:
                st = os.fstat(f.fileno())
                if (st.st_mtime_ns, st.st_size, st.st_ino) != (
                    entry.stat.st_mtime_ns,
                    entry.stat.st_size,
                    entry.stat.st_ino,
                ):
                    # Replaced or edited since the entry was made: describe the new file.
                    self._store.forget(key)
                    continue
                await self._answer_from_file(path, entry, f, include_body)
            finally:
                f.close()
            return
        raise HTTPError(503, "file %s keeps changing", path)

    # ---------------------------------------------------------------- lookup (misses)

    async def _lookup(self, path: str) -> FileEntry | None:
        store = self._store
        try:
            absolute = self.get_absolute_path(self.root, path)
            resolved = self._validated(absolute)
            lexical = absolute
        except PathRefused as exc:
            gen_log.debug("static: refused %r: %s", path, exc)
            raise HTTPError(exc.status) from None
        if resolved is None:
            return None
        if resolved.is_dir:
            if not self.default_filename:
                raise HTTPError(403, "%s is a directory", path)
            if path and not path.endswith("/"):
                self._redirect_to_directory()
                return None
            try:
                lexical = os.path.join(absolute, self.default_filename)
                resolved = self._validated(lexical)
            except PathRefused as exc:
                raise HTTPError(exc.status) from None
            if resolved is None or resolved.is_dir:
                raise HTTPError(403, "%s has no default file", path)
        elif path.endswith("/"):
            # "page.html/" names a directory that does not exist (as the OS would say).
            raise HTTPError(404)
        stat_path = self._stat_path(lexical, resolved)
        entry = store.revalidate(path, resolved, stat_path)
        if entry is not None:
            self._scan_siblings(entry)
            return entry
        try:
            if store.wants_in_memory(resolved):
                entry = store.build_small(path, resolved, stat_path)
            else:
                entry = await store.build_large(path, resolved, stat_path)
            self._scan_siblings(entry)
            return entry
        except FileNotFoundError as exc:
            raise HTTPError(404) from exc
        except PermissionError as exc:
            raise HTTPError(403) from exc
        except OSError as exc:  # vanished, replaced by a directory, I/O error...
            raise HTTPError(404) from exc

    # ---------------------------------------------------------------- precompressed siblings

    def _scan_siblings(self, entry: FileEntry) -> None:
        """Note which precompressed siblings of ``entry``'s file exist (on misses only).

        A sibling counts when it is a regular file (not a symlink: it is not resolved like
        the URL's path was) and not older than the file, so a stale ``.br`` left behind by
        an edit of ``app.js`` is never served. Requests then negotiate only for files that
        have siblings; the others cost nothing more.
        """
        found: list[str] = []
        mtime = entry.stat.st_mtime_ns
        for coding in self.PRECOMPRESSED:
            suffix = SIBLING_SUFFIXES.get(coding)
            if suffix is None:
                continue
            try:
                st = os.lstat(entry.path + suffix)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_mtime_ns >= mtime:
                found.append(coding)
        siblings = tuple(found)
        if siblings != entry.siblings:
            entry.siblings = siblings
            entry.responses.clear()  # the header lists gain or lose Vary

    async def _encoded(self, path: str, entry: FileEntry) -> tuple[str, FileEntry] | None:
        """The store key and entry of the sibling this request accepts, or None (identity)."""
        coding = negotiate_encoding(self.request.headers.get("Accept-Encoding"), entry.siblings)
        if coding is None:
            return None
        key = _sibling_key(path, coding)
        store = self._store
        encoded = store.fresh(key)
        if encoded is not None:
            return key, encoded
        sibling = entry.path + SIBLING_SUFFIXES[coding]
        try:
            st = os.lstat(sibling)
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode) or st.st_mtime_ns < entry.stat.st_mtime_ns:
            store.forget(key)
            return None  # gone or stale since the scan: the file itself answers
        resolved = ResolvedPath(sibling, st, False)
        try:
            if store.wants_in_memory(resolved):
                encoded = store.build_small(key, resolved)
            else:
                encoded = await store.build_large(key, resolved)
        except OSError:
            return None
        # The representation of the file, encoded: the file's type, its own ETag and length.
        encoded.content_type = entry.content_type
        encoded.encoding = coding
        return key, encoded

    @staticmethod
    def _stat_path(lexical: str, resolved: ResolvedPath) -> str:
        """The path a hit stats: ``lexical`` when it leads to the resolved file, else its path.

        Stat-ing the path as the URL names it (symlinks unresolved) makes a symlink pointed
        elsewhere a miss at once, like an edit. An override of ``get_absolute_path`` /
        ``validate_absolute_path`` may serve another file than the lexical path names (a
        ``.gz`` next to it...): then the resolved file is stat-ed. One ``stat``, on misses only.
        """
        lexical = os.path.abspath(lexical)  # a later chdir must not move it
        try:
            st = os.stat(lexical)
        except OSError:
            return resolved.path
        if (st.st_ino, st.st_dev) != (resolved.stat.st_ino, resolved.stat.st_dev):
            return resolved.path
        return lexical

    def _validated(self, absolute: str) -> ResolvedPath | None:
        result: ResolvedPath | str | None = self.validate_absolute_path(self.root, absolute)
        if isinstance(result, str):
            # A Tornado-style override returned a plain path: it vouches for containment,
            # we still refuse what is not a regular file or directory.
            try:
                st = os.stat(result)
            except OSError as exc:
                raise PathRefused(404, f"{result!r}: {exc}") from exc
            if stat.S_ISDIR(st.st_mode):
                return ResolvedPath(result, st, True)
            if not stat.S_ISREG(st.st_mode):
                raise PathRefused(403, f"{result!r} is not a regular file")
            return ResolvedPath(result, st, False)
        return result

    def _redirect_to_directory(self) -> None:
        # request.path is what the client sent: appending "/" keeps it on this site unless
        # it starts with "//" or "/\", which browsers read as another host. The route's
        # group already refused ".." and absolute paths; refuse these shapes too.
        location = self.request.path + "/"
        if not location.startswith("/") or location[1:2] in ("/", "\\"):
            raise HTTPError(404)
        self.redirect(location, permanent=True)

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        """The lexical absolute path of the URL path ``path`` under ``root``.

        Raises:
            PathRefused: the path fails the lexical checks (``..``, NUL, ``C:``, ``CON``...).
        """
        return join_under(root, path)

    def validate_absolute_path(self, root: str, absolute_path: str) -> ResolvedPath | str | None:
        """Check that ``absolute_path`` is a servable file or directory under ``root``.

        Returns:
            The resolved path (an override may return a plain ``str`` path, as in
            Tornado), or None when the response was already produced (an override may
            redirect, for example).

        Raises:
            PathRefused: symlink out of the root, missing, not a regular file...
        """
        return resolve_absolute(root, absolute_path, follow_symlinks=self.follow_symlinks)

    # ---------------------------------------------------------------- answering

    def _versioned(self) -> bool:
        # Whether the URL carries a ``v`` argument (``static_url`` adds ``?v=<hash>``). A
        # string test instead of parsing the query: this runs on every hit.
        q = self.request.query
        return bool(q) and (q.startswith("v=") or "&v=" in q)

    def _base_headers(self, path: str, entry: FileEntry) -> list[tuple[str, str]]:
        """Content-Type, ETag, Last-Modified, Accept-Ranges, Cache-Control of ``entry``.

        Never Content-Length (see ``_header_list``): the caller adds it when it sends no
        body from memory.

        Without per-request overrides the list is built once per entry and URL kind
        (versioned or not) and reused; with them, every request builds its own.
        """
        cls = type(self)
        fast = cls._fast_classes.get(cls)
        if fast is None:
            fast = all(
                getattr(cls, m) is getattr(StaticFileHandler, m) for m in _PER_REQUEST_METHODS
            )
            cls._fast_classes[cls] = fast
        versioned = self._versioned()
        if fast:
            # Keyed by class too: two handler classes (another CACHE_MAX_AGE) may share a root.
            key = (cls, versioned)
            headers = entry.responses.get(key)
            if headers is None:
                age = self.CACHE_MAX_AGE if versioned else 0
                headers = self._header_list(entry, entry.content_type, age)
                entry.responses[key] = headers
            return headers
        # Tornado's per-request attributes, for overrides that read them.
        self._entry = entry
        self.path = path
        self.absolute_path = entry.path
        self.modified = datetime.fromtimestamp(entry.mtime, UTC)
        age = self.get_cache_time(path, self.modified, entry.content_type)
        headers = self._header_list(entry, self.get_content_type(), age)
        etag = self.compute_etag()
        self._etag = etag
        if etag != entry.etag:  # index 1: Content-Type stays first (a 304 drops it)
            if etag is None:
                del headers[1]
            else:
                headers[1] = ("ETag", etag)
        before = dict(self._headers)
        self.set_extra_headers(path)
        # What set_extra_headers set wins over the same header of ours, as in Tornado
        # (it runs after the handler's own headers there).
        changed = {
            name.lower(): value
            for name, value in self._headers.items()
            if before.get(name) != value
        }
        if changed:
            headers = [(n, changed.get(n.lower(), v)) for n, v in headers]
        return headers

    @staticmethod
    def _header_list(entry: FileEntry, content_type: str, age: int) -> list[tuple[str, str]]:
        if age >= 86400 * 365:
            cache = f"max-age={age}, immutable"
        else:
            cache = f"max-age={age}" if age > 0 else "no-cache"
        # No Content-Length: an answer with its body in memory leaves it to http, which adds
        # it from the body's length, and a header list without one takes http's memoized
        # fast path (one given would send the head through the general, slower, builder).
        # HEAD and streamed answers append it themselves.
        headers = [
            ("Content-Type", content_type),
            ("ETag", entry.etag),
            ("Last-Modified", entry.last_modified),
            ("Accept-Ranges", "bytes"),
            ("Cache-Control", cache),
        ]
        if entry.encoding is not None:
            headers.append(("Content-Encoding", entry.encoding))
        if entry.encoding is not None or entry.siblings:
            # Every representation of a file with siblings says the answer depends on it.
            headers.append(("Vary", "Accept-Encoding"))
        return headers

    def _not_modified(
        self, entry: FileEntry, inm: str | None, ims: str | None, etag: str | None
    ) -> bool:
        # RFC 9110 §13.2.2: If-None-Match decides alone when present.
        if inm is not None:
            if inm.strip() == "*":
                return True
            if etag is None:
                return False
            for candidate in inm.split(","):
                c = candidate.strip()
                if c.startswith("W/"):
                    c = c[2:]
                if c == etag:
                    return True
            return False
        if ims is not None:
            try:
                when = parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False
            if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are UTC
                when = when.replace(tzinfo=UTC)
            return entry.mtime <= when.timestamp()
        return False

    def _plan(
        self, path: str, entry: FileEntry
    ) -> tuple[int, list[tuple[str, str]], ByteRange | None]:
        """Status, headers and range of the answer; raises nothing.

        A 200 or 206 list has no Content-Length (:meth:`_content_length` gives it).
        """
        base = self._base_headers(path, entry)
        headers = self.request.headers
        inm = headers.get("If-None-Match")
        ims = headers.get("If-Modified-Since") if inm is None else None
        rng = headers.get("Range")
        if inm is None and ims is None and rng is None:
            return 200, base, None  # the common case: three lookups and out
        if inm is not None or ims is not None:
            if type(self)._fast_classes[type(self)]:
                fresh = self._not_modified(entry, inm, ims, entry.etag)
            else:
                fresh = self.should_return_304()
            if fresh:
                return 304, base[1:], None  # no Content-Type: a 304 has no body to describe
        if rng is None or not if_range_allows(headers.get("If-Range"), entry.etag, entry.mtime):
            return 200, base, None
        size = entry.size
        parsed = parse_range(rng, size)
        if parsed is UNSATISFIABLE:
            # The file's validators and caching headers too (as Tornado sends them): a
            # client may re-validate its copy or learn the size from this answer.
            return (
                416,
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    *base[1:],
                    ("Content-Range", f"bytes */{size}"),
                ],
                None,
            )
        if not isinstance(parsed, ByteRange):
            return 200, base, None
        # A range covering the whole file (`bytes=0-`, as media players send) still gets a
        # 206, as nginx, aiohttp and Starlette answer: the client asked for a range.
        out = base.copy()
        out.append(("Content-Range", parsed.content_range(size)))
        return 206, out, parsed

    @staticmethod
    def _content_length(
        entry: FileEntry, headers: list[tuple[str, str]], byte_range: ByteRange | None
    ) -> list[tuple[str, str]]:
        """``headers`` of a 200/206 plus the Content-Length of what it announces."""
        length = entry.size if byte_range is None else byte_range.stop - byte_range.start
        return [*headers, ("Content-Length", str(length))]

    def _send(
        self, status: int, headers: list[tuple[str, str]], body: bytes = b""
    ) -> Awaitable[None]:
        if status != 200:
            self.set_status(status)
        set_header = self.set_header
        for name, value in headers:
            set_header(name, value)
        if status == 416:
            self.clear_header("Content-Length")  # web counts the (empty) body itself
        # finish() returns web's already-complete awaitable: handed back by get(), it
        # keeps this request on web's synchronous path (no Task).
        return self.finish(body) if body else self.finish()

    def _answer(self, path: str, entry: FileEntry, include_body: bool) -> Awaitable[None]:
        assert entry.body is not None
        status, headers, byte_range = self._plan(path, entry)
        if status != 200 and status != 206:
            return self._send(status, headers)
        if not include_body:  # HEAD: no body, so announce its length ourselves
            return self._send(status, self._content_length(entry, headers, byte_range))
        if byte_range is not None:
            return self._send(status, headers, entry.body[byte_range.start : byte_range.stop])
        return self._send(status, headers, entry.body)

    async def _answer_from_file(
        self, path: str, entry: FileEntry, f: Any, include_body: bool
    ) -> None:
        status, headers, byte_range = self._plan(path, entry)
        if status != 200 and status != 206:
            self._send(status, headers)
            return
        headers = self._content_length(entry, headers, byte_range)
        if not include_body:
            self._send(status, headers)
            return
        offset, stop = (byte_range.start, byte_range.stop) if byte_range else (0, entry.size)
        count = stop - offset
        self.set_status(status)
        for name, value in headers:
            self.set_header(name, value)
        sendfile = self._connection_sendfile()
        try:
            await self.flush()
            if sendfile is not None:
                await sendfile(f, offset, count)
                if os.fstat(f.fileno()).st_size < stop:
                    # Truncated while being sent: fewer bytes went out than announced.
                    raise OSError(f"{entry.path} shrank while being sent")
            else:
                f.seek(offset)
                remaining = count
                while remaining > 0:
                    chunk = f.read(min(CHUNK_SIZE, remaining))
                    if not chunk:
                        raise OSError(f"{entry.path} shrank while being sent")
                    remaining -= len(chunk)
                    self.write(chunk)
                    await self.flush()
        except (OSError, StreamClosedError) as exc:
            # Headers are out, so no error page is possible: the client went away (broken
            # pipe, reset) or the file failed mid-read. Either way the body is short of its
            # Content-Length, so the connection must end here.
            gen_log.debug("static: sending %s stopped: %r", path, exc)
            connection = self.request.connection
            if connection is not None and not connection.closed:
                connection.transport.abort()
            return
        await self.finish()

    def _connection_sendfile(self) -> Callable[[Any, int, int], Awaitable[None]] | None:
        # The http contract's zero-copy path; None (an older or foreign connection object)
        # falls back to chunked writes with flush() between them.
        result: Callable[[Any, int, int], Awaitable[None]] | None = getattr(
            self.request.connection, "sendfile", None
        )
        return result

    # ---------------------------------------------------------------- overridable

    def get_cache_time(self, path: str, modified: datetime | None, mime_type: str) -> int:
        """Seconds clients may cache the answer: a year for ``?v=`` URLs, else 0.

        0 sends ``Cache-Control: no-cache`` (revalidate with the ETag every time).
        """
        return self.CACHE_MAX_AGE if self._versioned() else 0

    def parse_url_path(self, url_path: str) -> str:
        """The path under the root of the file ``url_path`` names (the rule's group).

        Override to map URLs to files (the inverse of ``make_static_url``); the default
        keeps the path as it is.
        """
        return url_path

    def get_content_type(self) -> str:
        """The ``Content-Type`` of the file being served (from its name)."""
        return self._entry.content_type

    def set_extra_headers(self, path: str) -> None:
        """Add headers to every answer for ``path`` (override; default: none).

        A header set here replaces the handler's own of the same name (``Cache-Control``,
        ``Content-Type``...).
        """

    def compute_etag(self) -> str | None:
        """The ETag of the file being served (override; None sends no ETag).

        Default: the file's own (a hash of its content, or of its size and time when
        ``static_hash_cache`` is off).
        """
        return self._entry.etag

    def should_return_304(self) -> bool:
        """Whether to answer 304 to a conditional request (override to change it).

        Default: ``If-None-Match`` matches the ETag sent (alone when present), else
        ``If-Modified-Since`` is at or after the file's modification time. Returning False
        always sends the file.
        """
        headers = self.request.headers
        inm = headers.get("If-None-Match")
        ims = headers.get("If-Modified-Since") if inm is None else None
        return self._not_modified(self._entry, inm, ims, self._etag)

    # ---------------------------------------------------------------- static_url support

    @classmethod
    def make_static_url(
        cls, settings: Mapping[str, Any], path: str, include_version: bool = True
    ) -> str:
        """The URL of ``path`` under ``static_url_prefix``, with ``?v=<hash>`` when known.

        Usable without a handler (templates, scripts): ``settings`` is ``app.settings``.
        A missing file gives the URL without version and a warning on ``squall.general``.
        """
        url = unversioned_url(settings, path)
        if not include_version:
            return url
        version = cls.get_version(settings, path)
        return url if version is None else f"{url}?v={version}"

    @classmethod
    def reset(cls) -> None:
        """Forget the versions ``static_url`` gave (Tornado's name): edited files get new ones.

        With ``static_hash_cache`` on, a file keeps the ``?v=`` of its first ``static_url``
        until a restart; after ``reset()`` the next call versions the file as it is now.
        """
        forget_versions()

    @classmethod
    def get_version(cls, settings: Mapping[str, Any], path: str) -> str | None:
        """The content hash of ``static_path``/``path``, or None (logged) when unavailable.

        A subclass overriding ``get_absolute_path`` gets the version of the file that
        method names (``app.js`` served from ``app.min.js``), as in Tornado.
        """
        return static_version(
            settings, path, cls.get_absolute_path if cls._maps_absolute_path else None
        )
