"""``Content-Type`` from a file name: stdlib :mod:`mimetypes`, plus ``charset=utf-8`` for text.

Why a few overrides: :mod:`mimetypes` reads the system's ``/etc/mime.types`` and its built-in
table changed between Python 3.11 and 3.13 (``.js``, ``.wasm``, ``.woff2``...). Pinning the
handful of types browsers are strict about keeps a site's headers identical on every
platform and Python. Anything else comes from :mod:`mimetypes` (so ``mimetypes.add_type``
keeps working), and unknown names are ``application/octet-stream``.

A compressed file (``x.tar.gz``, ``x.svgz``) is served as what it is on disk, an archive:
sending ``Content-Encoding: gzip`` would make clients unpack it silently, which is not what
someone downloading ``x.tar.gz`` wants.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Final

__all__ = ["content_type_for"]

_OVERRIDES: Final[dict[str, str]] = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ico": "image/x-icon",
    ".txt": "text/plain",
}

_ENCODED: Final[dict[str, str]] = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}

# Textual types that are not text/*: they get a charset too.
_TEXTUAL: Final = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/xml",
        "application/xhtml+xml",
        "application/manifest+json",
        "application/ld+json",
        "image/svg+xml",
    }
)


def content_type_for(path: str) -> str:
    """The ``Content-Type`` to send for the file named ``path``.

    Text types (``text/*`` and the textual ``application/*`` ones, SVG) carry
    ``; charset=utf-8``: a static site is expected to be UTF-8, and without a charset
    browsers guess.
    """
    ext = os.path.splitext(path)[1].lower()
    mime: str | None = _OVERRIDES.get(ext)
    if mime is None:
        mime, encoding = mimetypes.guess_type(path, strict=False)
        if encoding is not None:
            return _ENCODED.get(encoding, "application/octet-stream")
        if mime is None:
            return "application/octet-stream"
    if mime.startswith("text/") or mime in _TEXTUAL:
        return mime + "; charset=utf-8"
    return mime
