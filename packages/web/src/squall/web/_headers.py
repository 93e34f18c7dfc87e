"""Response status and headers of RequestHandler (cookies: ``_cookies``).

Headers live in a plain ``dict`` (normalized name → value) because nearly every response has
one value per name; the rare repeated header (``add_header``) keeps its extra values in a
side dict. Names are normalized through a small cache (``content-type`` → ``Content-Type``)
so ``set_header`` with any casing replaces the same entry. Values are checked for control
characters here, where the user's code is still on the stack: a CR or LF in a value is a
ValueError (no response splitting).
"""

from __future__ import annotations

import datetime
import email.utils
import re
from typing import Any

from squall.http import responses
from squall.web._base import HandlerBase

_NAMES: dict[str, str] = {}
_NAMES_MAX = 512  # bounded: names come from code, but a handler could echo client input

# One character class (the check runs on every set_header): control characters but tab,
# and anything beyond U+00FF, which an ISO-8859-1 header line cannot carry. Written as the
# complement of what is allowed (tab, printable ASCII, U+0080-U+00FF): the same set, but a
# range up to U+10FFFF takes the re compiler ≈ 9 ms at import (start-up), this form 0.3 ms.
_INVALID_VALUE = re.compile("[^\x09\x20-\x7e\x80-\xff]")
# A reason phrase may go beyond Latin-1 (sent as UTF-8 bytes: wire_reason), never hold CR/LF.
_INVALID_REASON = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_INVALID_NAME = re.compile(r"[^!#$%&'*+\-.^_`|~0-9A-Za-z]")


def normalize_name(name: str) -> str:
    """``content-type`` → ``Content-Type`` (cached), refusing names that are not tokens."""
    try:
        return _NAMES[name]
    except KeyError:
        pass
    if not name or _INVALID_NAME.search(name):
        raise ValueError(f"invalid header name {name!r}")
    norm = "-".join(part.capitalize() for part in name.split("-"))
    if len(_NAMES) >= _NAMES_MAX:
        _NAMES.clear()
    _NAMES[name] = norm
    return norm


def convert_header_value(value: Any) -> str:
    """Turn ``value`` (str, bytes, int, datetime) into a header value.

    Refuses CR, LF, NUL and other control characters (header injection) and, in a str,
    characters beyond ISO-8859-1 (``ValueError``, raised where the handler set it).
    """
    if isinstance(value, str):
        result = value
    elif isinstance(value, bytes):
        # Latin-1 maps each byte to one character, as the bytes would go on the wire.
        result = value.decode("latin-1")
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, datetime.datetime):
        return email.utils.format_datetime(
            value.astimezone(datetime.UTC) if value.tzinfo else value.replace(tzinfo=datetime.UTC),
            usegmt=True,
        )
    else:
        raise TypeError(f"unsupported header value {value!r}")
    bad = _INVALID_VALUE.search(result)
    if bad is not None:
        if bad.group() > "\xff":
            # Tornado refuses these at the call too; a response could never carry them.
            raise ValueError(
                f"Unsafe header value {result!r}: it is not ISO-8859-1: encode it first (bytes "
                "are sent as they are; for a file name, RFC 8187 filename*=UTF-8''...)"
            )
        # Both worded as Tornado's: handlers written for it match on "Unsafe header value".
        raise ValueError(f"Unsafe header value {result!r}: control characters are refused")
    return result


def wire_reason(reason: str) -> str:
    """``reason`` as the status line carries it: its UTF-8 bytes when ISO-8859-1 cannot.

    The status line goes out as ISO-8859-1, so a reason such as ``"成功"`` (the notes'
    custom codes, or ``MissingArgumentError`` naming a Chinese argument) would be refused
    and the response turned into a 500. We send the UTF-8 bytes (obs-text to HTTP, which
    clients display or ignore), as Tornado did before 6.5; Tornado 6.5+ replaces such a
    reason with "Unknown" (a documented difference).
    """
    if reason.isascii():
        return reason
    try:
        reason.encode("latin-1")
    except UnicodeEncodeError:
        return reason.encode("utf-8").decode("latin-1")
    return reason


class HeadersMixin(HandlerBase):
    """Status and headers (``Set-Cookie`` lines come from ``_cookies`` through ``_new_cookie``)."""

    __slots__ = ()

    def set_status(self, status_code: int, reason: str | None = None) -> None:
        """Set the status of the response.

        Args:
            status_code: 100-599.
            reason: the reason phrase; the standard one by default, "Unknown" for a code
                with no standard phrase (``set_status(444)``).

        Raises:
            ValueError: ``status_code`` is outside 100-599, or ``reason`` holds CR/LF.
        """
        if not 100 <= status_code <= 599:
            raise ValueError(f"invalid status code {status_code!r}: must be within 100-599")
        if reason is None:
            self._reason = responses.get(status_code, "Unknown")
            self._custom_reason = status_code not in responses
        else:
            if _INVALID_REASON.search(reason):
                raise ValueError(f"unsafe reason phrase {reason!r}")
            self._reason = reason
            self._custom_reason = True
        self._status_code = status_code

    def get_status(self) -> int:
        """The status code of the response."""
        return self._status_code

    def set_header(self, name: str, value: Any) -> None:
        """Set ``name`` to ``value``, replacing every earlier value of that header.

        Raises:
            ValueError: the value holds CR, LF or another control character.
        """
        norm = _NAMES.get(name) or normalize_name(name)
        self._headers[norm] = convert_header_value(value)
        multi = self._multi_headers
        if multi is not None:
            multi.pop(norm, None)

    def add_header(self, name: str, value: Any) -> None:
        """Add a value for ``name``, keeping the values already set (``Set-Cookie``-like)."""
        norm = _NAMES.get(name) or normalize_name(name)
        value = convert_header_value(value)
        headers = self._headers
        if norm not in headers:
            headers[norm] = value
            return
        if self._multi_headers is None:
            self._multi_headers = {}
        lst = self._multi_headers.get(norm)
        if lst is None:
            self._multi_headers[norm] = [headers[norm], value]
        else:
            lst.append(value)
        headers[norm] = value

    def clear_header(self, name: str) -> None:
        """Remove every value of ``name`` (set by defaults or earlier calls)."""
        norm = _NAMES.get(name) or normalize_name(name)
        self._headers.pop(norm, None)
        if self._multi_headers is not None:
            self._multi_headers.pop(norm, None)

    def _header_items(self) -> list[tuple[str, str]]:
        """The response headers as ``(name, value)`` pairs, repeated names expanded."""
        headers = self._headers
        multi = self._multi_headers
        cookies = self._new_cookie
        if multi is None and cookies is None:
            return list(headers.items())
        items: list[tuple[str, str]] = []
        for name, value in headers.items():
            if multi is not None and name in multi:
                items.extend((name, v) for v in multi[name])
            else:
                items.append((name, value))
        if cookies is not None:
            for morsel in cookies.values():
                items.append(("Set-Cookie", morsel.OutputString()))
        return items
