"""Reading the ``Cookie`` request header the way browsers write it.

Rules / theory of operation
---------------------------
* A browser sends whatever a page stored with ``document.cookie``: JSON, spaces, commas,
  quotes, non-ASCII text. RFC 6265's grammar (and ``SimpleCookie.load``, which follows it)
  refuses most of that and silently drops the cookie, so an app reading
  ``get_cookie("prefs")`` would see ``None`` for a cookie its own JavaScript set. So the
  header is read as browsers and Tornado read it: pairs split on ``;`` only, each at its
  first ``=``; a piece without ``=`` is a value with an empty name; names and values are
  stripped of surrounding spaces and tabs.
* A value in double quotes is unquoted as Python's ``http.cookies`` does (``\\"`` and
  ``\\\\`` escapes, ``\\ooo`` octal escapes), in one regular-expression pass, so a long
  escaped value costs time proportional to its length.
* Each pair is then stored in a ``SimpleCookie``, which refuses names no cookie can have (an
  empty name, spaces, attribute names such as ``Path``): those pairs are skipped. A name
  that comes twice keeps its last value.
"""

from __future__ import annotations

import http.cookies
import re

__all__ = ["parse_cookie_header", "load_cookie_header"]

# One escape inside a quoted cookie value: three octal digits (a byte value up to \377),
# or any other character taken literally.
_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")


def _unescape(match: re.Match[str]) -> str:
    octal, char = match.group(1, 2)
    return chr(int(octal, 8)) if octal is not None else char


def _unquote(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner = value[1:-1]
    return _ESCAPE.sub(_unescape, inner) if "\\" in inner else inner


def parse_cookie_header(value: str) -> dict[str, str]:
    """The ``name → value`` pairs of one ``Cookie`` header, read as browsers send them.

    >>> parse_cookie_header('prefs={"a":1}; theme=dark mode; sid="x\\\\"y"')
    {'prefs': '{"a":1}', 'theme': 'dark mode', 'sid': 'x"y'}
    """
    pairs: dict[str, str] = {}
    for piece in value.split(";"):
        name, sep, val = piece.partition("=")
        if not sep:
            name, val = "", name
        name, val = name.strip(" \t"), val.strip(" \t")
        if name or val:
            pairs[name] = _unquote(val)
    return pairs


def load_cookie_header(cookies: http.cookies.SimpleCookie, value: str) -> None:
    """Add the cookies of one ``Cookie`` header to ``cookies``, skipping impossible names."""
    for name, val in parse_cookie_header(value).items():
        try:
            cookies[name] = val
        except http.cookies.CookieError:
            continue  # an empty name, an attribute name, a character no name may hold
