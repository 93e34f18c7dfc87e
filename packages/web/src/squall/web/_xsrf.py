"""Cross-site request forgery protection of RequestHandler: XSRF tokens and Origin checks.

Two independent defences, each turned on by a setting and each run, for every method but
GET, HEAD and OPTIONS, *before* ``prepare()`` (web's built-in ``_security`` plugin installs
the check as a before-request hook only when a setting asks for it, so an application with
both off does no work at all per request):

- ``xsrf_cookies=True`` (Tornado's double-submit token): the ``_xsrf`` cookie holds a random
  token; a form sends it back as the ``_xsrf`` argument (``xsrf_form_html()``), a script as
  the ``X-XSRFToken`` or ``X-CSRFToken`` header. Tokens are compared unmasked, so every
  masked copy of a page's token is valid, the cookie's own value too, and Tornado's tokens
  (v1 and v2) are accepted unchanged. ``check_xsrf_cookie`` may be overridden.
- ``cross_origin_protection=True`` (Tornado 6.6's, after Go's ``CrossOriginProtection``):
  browsers say where a request comes from. ``Sec-Fetch-Site: same-origin`` or ``none`` (typed
  in, bookmarks) passes; any other value is refused unless ``check_trusted_origin(Origin)``
  allows it (the ``trusted_origins`` setting by default). Without ``Sec-Fetch-Site`` (older
  browsers, plain HTTP), an ``Origin`` must match the ``Host`` header or be trusted; a request
  with neither header is not from a browser and passes. This stops cross-site form posts
  even on pages that carry no token.

The 403 reasons say which check failed (``'_xsrf' argument missing from POST``, ``XSRF
cookie does not match POST argument``, ``Cross-site POST refused``); the log line adds the
headers seen. Client values are never put in the status line.
"""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from squall.web._base import HandlerBase
from squall.web._errors import HTTPError
from squall.web._signing import decode_xsrf_token, encode_xsrf_token, new_xsrf_token

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
"""Methods never checked for XSRF: they must not change anything."""

DEFAULT_XSRF_COOKIE_NAME = "_xsrf"


