"""web's built-in security plugin: checks the security settings, installs the XSRF check.

At ``Application(...)`` (never per request):

- ``squall_web_configure`` refuses what cannot work, naming the setting: a ``key_version``
  that is not a key of the ``cookie_secret`` dict, ``xsrf_cookie_kwargs`` naming something
  ``set_cookie()`` does not take (it would fail at the first form, as a 500).
- ``squall_web_request_hooks`` returns a before-request hook only when ``xsrf_cookies`` or
  ``cross_origin_protection`` is on: it checks every method but GET, HEAD and OPTIONS
  before ``prepare()`` (see ``_xsrf``). With both off it returns None, so requests run
  exactly as before.

The settings themselves are declared with web's others (``_builtin``); this module reads
them from ``app.settings``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http.cookies import Morsel
from typing import TYPE_CHECKING

from squall.web._errors import ConfigurationError
from squall.web._hooktypes import RequestHooks
from squall.web._xsrf import SAFE_METHODS
from squall.web.hookspecs import hookimpl

if TYPE_CHECKING:
    from squall.web._application import Application
    from squall.web._handler import RequestHandler

# What set_cookie() takes: its own parameters and the Morsel attributes it passes on.
_COOKIE_ARGUMENTS = frozenset(
    ("domain", "expires", "path", "expires_days", "max_age", "httponly", "secure", "samesite")
) | frozenset(Morsel._reserved)  # type: ignore[attr-defined]


def check_security_settings(settings: Mapping[str, object]) -> None:
    """Raise ConfigurationError for security settings that cannot work together.

    The types of the settings are checked where they are declared (``_builtin``); this
    checks what only makes sense across settings, so that it fails at construction rather
    than at the first signed cookie or the first form.

    Raises:
        ConfigurationError: naming the setting and the value.
    """
    secret = settings.get("cookie_secret")
    key_version = settings.get("key_version")
    if isinstance(secret, Mapping) and key_version is not None and key_version not in secret:
        raise ConfigurationError(
            f"setting key_version={key_version!r} is not a key of the cookie_secret dict"
        )
    kwargs = settings.get("xsrf_cookie_kwargs")
    if isinstance(kwargs, Mapping):
        unknown = sorted(str(k) for k in kwargs if str(k).lower() not in _COOKIE_ARGUMENTS)
        if unknown:
            raise ConfigurationError(
                f"setting xsrf_cookie_kwargs: {', '.join(unknown)} "
                "is not an argument of set_cookie()"
            )


def _check_xsrf(handler: RequestHandler) -> None:
    if handler.request.method not in SAFE_METHODS:
        handler.check_xsrf_cookie()


def _check_origin(handler: RequestHandler) -> None:
    if handler.request.method not in SAFE_METHODS:
        handler.check_cross_origin()


def _check_both(handler: RequestHandler) -> None:
    if handler.request.method not in SAFE_METHODS:
        # The Origin check first: it needs no cookie parsing, and for a forged request
        # "cross-site" is the true reason, not "token missing".
        handler.check_cross_origin()
        handler.check_xsrf_cookie()


@hookimpl
def squall_web_configure(app: Application) -> None:
    """Refuse security settings that cannot work (see ``check_security_settings``)."""
    check_security_settings(app.settings)


@hookimpl
def squall_web_request_hooks(app: Application) -> RequestHooks | None:
    """The before-``prepare`` check when ``xsrf_cookies`` or ``cross_origin_protection`` is on."""
    xsrf = bool(app.settings.get("xsrf_cookies"))
    origin = bool(app.settings.get("cross_origin_protection"))
    check: Callable[[RequestHandler], None]
    if xsrf and origin:
        check = _check_both
    elif xsrf:
        check = _check_xsrf
    elif origin:
        check = _check_origin
    else:
        return None
    return RequestHooks(before=check)
