"""Cookies of RequestHandler: reading, setting, clearing, and signed cookies.

Nothing is parsed until a handler asks: ``cookies`` is the request's own lazily parsed
``Cookie`` header (squall.http skips a malformed cookie instead of dropping them all), so a
request whose handler never reads a cookie pays nothing.

Setting a cookie refuses, where the handler's code is still on the stack, anything that
could split the ``Set-Cookie`` header or add attributes: control characters, spaces and
``;`` in the name or value, and control characters or ``;`` in ``domain``, ``path``,
``samesite`` and extra attributes. (Tornado lets a ``;`` through in a value, quoted by the
cookie library; squall refuses it: a browser keeps the quotes and the octal escape, so the
value would not come back as written anyway.)

Signed cookies are Tornado's (see ``_signing``): the same ``cookie_secret`` reads and
writes the same cookies in both frameworks.
"""

from __future__ import annotations

import calendar
import datetime
import email.utils
import http.cookies
import re
from collections.abc import Mapping
from typing import Any

from squall.web._base import HandlerBase
from squall.web._errors import MissingSettingError
from squall.web._signing import (
    CookieSecret,
    create_signed_value,
    decode_signed_value,
    get_signature_key_version,
)

# Beyond U+00FF a character cannot go on the (ISO-8859-1) header line at all: refused here,
# at the call, rather than when the response is sent (where Tornado fails too).
_BAD_VALUE = re.compile(r"[\x00-\x20;\x7f]|[^\x00-\xff]")
_BAD_ATTRIBUTE = re.compile(r"[\x00-\x1f;\x7f]|[^\x00-\xff]")
# Quotes a value as SimpleCookie does when given a plain string.
_ENCODER = http.cookies.SimpleCookie()


class InvalidCookieAttributeError(http.cookies.CookieError, ValueError):
    """``set_cookie()`` was given a name or attribute a ``Set-Cookie`` header cannot carry.

    Tornado raises ``http.cookies.CookieError`` there, and squall documents a
    ``ValueError``: this is both, so either ``except`` catches it.
    """

    def __init__(self, cookie: str, attribute: str, value: object, refused: str) -> None:
        super().__init__(
            f"Invalid cookie attribute {attribute}={value!r} for cookie {cookie!r}: "
            f"{refused} are refused"
        )


def _check_attribute(cookie: str, attribute: str, value: object) -> None:
    if value is not None and _BAD_ATTRIBUTE.search(str(value)):
        raise InvalidCookieAttributeError(
            cookie, attribute, value, "control characters, ';' and characters beyond Latin-1"
        )


class _Morsel(http.cookies.Morsel[str]):
    """A ``Morsel`` that knows the ``Partitioned`` flag (CHIPS) on every Python.

    ``http.cookies`` learnt it in Python 3.14; before that ``morsel["partitioned"]`` raises
    ``CookieError``, so ``set_cookie(..., partitioned=True)`` would fail on 3.11-3.13.
    """

    _reserved = {**http.cookies.Morsel._reserved, "partitioned": "Partitioned"}  # type: ignore[attr-defined]
    _flags = http.cookies.Morsel._flags | {"partitioned"}  # type: ignore[attr-defined]


def _http_date(expires: float | tuple[int, ...] | datetime.datetime) -> str:
    if isinstance(expires, tuple):  # a time.gmtime() tuple, as Tornado accepts
        expires = calendar.timegm(expires)
    if isinstance(expires, int | float):
        expires = datetime.datetime.fromtimestamp(expires, datetime.UTC)
    if not isinstance(expires, datetime.datetime):
        # As Tornado: a TypeError naming the value, not an AttributeError from inside.
        raise TypeError(
            f"cookie expires must be a timestamp, a time tuple or a datetime, got {expires!r}"
        )
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=datetime.UTC)
    return email.utils.format_datetime(expires.astimezone(datetime.UTC), usegmt=True)


