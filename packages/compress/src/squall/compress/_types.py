"""Which responses are worth compressing: by media type.

Tornado's rule, extended: every ``text/*`` type, Tornado's list of other textual types, every
structured-syntax ``+json`` / ``+xml`` type (RFC 6839), and a few more textual or
uncompressed formats (``application/wasm``, ``font/ttf``...). Images, audio, video, archives
and WOFF fonts are already compressed: encoding them again costs CPU for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

COMPRESSIBLE_TYPES: frozenset[str] = frozenset(
    {
        # Tornado's list (besides text/*)
        "application/javascript",
        "application/x-javascript",
        "application/xml",
        "application/atom+xml",
        "application/json",
        "application/xhtml+xml",
        "image/svg+xml",
        # squall's additions
        "application/ecmascript",
        "application/geo+json",
        "application/graphql-response+json",
        "application/ld+json",
        "application/manifest+json",
        "application/problem+json",
        "application/rss+xml",
        "application/wasm",
        "application/x-ndjson",
        "application/x-www-form-urlencoded",
        "application/yaml",
        "application/vnd.api+json",
        "application/vnd.ms-fontobject",
        "font/otf",
        "font/ttf",
        "image/bmp",
        "image/x-icon",
        "image/vnd.microsoft.icon",
    }
)
"""Media types (besides ``text/*`` and ``*+json`` / ``*+xml``) compressed by default."""


def media_type(content_type: str) -> str:
    """``text/html`` of ``Text/HTML; charset=UTF-8``."""
    return content_type.partition(";")[0].strip().lower()


def make_predicate(extra: Iterable[str] = ()) -> frozenset[str]:
    """The set of exact media types to compress: the defaults plus ``extra`` (lower-cased)."""
    return COMPRESSIBLE_TYPES | {media_type(t) for t in extra}


def is_compressible(media: str, types: frozenset[str]) -> bool:
    """Whether a body of media type ``media`` (lower case, no parameters) is compressed."""
    return (
        media.startswith("text/")
        or media in types
        or media.endswith("+json")
        or media.endswith("+xml")
    )
