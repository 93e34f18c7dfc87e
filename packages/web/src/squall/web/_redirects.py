"""Redirects as Tornado makes them: ``RedirectHandler``, ``addslash`` and ``removeslash``.

``RedirectHandler`` (Tornado's semantics, which ported apps rely on):

- permanent (301) unless ``permanent=False`` (302);
- the target is ``url.format(*path_args, **path_kwargs)``: ``{0}`` / ``{name}`` take the
  rule's groups;
- the request's query arguments are appended to the target's own query (re-encoded);
- only GET is redirected (other methods are 405, like any method a handler lacks).

Open redirects: a group is text from the client, so once substituted it must not be able to
move the redirect to another site. The scheme and host of the result must be those of the
part of ``url`` before the first substitution (``"/{0}"`` filled with ``"/evil.com"`` gives
``//evil.com``, another host: refused with a 400), judged the way a browser reads a URL
(leading/trailing controls and spaces dropped, tabs and newlines removed, ``\\`` read as
``/``, any number of leading slashes naming a host). ``addslash`` / ``removeslash`` refuse
(403) a path that would redirect to ``//host``. Control characters in the target are a 400
(they could never be sent in a ``Location`` header).
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from squall.web._errors import HTTPError
from squall.web._handler import RequestHandler

if TYPE_CHECKING:
    from squall.http import HTTPServerRequest

_M = TypeVar("_M", bound=Callable[..., Awaitable[None] | None])

# What a browser strips from both ends of a URL before parsing it (WHATWG URL: C0 controls
# and space), and what it removes anywhere (tab, LF, CR).
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_REMOVED_ANYWHERE = str.maketrans({"\t": None, "\n": None, "\r": None, "\\": "/"})
_LEADING_SLASHES = re.compile(r"^//+")
# Characters a Location header cannot carry (tab is allowed in a field value).
_NOT_IN_A_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _as_browser_reads(url: str) -> str:
    """``url`` cleaned up as a browser does before parsing it (and ``\\`` read as ``/``)."""
    return url.strip(_C0_AND_SPACE).translate(_REMOVED_ANYWHERE)


def _names_a_host(path: str) -> bool:
    """Whether a browser would read ``path`` as a protocol-relative URL (``//host/...``)."""
    return _as_browser_reads(path).startswith("//")


def _scheme_and_host(url: str) -> tuple[str, str]:
    """The scheme and netloc (user info, host, port) a browser sees in ``url``, lowercased.

    Raises:
        ValueError: a netloc ``urlsplit`` cannot parse (``http://[::1``).
    """
    parts = urlsplit(_LEADING_SLASHES.sub("//", _as_browser_reads(url)))
    return parts.scheme.lower(), parts.netloc.lower()


def _with_query(url: str, request: HTTPServerRequest) -> str:
    """``url`` with the request's query arguments added after its own."""
    pairs: list[tuple[str, str | bytes]] = list(
        parse_qsl(urlsplit(url).query, keep_blank_values=True)
    )
    for name, values in request.query_arguments.items():
        pairs.extend((name, value) for value in values)
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode(pairs)))


class RedirectHandler(RequestHandler):
    """Redirect every GET to ``url``: ``(r"/old/(.*)", RedirectHandler, {"url": "/new/{0}"})``.

    Args (the rule's kwargs):
        url: the target, a ``str.format`` template filled with the rule's groups
            (``{0}``, ``{1}`` … or ``{name}`` for named groups).
        permanent: 301 (default, as Tornado) or, when False, 302.

    The request's query string is kept (added to the target's own query). A substitution
    that would send the client to another scheme or host is refused with a 400 (see the
    module docstring).

    .. versionadded:: 0.2.0
    """

    def initialize(self, url: str, permanent: bool = True) -> None:
        self._url = url
        self._permanent = permanent

    def get(self, *args: Any, **kwargs: Any) -> None:
        """Answer 301 (or 302) with ``Location`` the formatted target."""
        target = self._url.format(*args, **kwargs)
        # The part of the template before its first substitution decides scheme and host.
        fixed = ""
        substituted = False
        for literal, field, _spec, _conversion in string.Formatter().parse(self._url):
            fixed += literal
            if field is not None:
                substituted = True
                break
        try:
            if self.request.query_arguments:
                target = _with_query(target, self.request)
            scheme, host = _scheme_and_host(fixed)
            same_site = _scheme_and_host(target) == (scheme, host)
            if substituted and scheme in ("http", "https") and not host:
                # "https://{0}": the host would come from the client.
                same_site = False
        except ValueError:
            same_site = False
        if not same_site:
            raise HTTPError(400, reason="Redirect URL cannot change the scheme or host")
        if _NOT_IN_A_HEADER.search(target):
            raise HTTPError(400, reason="Redirect URL contains control characters")
        self.redirect(target, permanent=self._permanent)


def removeslash(method: _M) -> _M:
    """Decorate a handler method so ``/foo/`` redirects (301) to ``/foo``.

    GET and HEAD are redirected, the query string kept; other methods on a path ending in
    ``/`` are a 404 (a body cannot follow a redirect). ``/`` itself is served. Use it with
    a pattern that accepts both forms (``r"/foo/*"``).

    .. versionadded:: 0.2.0
    """

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Awaitable[None] | None:
        path = self.request.path
        if path.endswith("/"):
            if self.request.method not in ("GET", "HEAD"):
                raise HTTPError(404)
            target = path.rstrip("/")
            if _names_a_host(target):
                raise HTTPError(403, "cannot redirect path with two initial slashes")
            if target:
                if self.request.query:
                    target += "?" + self.request.query
                self.redirect(target, permanent=True)
                return None
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def addslash(method: _M) -> _M:
    """Decorate a handler method so ``/foo`` redirects (301) to ``/foo/``.

    GET and HEAD are redirected, the query string kept; other methods on a path without
    the final ``/`` are a 404. Use it with a pattern that accepts both forms
    (``r"/foo/?"``).

    .. versionadded:: 0.2.0
    """

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Awaitable[None] | None:
        path = self.request.path
        if not path.endswith("/"):
            if self.request.method not in ("GET", "HEAD"):
                raise HTTPError(404)
            target = path + "/"
            if _names_a_host(target):
                raise HTTPError(403, "cannot redirect path with two initial slashes")
            if self.request.query:
                target += "?" + self.request.query
            self.redirect(target, permanent=True)
            return None
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