class CookiesMixin(HandlerBase):
    """``cookies``, ``get_cookie``, ``set_cookie``, ``clear_cookie``, signed cookies."""

    __slots__ = ()

    @property
    def cookies(self) -> dict[str, http.cookies.Morsel[str]]:
        """The cookies the client sent (``name`` → ``Morsel``): ``request.cookies``."""
        return self.request.cookies

    def get_cookie(self, name: str, default: str | None = None) -> str | None:
        """The value of the request cookie ``name``, or ``default``.

        Only cookies the client sent: one set by this handler shows on the next request.
        """
        morsel = self.request.cookies.get(name)
        return default if morsel is None else morsel.value

    def set_cookie(
        self,
        name: str,
        value: str | bytes,
        domain: str | None = None,
        expires: float | tuple[int, ...] | datetime.datetime | None = None,
        path: str = "/",
        expires_days: float | None = None,
        *,
        max_age: int | None = None,
        httponly: bool = False,
        secure: bool = False,
        samesite: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Set a cookie on the response (one ``Set-Cookie`` header per cookie name).

        Args:
            name, value: the cookie (bytes are taken as Latin-1).
            domain, path: where the browser sends it back.
            expires: a timestamp, a ``time.gmtime()`` tuple or a datetime;
                ``expires_days`` is a shortcut (``expires`` wins when both are given).
            max_age, httponly, secure, samesite: the attributes of the same name.
            **kwargs: other ``Morsel`` attributes (``partitioned=True``, ``comment``,
                ``version``; any case).

        Raises:
            http.cookies.CookieError: a keyword that is no cookie attribute; nothing is set.
            ValueError: the value holds a control character, a space, ``;`` or a character
                beyond Latin-1 (``"中文"``: quote or encode it, or use ``set_signed_cookie``).
                The name holding one of those, or an attribute holding a control character,
                ``;`` or a character beyond Latin-1 (no header injection, no unsendable
                header), raises an error that is both a ``ValueError`` and, as in Tornado,
                an ``http.cookies.CookieError``.
        """
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if not name:
            raise InvalidCookieAttributeError(name, "name", name, "empty names")
        if _BAD_VALUE.search(name):
            raise InvalidCookieAttributeError(
                name, "name", name, "control characters, spaces, ';' and characters beyond Latin-1"
            )
        if _BAD_VALUE.search(value):
            raise ValueError(
                f"invalid cookie {name!r}: {value!r} (control characters, spaces, ';' and "
                "characters beyond Latin-1 are refused: quote or encode the value)"
            )
        for attribute, attr_value in (("domain", domain), ("path", path), ("samesite", samesite)):
            _check_attribute(name, attribute, attr_value)
        for attribute, attr_value in kwargs.items():
            _check_attribute(name, attribute, attr_value)
        # The morsel is built whole before it joins the response's cookies: an attribute
        # Morsel refuses (a misspelt keyword) then leaves no half-made cookie to be sent
        # on the error page.
        morsel = _Morsel()
        morsel.set(name, value, _ENCODER.value_encode(value)[1])
        if domain:
            morsel["domain"] = domain
        if expires_days is not None and not expires:
            expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=expires_days)
        if expires:
            morsel["expires"] = _http_date(expires)
        if path:
            morsel["path"] = path
        if max_age is not None:
            # int() so that a string cannot smuggle extra attributes into the header.
            morsel["max-age"] = str(int(max_age))
        if httponly:
            morsel["httponly"] = True
        if secure:
            morsel["secure"] = True
        if samesite:
            morsel["samesite"] = samesite
        for attribute, attr_value in kwargs.items():
            morsel[attribute] = attr_value  # Morsel refuses an unknown attribute name
        if self._new_cookie is None:
            self._new_cookie = http.cookies.SimpleCookie()
        self._new_cookie.pop(name, None)
        self._new_cookie[name] = morsel

    def clear_cookie(
        self, name: str, path: str = "/", domain: str | None = None, **kwargs: Any
    ) -> None:
        """Tell the client to delete the cookie ``name`` (expired, empty value).

        Takes ``set_cookie``'s arguments but ``expires`` and ``max_age``: give the same
        ``path`` and ``domain`` (and ``secure``/``samesite`` for ``SameSite=None`` cookies)
        as when it was set, or the browser keeps it.

        Raises:
            TypeError: ``expires`` or ``max_age`` was given.
        """
        for excluded in ("expires", "max_age"):
            if excluded in kwargs:
                raise TypeError(f"clear_cookie() got an unexpected keyword argument {excluded!r}")
        expires = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=365)
        self.set_cookie(name, "", domain, expires, path, max_age=0, **kwargs)

    def clear_all_cookies(self, path: str = "/", domain: str | None = None, **kwargs: Any) -> None:
        """``clear_cookie`` for every cookie the client sent (same ``path``/``domain`` rule)."""
        for name in list(self.request.cookies):
            self.clear_cookie(name, path, domain, **kwargs)

    # -- signed cookies --------------------------------------------------------------------

    def require_setting(self, name: str, feature: str = "this feature") -> None:
        """Raise unless the application has a true value for the setting ``name``.

        Raises:
            MissingSettingError: naming the setting and the feature that needs it.
        """
        if not self.settings.get(name):
            raise MissingSettingError(
                f"the {name!r} setting is required to use {feature}: Application(..., {name}=...)"
            )

    def _cookie_secret(self) -> CookieSecret:
        self.require_setting("cookie_secret", "signed cookies")
        secret: CookieSecret = self.settings["cookie_secret"]
        return secret

    def create_signed_value(
        self, name: str, value: str | bytes, version: int | None = None
    ) -> bytes:
        """Sign and timestamp ``value`` for ``name`` with the ``cookie_secret``.

        ``set_signed_cookie`` uses it; call it for signed values that are not cookies, and
        read them back with ``get_signed_cookie(name, value=...)``.

        Raises:
            MissingSettingError: no ``cookie_secret``, or a dict of secrets and no
                ``key_version``.
        """
        secret = self._cookie_secret()
        key_version = None
        if isinstance(secret, Mapping):
            key_version = self.settings.get("key_version")
            if key_version is None:
                raise MissingSettingError(
                    "the 'key_version' setting is required to sign with a cookie_secret dict: "
                    "Application(..., key_version=...)"
                )
        return create_signed_value(secret, name, value, version=version, key_version=key_version)

    def set_signed_cookie(
        self,
        name: str,
        value: str | bytes,
        expires_days: float | None = 30,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Set a cookie whose value is signed and timestamped, so it cannot be forged.

        ``expires_days`` is the browser's lifetime of the cookie (None: the browser
        session); how old a signature ``get_signed_cookie`` accepts is its own
        ``max_age_days``. Other arguments go to ``set_cookie``.

        Raises:
            MissingSettingError: no ``cookie_secret`` (see ``create_signed_value``).
        """
        self.set_cookie(
            name,
            self.create_signed_value(name, value, version=version),
            expires_days=expires_days,
            **kwargs,
        )

    set_secure_cookie = set_signed_cookie

    def get_signed_cookie(
        self,
        name: str,
        value: str | None = None,
        max_age_days: float = 31,
        min_version: int | None = None,
    ) -> bytes | None:
        """The value of the signed cookie ``name`` as bytes, or None if it does not verify.

        None when the cookie is missing, tampered with, older than ``max_age_days``, signed
        for another name or with a key version not in ``cookie_secret``, or older in
        format than ``min_version`` (1 by default: Tornado's v1 cookies are read).

        Args:
            value: a signed value to check instead of the request's cookie.

        Raises:
            MissingSettingError: no ``cookie_secret``.
        """
        secret = self._cookie_secret()
        if value is None:
            value = self.get_cookie(name)
        return decode_signed_value(
            secret, name, value, max_age_days=max_age_days, min_version=min_version
        )

    get_secure_cookie = get_signed_cookie

    def get_signed_cookie_key_version(self, name: str, value: str | None = None) -> int | None:
        """The key version a signed cookie (or ``value``) says it was signed with, or None.

        The signature is not checked; a v1 or malformed value gives None.

        Raises:
            MissingSettingError: no ``cookie_secret``.
        """
        self._cookie_secret()
        if value is None:
            value = self.get_cookie(name)
        if value is None:
            return None
        return get_signature_key_version(value)

    get_secure_cookie_key_version = get_signed_cookie_key_version
