"""Escaping and unescaping for HTML, URLs and JSON: Tornado's ``tornado.escape`` in squall.

A Tornado app imports these names from ``tornado.escape``; it imports them from
``squall.web.escape`` instead and gets the same output for the same input (web's tests
compare both modules on a table of inputs and on generated ones)::

    from squall.web.escape import json_encode, url_escape, xhtml_escape

Where squall already had the function it is reused, never written twice: the HTML escape
of error pages (``_error_handling.escape_html``) and the JSON of ``write(dict)``
(``_jsonencode.json_encode``) are the ones here.

Known difference: ``parse_qs_bytes`` decodes argument *names* as UTF-8 (as squall's request
arguments do, see ``squall.http.parse_qs_bytes``) where Tornado decodes them as latin-1; an
ASCII name (nearly all of them) reads the same in both.

This module is not imported by ``import squall.web`` (start-up time): import it by name.
``xhtml_unescape`` imports the standard ``html`` module on first use, for the same reason
(building its entity table takes about a millisecond).

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Container
from typing import Any, overload

from squall.http import parse_qs_bytes as _http_parse_qs_bytes
from squall.web._error_handling import escape_html
from squall.web._jsonencode import json_encode

__all__ = [
    "json_decode",
    "json_encode",
    "linkify",
    "native_str",
    "parse_qs_bytes",
    "recursive_unicode",
    "squeeze",
    "to_basestring",
    "to_unicode",
    "url_escape",
    "url_unescape",
    "utf8",
    "xhtml_escape",
    "xhtml_unescape",
]

# -- str and bytes ----------------------------------------------------------------------


@overload
def utf8(value: None) -> None: ...
@overload
def utf8(value: str | bytes) -> bytes: ...
def utf8(value: str | bytes | None) -> bytes | None:
    """``value`` as bytes: a str is encoded as UTF-8; bytes and None come back unchanged.

    Raises:
        TypeError: ``value`` is none of str, bytes, None.
    """
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"Expected bytes, unicode, or None; got {type(value)!r}")


@overload
def to_unicode(value: None) -> None: ...
@overload
def to_unicode(value: str | bytes) -> str: ...
def to_unicode(value: str | bytes | None) -> str | None:
    """``value`` as str: bytes are decoded as UTF-8; str and None come back unchanged.

    Raises:
        TypeError: ``value`` is none of str, bytes, None.
        UnicodeDecodeError: bytes that are not UTF-8.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise TypeError(f"Expected bytes, unicode, or None; got {type(value)!r}")


native_str = to_unicode
"""Tornado's name of :func:`to_unicode` from its Python 2 days (the native str is str)."""

to_basestring = to_unicode
"""Tornado's other old name of :func:`to_unicode`."""