class SafeHTML(str):
    """A str of HTML that template engines must not escape (the ``__html__`` protocol)."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def _escape_attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


class XSRFMixin(HandlerBase):
    """``xsrf_token``, ``xsrf_form_html``, ``check_xsrf_cookie``, ``check_trusted_origin``."""

    # No __slots__ here: RequestHandler instances have a __dict__ anyway, and these two
    # per-request caches land in it only once a handler uses XSRF (class defaults: no cost
    # to a request that does not).
    _xsrf_token_cache: bytes | None = None
    _raw_xsrf_token_cache: tuple[int | None, bytes, float] | None = None

    if TYPE_CHECKING:

        def get_argument(self, name: str, default: Any = ..., strip: bool = True) -> Any: ...
        def get_cookie(self, name: str, default: str | None = None) -> str | None: ...
        def set_cookie(self, name: str, value: str | bytes, *args: Any, **kwargs: Any) -> None: ...
        @property
        def current_user(self) -> Any: ...

    @property
    def xsrf_token(self) -> bytes:
        """This session's XSRF token, masked afresh for this response (ASCII bytes).

        The first use in a session without a valid ``_xsrf`` cookie sets one (with the
        ``xsrf_cookie_kwargs`` setting's options; 30 days when a user is logged in and no
        ``expires_days`` is given, else a browser-session cookie). ``xsrf_cookie_version=1``
        writes Tornado's old unmasked form.
        """
        token = self._xsrf_token_cache
        if token is None:
            version, raw, timestamp = self._get_raw_xsrf_token()
            settings = self.settings
            output_version = settings.get("xsrf_cookie_version") or 2
            token = encode_xsrf_token(raw, timestamp, output_version)
            self._xsrf_token_cache = token
            if version is None:
                cookie_kwargs = dict(settings.get("xsrf_cookie_kwargs") or {})
                if "expires_days" not in cookie_kwargs and self.current_user:
                    cookie_kwargs["expires_days"] = 30
                name = settings.get("xsrf_cookie_name") or DEFAULT_XSRF_COOKIE_NAME
                self.set_cookie(name, token, **cookie_kwargs)
        return token

    def _get_raw_xsrf_token(self) -> tuple[int | None, bytes, float]:
        """``(version read from the cookie or None if new, raw token, timestamp)``."""
        raw = self._raw_xsrf_token_cache
        if raw is None:
            name = self.settings.get("xsrf_cookie_name") or DEFAULT_XSRF_COOKIE_NAME
            cookie = self.get_cookie(name)
            decoded = decode_xsrf_token(cookie) if cookie else None
            if decoded is None or not decoded[1]:
                raw = (None, new_xsrf_token(), time.time())
            else:
                version, token, timestamp = decoded
                # A v1 token has no timestamp: it counts as made now.
                raw = (version, token, timestamp or time.time())
            self._raw_xsrf_token_cache = raw
        return raw

    def xsrf_form_html(self) -> str:
        """``<input type="hidden" name="_xsrf" value="...">`` for every POST form.

        The result is marked safe for templates (``{{ xsrf_form_html() }}`` in Jinja2 is
        not escaped).
        """
        token = _escape_attribute(self.xsrf_token.decode("ascii"))
        return SafeHTML(f'<input type="hidden" name="_xsrf" value="{token}"/>')

    def check_xsrf_cookie(self) -> None:
        """Refuse the request (403) unless its token matches the ``_xsrf`` cookie's.

        The token comes from the ``_xsrf`` argument or the ``X-XSRFToken`` /
        ``X-CSRFToken`` header. Called before ``prepare()`` for every method but GET, HEAD
        and OPTIONS when ``xsrf_cookies`` is on; override it to exempt a handler (an API
        authenticated by a header, not a cookie) or to check differently.

        Raises:
            HTTPError: 403 whose reason says whether the token is missing, malformed or
                does not match the cookie.
        """
        method = self.request.method
        headers = self.request.headers
        given = (
            self.get_argument("_xsrf", None)
            or headers.get("X-Xsrftoken")
            or headers.get("X-Csrftoken")
        )
        if not given:
            message = f"'_xsrf' argument missing from {method}"
            raise HTTPError(403, message, reason=message)
        decoded = decode_xsrf_token(given)
        if decoded is None or not decoded[1]:
            message = f"'_xsrf' argument has invalid format in {method}"
            raise HTTPError(403, message, reason=message)
        _, expected, _ = self._get_raw_xsrf_token()
        if not hmac.compare_digest(decoded[1], expected):
            message = f"XSRF cookie does not match {method} argument"
            raise HTTPError(403, message, reason=message)

    def check_trusted_origin(self, origin: str) -> bool:
        """Whether a cross-origin unsafe request from ``origin`` may pass (override).

        Called by ``cross_origin_protection`` with the ``Origin`` header of a request that
        is not same-origin; True lets it through. By default: ``origin`` is listed in the
        ``trusted_origins`` setting (exact strings such as ``"https://app.example.com"``).
        Runs before ``prepare()``: decide from the request alone.
        """
        return origin in (self.settings.get("trusted_origins") or ())

    def _cross_origin_refusal(self) -> tuple[str, str] | None:
        """``(reason, log detail)`` when the request is cross-origin and untrusted, else None."""
        headers = self.request.headers
        site = headers.get("Sec-Fetch-Site")
        origin = headers.get("Origin")
        method = self.request.method
        if site is None:
            if origin is None:
                return None  # neither header: not a browser, nothing to forge with
            host = headers.get("Host", "").lower()
            # Host and port must match (not the scheme: that would need correct
            # X-Scheme handling behind every proxy, and this is the fallback path).
            try:
                netloc = urlsplit(origin).netloc.lower()
            except ValueError:  # "http://[::1": the client's text, so a 403, never a 500
                netloc = None
            if netloc == host or self.check_trusted_origin(origin):
                return None
            return f"Cross-origin {method} refused", f"Origin {origin!r} does not match Host"
        if site in ("same-origin", "none"):
            return None
        if origin and self.check_trusted_origin(origin):
            return None
        return f"Cross-site {method} refused", f"Sec-Fetch-Site {site!r}, Origin {origin!r}"

    def check_cross_origin(self) -> None:
        """Refuse (403) an unsafe request a browser says is cross-origin and not trusted.

        Called before ``prepare()`` for every method but GET, HEAD and OPTIONS when the
        ``cross_origin_protection`` setting is on (see the module docstring).

        Raises:
            HTTPError: 403, reason ``Cross-site POST refused`` (or ``Cross-origin ...``).
        """
        refusal = self._cross_origin_refusal()
        if refusal is not None:
            reason, detail = refusal
            raise HTTPError(403, f"{reason}: {detail}", reason=reason)
