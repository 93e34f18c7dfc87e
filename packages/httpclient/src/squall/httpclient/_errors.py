"""The errors of squall.httpclient (Tornado's names, so ``except`` clauses port as they are).

::

    HTTPClientError (alias HTTPError)   a request ended without a 2xx answer
    ├── HTTPTimeoutError                no answer in time (code 599)
    └── HTTPStreamClosedError           the connection closed before the answer (code 599)
    UnsupportedOptionError (ValueError) an HTTPRequest field or client option squall cannot honour
    └── CurlClientUnavailableError      configure() named Tornado's curl client (also an
                                        ImportError, as Tornado's without pycurl)

Other failures to reach the server are raised as the ``OSError`` behind them
(``ConnectionRefusedError``, ``socket.gaierror``, ``ssl.SSLCertVerificationError``), as
Tornado's own client raises them; the ``HTTPResponse`` they belong to has code 599.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from squall.http import responses

if TYPE_CHECKING:
    from squall.httpclient._response import HTTPResponse

__all__ = [
    "HTTPClientError",
    "HTTPError",
    "HTTPStreamClosedError",
    "HTTPTimeoutError",
    "CurlClientUnavailableError",
    "UnsupportedOptionError",
]


class HTTPClientError(Exception):
    """A fetch that did not end with a 2xx answer.

    Raised by ``fetch`` for a non-2xx status unless ``raise_error=False`` (then the
    response carries it as ``response.error``), and, whatever ``raise_error`` says, as
    one of its 599 subclasses when no answer came. With ``follow_redirects=False`` a
    redirect is one too: ``error.response.headers["Location"]`` says where it points.

    Attributes:
        code: the HTTP status; 599 when no answer was received (a timeout).
        message: the reason phrase, or what went wrong.
        response: the ``HTTPResponse``, when there is one.
    """

    def __init__(
        self, code: int, message: str | None = None, response: HTTPResponse | None = None
    ) -> None:
        self.code = code
        self.message = message or responses.get(code, "Unknown")
        self.response = response
        super().__init__(code, message, response)

    def __str__(self) -> str:
        return f"HTTP {self.code}: {self.message}"

    # The response refers back to this error: the default repr would recurse through it.
    __repr__ = __str__


HTTPError = HTTPClientError
"""Tornado's older name of :class:`HTTPClientError` (kept as an alias, as Tornado does)."""


class HTTPTimeoutError(HTTPClientError):
    """No answer in time: waiting for a ``max_clients`` slot, connecting, or the whole request.

    The message says which (``Timeout in request queue``, ``Timeout while connecting``,
    ``Timeout during request``). Its code is 599, as in Tornado.
    """

    def __init__(self, message: str) -> None:
        super().__init__(599, message=message)

    def __str__(self) -> str:
        return self.message or "Timeout"


class HTTPStreamClosedError(HTTPClientError):
    """The server closed the connection (or broke HTTP) before the answer was complete.

    Its code is 599, as in Tornado.
    """

    def __init__(self, message: str) -> None:
        super().__init__(599, message=message)

    def __str__(self) -> str:
        return self.message or "Stream closed"


class UnsupportedOptionError(ValueError):
    """An ``HTTPRequest`` field or ``AsyncHTTPClient`` option that squall cannot honour.

    Raised where the value comes in (``HTTPRequest(...)``, ``configure(...)``, or
    ``fetch`` for values set later or through ``defaults``), naming the option, rather
    than accepting a setting and ignoring it.

    Attributes:
        option: the name of the refused field or option.
    """

    def __init__(self, option: str, why: str) -> None:
        super().__init__(f"{option}: {why}")
        self.option = option


class CurlClientUnavailableError(UnsupportedOptionError, ImportError):
    """``AsyncHTTPClient.configure`` named Tornado's ``CurlAsyncHTTPClient``.

    squall has one client, on httpx. Also an ``ImportError``, what Tornado raises when
    pycurl is missing, so the usual fallback
    ``try: configure(curl) except ImportError: configure(simple)`` takes its second branch.
    """
