"""Content-coding negotiation: which encoding of a response a request's Accept-Encoding wants.

Shared by squall-compress (compressing responses) and squall-static (precompressed files
next to the originals), so both read ``Accept-Encoding`` the same way (RFC 9110 §12.5.3):

- a coding the header lists with ``q > 0`` is acceptable; ``q=0`` refuses it;
- ``*`` gives its q to every coding the header does not name (``identity`` included);
- ``identity`` (no encoding) is acceptable unless refused (``identity;q=0`` or ``*;q=0``
  without an ``identity`` entry);
- the highest q wins; between equal q the server's order (``available``) decides;
  ``identity`` wins only when the header gives it (by name or through ``*``) a higher q
  than every acceptable coding: ``gzip;q=0.1`` still means gzip (a client listing a coding
  at all can decode it), ``gzip;q=0.5, identity`` means identity;
- no header at all means "no preference": identity (RFC 9110 allows any coding, but old
  clients that cannot decode send none, as do tools like ``curl`` without
  ``--compressed``); ``x-gzip`` is ``gzip``.

Results are cached per (header, available): browsers send a handful of distinct values.
"""

from __future__ import annotations

from collections.abc import Sequence

_CACHE: dict[tuple[str, tuple[str, ...]], str | None] = {}
_CACHE_MAX = 512


def parse_accept_encoding(accept_encoding: str) -> dict[str, float]:
    """``Accept-Encoding`` as ``{coding (lower case): q}``; entries with a bad q are dropped.

    A coding listed twice keeps its highest q.
    """
    out: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        if coding == "x-gzip":
            coding = "gzip"
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
                if not 0.0 <= q <= 1.0:  # also NaN
                    q = -1.0
        if q < 0.0:
            continue
        if q > out.get(coding, -1.0):
            out[coding] = q
    return out


def negotiate_encoding(accept_encoding: str | None, available: Sequence[str]) -> str | None:
    """The coding of ``available`` to send for ``accept_encoding``, or None for identity.

    Args:
        accept_encoding: the request's ``Accept-Encoding`` value (None: header absent).
        available: the codings the server can send (``"br"``, ``"zstd"``, ``"gzip"``...),
            most preferred first.

    Returns:
        One of ``available``, or None: send the response unencoded (also when the client
        refused identity and nothing else is acceptable: RFC 9110 lets the server send
        identity then rather than a 406).
    """
    if not accept_encoding or not available:
        return None
    key = (accept_encoding, tuple(available))
    try:
        return _CACHE[key]
    except KeyError:
        pass
    prefs = parse_accept_encoding(accept_encoding)
    star = prefs.get("*")
    best: str | None = None
    best_q = 0.0
    for coding in available:
        q = prefs.get(coding, star)
        if q is not None and q > best_q:
            best, best_q = coding, q
    if best is not None:
        identity_q = prefs.get("identity", star)
        if identity_q is not None and identity_q > best_q:
            best = None
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = best
    return best
