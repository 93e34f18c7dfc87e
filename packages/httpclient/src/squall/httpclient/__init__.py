"""squall.httpclient: Tornado's HTTP client API, on httpx.

``tornado.httpclient`` in squall form: a program moves by renaming the import::

    from squall.httpclient import AsyncHTTPClient

    async def main():
        response = await AsyncHTTPClient().fetch("http://127.0.0.1:8888/")
        print(response.code, response.body)

A package of its own, so that an application that makes no HTTP requests does not
install httpx.
"""

from __future__ import annotations

from squall.httpclient._client import AsyncHTTPClient, HTTPClient
from squall.httpclient._errors import (
    CurlClientUnavailableError,
    HTTPClientError,
    HTTPError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    UnsupportedOptionError,
)
from squall.httpclient._main import main
from squall.httpclient._request import HTTPRequest
from squall.httpclient._response import HTTPResponse
from squall.httpclient._version import __version__

__all__ = [
    "AsyncHTTPClient",
    "CurlClientUnavailableError",
    "HTTPClient",
    "HTTPClientError",
    "HTTPError",
    "HTTPRequest",
    "HTTPResponse",
    "HTTPStreamClosedError",
    "HTTPTimeoutError",
    "UnsupportedOptionError",
    "__version__",
    "main",
]
