"""The argument getters of RequestHandler (query string, form body, both).

The request's ``arguments`` dicts map ``str`` → ``list[bytes]`` (as Tornado). Values are
decoded here as UTF-8; bytes that are not UTF-8 are the client's fault, so they become a
400 whose reason names the argument, never a 500. As in Tornado, control characters (other
than tab, CR and LF) always become spaces, whatever ``strip`` says; ``strip`` (the default)
then removes surrounding whitespace. The last value of a repeated name wins for the singular
getters.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, overload

from squall.web._base import HandlerBase
from squall.web._errors import HTTPError, MissingArgumentError

_D = TypeVar("_D")


class _ArgDefault:
    """Sentinel: ``get_argument(name)`` without a default means "required"."""

    def __repr__(self) -> str:
        return "<required>"


_ARG_DEFAULT: Any = _ArgDefault()

# Control characters other than tab, CR and LF are turned into spaces (with or without strip).
_REMOVE_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")


def decode_value(value: bytes, name: str | None) -> str:
    """Decode one argument (or path) value as UTF-8; bad bytes are a 400 naming it."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        what = f"argument {name}" if name is not None else "the URL path"
        # log_message is complete (no args), as Tornado's is: write_error overrides send
        # exc.log_message to the client, which must not read a bare "%s" template.
        message = f"Invalid UTF-8 in {what}: {value[:40]!r}"
        raise HTTPError(400, message, reason=f"Invalid UTF-8 in {what}") from None


class ArgumentsMixin(HandlerBase):
    """``get_argument(s)``, ``get_query_argument(s)``, ``get_body_argument(s)``."""

    __slots__ = ()

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        """Decode an argument from the request (UTF-8); override for other encodings.

        Raises:
            HTTPError: 400 when ``value`` is not valid UTF-8.
        """
        return decode_value(value, name)

    def _get_values(self, source: dict[str, list[bytes]], name: str, strip: bool) -> list[str]:
        raw = source.get(name)
        if not raw:
            return []
        values = []
        decode = self.decode_argument
        for v in raw:
            s = decode(v, name)
            # An override may keep the raw bytes (Tornado allows it): those are the
            # handler's own business, so only text has its control characters replaced.
            if isinstance(s, str):
                s = _REMOVE_CONTROL_CHARS.sub(" ", s)
            if strip:
                s = s.strip()
            values.append(s)
        return values

    def _get_one(self, source: dict[str, list[bytes]], name: str, default: Any, strip: bool) -> Any:
        values = self._get_values(source, name, strip)
        if values:
            return values[-1]
        if default is _ARG_DEFAULT:
            raise MissingArgumentError(name)
        return default

    @overload
    def get_argument(self, name: str, default: str = ..., strip: bool = True) -> str: ...
    @overload
    def get_argument(self, name: str, default: _D, strip: bool = True) -> str | _D: ...

    def get_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """The last value of ``name`` from the query string or the form body.

        Raises:
            MissingArgumentError: ``name`` is absent and no ``default`` was given (a 400).
        """
        return self._get_one(self.request.arguments, name, default, strip)

    def get_arguments(self, name: str, strip: bool = True) -> list[str]:
        """Every value of ``name`` from the query string and the form body (``[]`` if none)."""
        return self._get_values(self.request.arguments, name, strip)

    @overload
    def get_query_argument(self, name: str, default: str = ..., strip: bool = True) -> str: ...
    @overload
    def get_query_argument(self, name: str, default: _D, strip: bool = True) -> str | _D: ...

    def get_query_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """The last value of ``name`` in the query string.

        Raises:
            MissingArgumentError: ``name`` is absent and no ``default`` was given (a 400).
        """
        return self._get_one(self.request.query_arguments, name, default, strip)

    def get_query_arguments(self, name: str, strip: bool = True) -> list[str]:
        """Every value of ``name`` in the query string (``[]`` if none)."""
        return self._get_values(self.request.query_arguments, name, strip)

    @overload
    def get_body_argument(self, name: str, default: str = ..., strip: bool = True) -> str: ...
    @overload
    def get_body_argument(self, name: str, default: _D, strip: bool = True) -> str | _D: ...

    def get_body_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """The last value of ``name`` in a form body (urlencoded or multipart).

        Raises:
            MissingArgumentError: ``name`` is absent and no ``default`` was given (a 400).
        """
        return self._get_one(self.request.body_arguments, name, default, strip)

    def get_body_arguments(self, name: str, strip: bool = True) -> list[str]:
        """Every value of ``name`` in a form body (``[]`` if none)."""
        return self._get_values(self.request.body_arguments, name, strip)
