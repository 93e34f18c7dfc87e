"""What generated template code calls at run time: the base namespace and the escapers.

The names Tornado gives every template (``escape``, ``xhtml_escape``, ``url_escape``,
``json_encode``, ``squeeze``, ``linkify``, ``datetime``) come from ``squall.web.escape``,
which behaves as ``tornado.escape`` does.

Escaping rule (Tornado's, kept byte for byte): a value is turned into UTF-8 bytes (``str``
and ``bytes`` as they are, anything else through ``str()``), the autoescape function is
called with those bytes, and its result is turned into UTF-8 bytes again. For the default
``xhtml_escape`` and a plain ``str`` value that is the same as escaping the ``str`` and
encoding it once, which is the fast path.
"""

from __future__ import annotations

import builtins
import datetime
import html
from collections.abc import Callable
from typing import Any

from squall.web import escape as web_escape

_utf8 = web_escape.utf8
_escape_html = html.escape

Escaper = Callable[[Any], bytes]


def raw(value: Any) -> bytes:
    """``{% raw x %}`` / ``{% module %}``: the value as UTF-8 bytes, unescaped."""
    cls = value.__class__
    if cls is str:
        return value.encode("utf-8")  # type: ignore[no-any-return]
    if cls is bytes:
        return value  # type: ignore[no-any-return]
    if isinstance(value, str | bytes):
        return _utf8(value)
    return str(value).encode("utf-8")


def _fast_xhtml(value: Any) -> bytes:
    if value.__class__ is str:
        return _escape_html(value).encode("utf-8")
    return _utf8(web_escape.xhtml_escape(raw(value)))


def escaper_for(function: Callable[[bytes], Any]) -> Escaper:
    """The escaper of ``{{ x }}`` when the autoescape function is ``function``."""
    if function is web_escape.xhtml_escape:
        return _fast_xhtml

    def escape_value(value: Any) -> bytes:
        return _utf8(function(raw(value)))  # type: ignore[no-any-return]

    return escape_value


def escape_with(function: Callable[[bytes], Any], value: Any) -> bytes:
    """Escape ``value`` with an autoescape function given as an expression."""
    return _utf8(function(raw(value)))  # type: ignore[no-any-return]


BASE_NAMESPACE: dict[str, Any] = {
    "__builtins__": builtins,
    "escape": web_escape.xhtml_escape,
    "xhtml_escape": web_escape.xhtml_escape,
    "url_escape": web_escape.url_escape,
    "json_encode": web_escape.json_encode,
    "squeeze": web_escape.squeeze,
    "linkify": web_escape.linkify,
    "datetime": datetime,
    "_tt_utf8": _utf8,
    "_tt_raw": raw,
    "_tt_escape_with": escape_with,
}
"""The names every Tornado-syntax template sees, under the loader's and the caller's."""