def recursive_unicode(obj: Any) -> Any:
    """``obj`` with every bytes inside dicts, lists and tuples decoded as UTF-8 (a copy).

    Keys of dicts are converted too; other objects are returned as they are.
    """
    if isinstance(obj, bytes):
        return obj.decode("utf-8")
    if isinstance(obj, dict):
        return {recursive_unicode(k): recursive_unicode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [recursive_unicode(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(recursive_unicode(item) for item in obj)
    return obj


# -- HTML -------------------------------------------------------------------------------


def xhtml_escape(value: str | bytes) -> str:
    """``value`` safe inside HTML or XML text and quoted attributes: ``& < > " '`` escaped.

    ``'`` becomes ``&#x27;`` (as ``html.escape`` and Tornado ≥ 6.4); bytes are decoded as
    UTF-8 first, and the result is always a str.
    """
    return escape_html(to_unicode(value))


def xhtml_unescape(value: str | bytes) -> str:
    """Replace HTML character references (``&amp;``, ``&#39;``, ``&eacute;``) by characters.

    HTML5's rules, as ``html.unescape``; bytes are decoded as UTF-8 first.
    """
    import html  # on first use, not at import: see the module docstring

    return html.unescape(to_unicode(value))


# -- JSON -------------------------------------------------------------------------------
# json_encode is web's own (imported above): json.dumps with "</" written "<\/", so the
# output can sit inside an HTML <script> element.


def json_decode(value: str | bytes) -> Any:
    """The Python value of the JSON document ``value`` (str or UTF-8/16/32 bytes).

    Raises:
        json.JSONDecodeError: ``value`` is not JSON (a ValueError).
    """
    return json.loads(value)


# -- whitespace -------------------------------------------------------------------------

# Runs of ASCII controls and spaces only: a non-breaking space inside the text is kept.
_CONTROL_RUN = re.compile(r"[\x00-\x20]+")


def squeeze(value: str) -> str:
    """Every run of ASCII whitespace and control characters as one space, then stripped."""
    return _CONTROL_RUN.sub(" ", value).strip()


# -- URLs -------------------------------------------------------------------------------


def url_escape(value: str | bytes, plus: bool = True) -> str:
    """Percent-encode ``value`` for a URL.

    Args:
        value: text (encoded as UTF-8) or bytes.
        plus: True (default, for query strings): space → ``+`` and ``/`` → ``%2F``;
            False (for a path): space → ``%20`` and ``/`` kept.
    """
    if plus:
        return urllib.parse.quote_plus(value)
    return urllib.parse.quote(value)


@overload
def url_unescape(value: str | bytes, encoding: None, plus: bool = True) -> bytes: ...
@overload
def url_unescape(value: str | bytes, encoding: str = "utf-8", plus: bool = True) -> str: ...
def url_unescape(
    value: str | bytes, encoding: str | None = "utf-8", plus: bool = True
) -> str | bytes:
    """Decode the percent-escapes of ``value``.

    Args:
        value: str or bytes (bytes must be UTF-8).
        encoding: decode the result with it (bad bytes become U+FFFD); None returns bytes.
        plus: True (default, for query strings and forms): ``+`` is a space (a literal
            plus is ``%2B``); False (for a path): ``+`` stays ``+``.
    """
    text = value if isinstance(value, str) else value.decode("utf-8")
    if encoding is None:
        if plus:
            text = text.replace("+", " ")
        return urllib.parse.unquote_to_bytes(text)
    if plus:
        return urllib.parse.unquote_plus(text, encoding=encoding)
    return urllib.parse.unquote(text, encoding=encoding)


def parse_qs_bytes(
    qs: str | bytes,
    keep_blank_values: bool = False,
    strict_parsing: bool = False,
    *,
    max_num_fields: int | None = None,
) -> dict[str, list[bytes]]:
    """Parse a query string into ``{name: [value, ...]}`` with bytes values (Tornado's call).

    squall's own parser (``squall.http.parse_qs_bytes``) does the work; names are decoded
    as UTF-8 (see the module docstring).

    Args:
        qs: the query string (without ``?``) or a urlencoded body.
        keep_blank_values: keep ``a=`` and ``a`` as ``b""`` (default: drop them).
        strict_parsing: a field without ``=``, or an empty field, raises ValueError.
        max_num_fields: the most fields accepted (counted as ``&`` + 1, as Tornado).

    Raises:
        ValueError: more than ``max_num_fields`` fields, or a bad field under
            ``strict_parsing``.
    """
    raw = qs if isinstance(qs, bytes) else qs.encode("latin-1")
    if not raw:
        return {}
    if max_num_fields is not None and raw.count(b"&") + 1 > max_num_fields:
        raise ValueError("Max number of fields exceeded")
    if strict_parsing:
        for field in raw.split(b"&"):
            if b"=" not in field:
                raise ValueError(f"bad query field: {field!r}")
    # max_fields is squall's request limit; this call has its own (max_num_fields, above).
    return _http_parse_qs_bytes(
        raw, keep_blank_values=keep_blank_values, max_fields=raw.count(b"&") + 1
    )


# -- linkify ----------------------------------------------------------------------------

# What linkify() takes for a URL, in the text *after* HTML escaping. The pieces:
# - a start: "scheme:" with one to three slashes (scheme and slashes are groups 2 and 3),
#   or "www." without a scheme;
# - then one or more chunks, each either a run of URL characters ending in a character
#   that is not punctuation (so "see http://a.b/c." leaves the final dot out), or a run of
#   URL characters in parentheses (so "http://w.org/Foo_(bar)" keeps its parenthesis);
# - a URL character is anything but space, "&" and parentheses, or the escaped "&amp;"
#   and "&quot;" (so "&lt;" / "&gt;" end a URL: they were "<" / ">" before escaping).
# Each chunk is a plain character class followed by a bounded choice, so the match stays
# linear (a run of dots cannot make it backtrack exponentially).
_URL_CHAR = r"(?:[^\s&()]|&amp;|&quot;)"
_URL_LAST = r"""[^!"#$%&'()*+,.:;<=>?@\[\]^`{|}~\s]"""
_URL = re.compile(
    r"\b("
    r"(?:([\w-]+):(/{1,3})|www[.])"
    rf"(?:{_URL_CHAR}*{_URL_LAST}|\({_URL_CHAR}*\))+"
    r")"
)

_SHORTEN_ABOVE = 30  # characters of link text before linkify(shorten=True) clips it


def _shortened(text: str, scheme_length: int) -> str:
    """The link text of a long URL: host plus the start of the first path segment."""
    pieces = text[scheme_length:].split("/")
    if len(pieces) > 1:
        # The host says where the link goes; a slug adds little once clipped.
        first = pieces[1][:8].split("?")[0].split(".")[0]
        text = f"{text[:scheme_length]}{pieces[0]}/{first}"
    if len(text) > _SHORTEN_ABOVE * 1.5:
        text = text[:_SHORTEN_ABOVE]
    return text


def linkify(
    text: str | bytes,
    shorten: bool = False,
    extra_params: str | Callable[[str], str] = "",
    require_protocol: bool = False,
    permitted_protocols: Container[str] = ("http", "https"),
) -> str:
    """HTML-escape ``text`` and turn the URLs in it into links.

    ``linkify("see http://squall.dev!")`` →
    ``'see <a href="http://squall.dev">http://squall.dev</a>!'``.

    Args:
        text: plain text (str, or UTF-8 bytes).
        shorten: clip the text of long links (about 30 characters); the full URL goes in
            a ``title`` attribute.
        extra_params: attributes added to each ``<a>``, e.g. ``'rel="nofollow"'``, or a
            function of the link's URL returning them.
        require_protocol: only link URLs with a scheme (not ``www.example.com``).
        permitted_protocols: schemes that become links; others stay text. Never add
            ``javascript``.
    """
    if extra_params and not callable(extra_params):
        extra_params = " " + extra_params.strip()

    def link(match: re.Match[str]) -> str:
        url, scheme, slashes = match.group(1, 2, 3)
        if scheme is None:
            if require_protocol:
                return url
            href = "http://" + url
        elif scheme not in permitted_protocols:
            return url
        else:
            href = url
        if callable(extra_params):
            params = " " + extra_params(href).strip()
        else:
            params = extra_params
        shown = url
        if shorten and len(url) > _SHORTEN_ABOVE:
            scheme_length = len(scheme) + 1 + len(slashes or "") if scheme else 0
            shown = _shortened(url, scheme_length)
            if shown != url:
                amp = shown.rfind("&")
                if amp > _SHORTEN_ABOVE - 5:  # never cut an "&amp;" in two
                    shown = shown[:amp]
                shown += "..."
                if len(shown) >= len(url):
                    shown = url
                else:
                    params += f' title="{href}"'
        return f'<a href="{href}"{params}>{shown}</a>'

    return _URL.sub(link, xhtml_escape(text))
