"""Logins: ``get_login_url`` and the ``authenticated`` decorator (Tornado's semantics).

``@authenticated`` on a handler method: when ``current_user`` is falsy, a GET or HEAD is
redirected to the login URL with ``next`` set to where the user was going; any other method
is a 403 (a form post cannot be replayed after a redirect). Tornado's details, kept because
ported login pages depend on them:

- ``next`` is urlencoded (``?next=%2Fprofile%3Ftab%3D1``);
- a login URL that already holds a ``?`` is used as it is, with no ``next`` added;
- an absolute login URL (``https://login.example.com/``) gets an absolute ``next``
  (``request.full_url()``), so the login site can send the user back.

Reading ``next`` back is the login page's job, and where open redirects come from: see
``examples/login.py`` for the safe pattern (accept only a local path).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urlsplit

from squall.web._base import HandlerBase
from squall.web._errors import HTTPError, MissingSettingError

if TYPE_CHECKING:
    from squall.web._handler import RequestHandler

_M = TypeVar("_M", bound=Callable[..., Awaitable[None] | None])


class AuthMixin(HandlerBase):
    """``get_login_url``: where ``@authenticated`` sends a visitor who is not logged in."""

    __slots__ = ()

    def get_login_url(self) -> str:
        """The login URL: the ``login_url`` setting (override to choose per request).

        Raises:
            MissingSettingError: the ``login_url`` setting is not set.
        """
        url = self.settings.get("login_url")
        if not url:
            raise MissingSettingError(
                "the 'login_url' setting is required to use @authenticated: "
                "Application(..., login_url='/login')"
            )
        result: str = url
        return result


def authenticated(method: _M) -> _M:
    """Decorate a handler method so it runs only for a logged-in user (``current_user``).

    Without a user, GET and HEAD are redirected to ``get_login_url()`` with ``?next=`` the
    requested URI (see the module docstring); other methods are answered 403.

    Raises:
        MissingSettingError: (when a visitor without a user arrives) no ``login_url``.

    .. versionadded:: 0.2.0
    """

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Awaitable[None] | None:
        if not self.current_user:
            if self.request.method not in ("GET", "HEAD"):
                raise HTTPError(403, reason="Login required")
            url = self.get_login_url()
            if "?" not in url:
                # An absolute login URL is another site: it needs an absolute way back.
                next_url = self.request.full_url() if urlsplit(url).scheme else self.request.uri
                url += "?" + urlencode({"next": next_url})
            self.redirect(url)
            return None
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
