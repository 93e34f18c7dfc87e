"""Turn an untrusted URL path into a file under a root, or refuse it.

Theory of operation
-------------------
The URL path reaching here is the route's capture group, already percent-decoded once by
squall.web (so ``..%2f`` arrives as ``../`` and ``%2e%2e`` as ``..``). We never decode again:
a second decode would turn ``%252e`` into ``..`` and is the classic double-decoding hole.

The checks run in two stages:

1. **Lexical** (no file system access, so cheap and impossible to race): the path is split on
   ``/`` and every segment is judged on its own. Refused outright, whatever the platform, so
   that a site behaves the same on Linux and Windows:

   - a NUL byte (C APIs would truncate at it), a backslash (a separator on Windows), a
     leading ``/`` (an absolute path: ``os.path.join`` would drop the root);
   - a ``..`` segment (after decoding, so ``..%2f`` and ``%2e%2e`` are caught here);
   - a ``:`` anywhere (``C:`` drive names, NTFS streams ``file::$DATA``);
   - Windows device names (``CON``, ``NUL``, ``COM1``, ``LPT1``... with or without an
     extension, any case) and segments ending in a dot or a space (Windows strips them, so
     ``index.html.`` would alias ``index.html``).

   Empty and ``.`` segments are dropped (``a//b`` and ``a/./b`` mean ``a/b``).

2. **Physical**: the joined path is resolved with ``os.path.realpath`` (every symlink
   followed) and must still lie under the resolved root, compared segment-wise with
   ``os.path.commonpath`` so that ``/srv/static_other`` is *not* under ``/srv/static``
   (a plain ``startswith`` would say it is). A symlink that leads outside the root is
   refused unless the caller passes ``follow_symlinks=True`` (the ``static_follow_symlinks``
   setting), in which case the lexical path (which stage 1 proved to be under the root) is
   what counts. Then the target is ``stat``-ed: missing → 404, a directory is reported as
   such (the handler serves its default file or redirects), anything but a regular file
   (FIFO, socket, device) → 403, since opening a FIFO would block a worker forever.

Every refusal is a :class:`PathRefused` carrying the status to answer with: 403 for "this
exists or is an attack and you may not have it", 404 for "nothing here". The message is for
logs, never sent to the client.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import BinaryIO

__all__ = [
    "PathRefused",
    "ResolvedPath",
    "check_url_path",
    "open_regular",
    "join_under",
    "resolve",
    "resolve_absolute",
]

# Windows reserves these names in every directory, with or without an extension
# (``con.txt`` is the console too). Superscript digits are reserved since Windows 10.
_DEVICE_NAMES = re.compile(
    r"(?i)^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)"
    r"(\..*)?$"
)


class PathRefused(Exception):
    """A URL path that must not be served; ``status`` is 403 or 404.

    Raised by :func:`check_url_path` and :func:`resolve`. The message names the reason for
    the logs; clients only see the status.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ResolvedPath:
    """A path that passed every check.

    Attributes:
        path: the absolute, symlink-free path of the file or directory.
        stat: its ``os.stat`` result at the time of the check.
        is_dir: True when it is a directory (the caller decides what to do with it).
    """

    path: str
    stat: os.stat_result
    is_dir: bool


def check_url_path(url_path: str) -> list[str]:
    """Apply the lexical checks and return the path's meaningful segments.

    Args:
        url_path: the decoded path relative to the root (``""`` means the root itself).

    Returns:
        The segments, without empty and ``.`` ones; ``[]`` for the root.

    Raises:
        PathRefused: with status 403 for traversal and absolute paths, 404 for names that
            cannot exist on a portable site (NUL, backslash, ``:``, device names).
    """
    if "\x00" in url_path:
        raise PathRefused(404, "NUL byte in path")
    if "\\" in url_path:
        raise PathRefused(404, "backslash in path")
    if url_path.startswith("/"):
        raise PathRefused(403, "absolute path")
    segments: list[str] = []
    for seg in url_path.split("/"):
        if seg == "" or seg == ".":
            continue
        if seg == "..":
            raise PathRefused(403, "'..' segment in path")
        if ":" in seg:
            raise PathRefused(404, f"':' in path segment {seg!r}")
        if seg[-1] in ". " or _DEVICE_NAMES.match(seg):
            raise PathRefused(404, f"name {seg!r} is not portable")
        segments.append(seg)
    return segments


def _is_within(root: str, path: str) -> bool:
    # commonpath compares whole segments: /srv/static_other is not within /srv/static.
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:  # different drives on Windows
        return False


def join_under(root: str, url_path: str) -> str:
    """The lexical path of ``url_path`` under the resolved ``root`` (stage 1 only).

    Raises:
        PathRefused: the lexical checks failed.
    """
    return os.path.join(os.path.realpath(root), *check_url_path(url_path))


def resolve_absolute(root: str, lexical: str, *, follow_symlinks: bool = False) -> ResolvedPath:
    """Stage 2: resolve symlinks, check containment in ``root`` and ``stat`` the target.

    Args:
        root: the folder files are served from.
        lexical: a path built by :func:`join_under` (or an equivalent override).
        follow_symlinks: serve symlink targets outside ``root``.

    Raises:
        PathRefused: 403 or 404, see the module docstring.
    """
    real_root = os.path.realpath(root)
    real = os.path.realpath(lexical)
    if not _is_within(real_root, real):
        if not follow_symlinks or not _is_within(real_root, os.path.abspath(lexical)):
            raise PathRefused(403, f"{lexical!r} leads outside the root")
        real = os.path.abspath(lexical)
    try:
        st = os.stat(real)
    except FileNotFoundError as exc:
        raise PathRefused(404, f"{lexical!r} does not exist") from exc
    except NotADirectoryError as exc:  # "file.txt/x"
        raise PathRefused(404, f"{lexical!r} does not exist") from exc
    except PermissionError as exc:
        raise PathRefused(403, f"{lexical!r} is not accessible") from exc
    except (OSError, ValueError) as exc:  # ENAMETOOLONG, ELOOP, ...
        raise PathRefused(404, f"{lexical!r} cannot be resolved: {exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        return ResolvedPath(real, st, True)
    if not stat.S_ISREG(st.st_mode):
        raise PathRefused(403, f"{lexical!r} is not a regular file")
    return ResolvedPath(real, st, False)


def resolve(root: str, url_path: str, *, follow_symlinks: bool = False) -> ResolvedPath:
    """Resolve ``url_path`` under ``root``, or refuse it (both stages).

    Args:
        root: the folder files are served from (need not be absolute or resolved).
        url_path: the decoded, untrusted path relative to ``root``.
        follow_symlinks: serve files reached through symlinks that point outside ``root``.
            Off by default; symlinks that stay inside ``root`` always work.

    Returns:
        The resolved path with its stat result.

    Raises:
        PathRefused: 403 or 404, see the module docstring.
    """
    return resolve_absolute(root, join_under(root, url_path), follow_symlinks=follow_symlinks)


def open_regular(path: str) -> BinaryIO:
    """Open ``path`` for reading, refusing anything but a regular file.

    ``O_NONBLOCK`` makes opening a FIFO (swapped in after the path was checked) return at
    once instead of blocking the event loop until a writer appears; the ``fstat`` of the
    open descriptor then refuses it. The flag has no effect on reads of regular files.

    Raises:
        PermissionError: not a regular file (FIFO, socket, device), or not readable.
        FileNotFoundError, IsADirectoryError, OSError: as ``open``.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PermissionError(f"{path!r} is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
