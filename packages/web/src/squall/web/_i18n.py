"""``RequestHandler.locale``: the language of a request (Tornado's three methods).

``locale`` is computed on first use and kept for the request: ``get_user_locale()`` (override
it, e.g. from the user's profile), else ``get_browser_locale()`` (the ``Accept-Language``
header, q-values honoured). Nothing runs for a request that never asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from squall.web.locale import Locale, from_accept_language

if TYPE_CHECKING:
    from squall.http import HTTPServerRequest


class LocaleMixin:
    """The locale methods of ``RequestHandler``."""

    request: HTTPServerRequest
    _locale: Locale | None = None

    @property
    def locale(self) -> Locale:
        """The ``squall.web.locale.Locale`` of this request (settable)."""
        if self._locale is None:
            found = self.get_user_locale()
            self._locale = found if found is not None else self.get_browser_locale()
        return self._locale

    @locale.setter
    def locale(self, value: Locale) -> None:
        self._locale = value

    def get_user_locale(self) -> Locale | None:
        """Override to choose the locale (from a cookie, the user's settings...); None
        (the default) falls back to ``get_browser_locale()``."""
        return None

    def get_browser_locale(self, default: str = "en_US") -> Locale:
        """The locale the ``Accept-Language`` header asks for, best q-value first; the
        closest supported to ``default`` when it names none that is supported."""
        return from_accept_language(self.request.headers.get("Accept-Language"), default)
