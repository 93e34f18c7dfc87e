"""Find the ``squall.web`` entry points of installed distributions, cheaply.

Why not ``importlib.metadata.entry_points(group=...)``: importing ``importlib.metadata``
pulls in ``email``, ``zipfile``, ``csv`` and ``pathlib`` — tens of milliseconds at start-up,
more than the whole scan — and start-up time (``python app.py`` → first accepted connection)
is one of squall's targets. What a scan needs is small: every ``*.dist-info`` (and
``*.egg-info``) directory directly in a ``sys.path`` directory, its ``entry_points.txt`` (an
INI file), the ``[squall.web]`` section. That is what this module reads.

Rules (those of ``importlib.metadata``): ``sys.path`` is searched in order and, when two
directories hold the same distribution (normalized name), the first one wins; an entry is
``name = module`` or ``name = module:attr.path``; extras in brackets are ignored. Zipped
eggs (a ``.egg`` file on ``sys.path``) are not searched: nothing installs plugins that way
today.

Each ``entry_points.txt`` is read with ``os.open``/``os.read``, not ``open()``: a virtualenv
holds a hundred distributions or more, most without the file, and ``open()``'s buffered text
file (and its exception) costs about twice as much per distribution (with listdir instead
of scandir, the scan of a 128-distribution virtualenv went from ≈ 2 ms to ≈ 1.2 ms).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import NamedTuple

_NORMALIZE = re.compile(r"[-_.]+")
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


# NamedTuples, not dataclasses, in web's modules: a dataclass costs ≈ 0.5-1 ms to create at
# import (its methods are generated with exec), a NamedTuple ≈ 0.1 ms (start-up time).
class PluginEntryPoint(NamedTuple):
    """One ``name = module[:attr]`` line of an installed distribution's entry points."""

    name: str
    value: str
    dist: str

    def load(self) -> object:
        """Import the module (and follow ``:attr.path``) and return the object."""
        module_name, _, attrs = self.value.partition(":")
        obj: object = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def _dist_name(dirname: str) -> str:
    # "squall_static-0.1.0.dist-info" → "squall-static"
    stem = dirname.rsplit(".", 1)[0]
    return _NORMALIZE.sub("-", stem.split("-", 1)[0]).lower()


def _parse_group(text: str, group: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    in_group = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            in_group = line[1:-1].strip() == group
            continue
        if in_group and "=" in line:
            name, _, value = line.partition("=")
            value = value.split("[", 1)[0].strip()  # drop extras: "mod:obj [extra]"
            entries.append((name.strip(), value))
    return entries


def _read_text(filename: str) -> str | None:
    """The UTF-8 text of ``filename``, or None when it cannot be opened (no such file)."""
    try:
        fd = os.open(filename, os.O_RDONLY)
    except OSError:
        return None
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:  # not a regular file (a directory of that name): as if absent
        return None
    finally:
        os.close(fd)
    # Decoded whole, like open(encoding="utf-8").read(); str.splitlines reads every newline.
    return b"".join(chunks).decode("utf-8")


def scan(group: str, path: list[str] | None = None) -> tuple[PluginEntryPoint, ...]:
    """Every entry point of ``group`` declared by a distribution found on ``path``."""
    seen: set[str] = set()
    found: list[PluginEntryPoint] = []
    for entry in sys.path if path is None else path:
        folder = entry or "."
        try:
            # listdir, not scandir: names are all that is needed, and the standard library's
            # folders on sys.path hold hundreds of them
            names = sorted([n for n in os.listdir(folder) if n.endswith(_METADATA_SUFFIXES)])
        except OSError:
            continue  # not a directory (a zip, a missing path): nothing to read
        prefix = os.path.join(folder, "")
        for name in names:
            dist = _dist_name(name)
            if dist in seen:
                continue
            seen.add(dist)
            text = _read_text(f"{prefix}{name}{os.sep}entry_points.txt")
            if text is None or group not in text:
                continue  # the common case: a distribution that is no squall.web plugin
            for ep_name, value in _parse_group(text, group):
                found.append(PluginEntryPoint(ep_name, value, dist))
    return tuple(found)
