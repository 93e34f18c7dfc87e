"""``HTTPRequest``: everything one fetch needs, with Tornado's fields and defaults.

A field left at None takes the client's default (``AsyncHTTPClient(defaults=...)``,
``configure(defaults=...)``) and then Tornado's (``DEFAULTS``): :class:`RequestSettings`
is that merge, made once per fetch. The fields squall cannot honour are refused by name
(:class:`UnsupportedOptionError`) both here, where a caller sets them, and at fetch time,
where defaults and later assignments are merged in.
"""

from __future__ import annotations

import calendar
import datetime
import email.utils
import ipaddress
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from squall.http import HTTPHeaders
from squall.httpclient._errors import UnsupportedOptionError

__all__ = ["DEFAULTS", "HTTPRequest", "RequestSettings", "check_supported"]

StreamingCallback = Callable[[bytes], Awaitable[None] | None]
BodyProducer = Callable[[Callable[[bytes], Awaitable[None]]], Awaitable[None]]

# Tornado's defaults for the fields a request leaves at None.
DEFAULTS: dict[str, Any] = {
    "connect_timeout": 20.0,
    "request_timeout": 20.0,
    "follow_redirects": True,
    "max_redirects": 5,
    "decompress_response": True,
    "proxy_password": "",
    "allow_nonstandard_methods": False,
    "validate_cert": True,
}

# Every field of HTTPRequest that a client default may fill.
FIELDS = (
    "url method headers body body_producer auth_username auth_password auth_mode "
    "connect_timeout request_timeout follow_redirects max_redirects user_agent "
    "decompress_response network_interface streaming_callback header_callback "
    "prepare_curl_callback proxy_host proxy_port proxy_username proxy_password "
    "proxy_auth_mode allow_nonstandard_methods validate_cert ca_certs allow_ipv6 "
    "client_key client_cert ssl_options expect_100_continue"
).split()


def check_supported(get: Callable[[str], Any], *, merged: bool) -> None:
    """Refuse, by name, the values squall's client cannot honour.

    Args:
        get: returns the value of a field (the request's, or the merged one).
        merged: the values include the client's defaults (at fetch time).

    Raises:
        UnsupportedOptionError: the first field squall cannot honour.
        ValueError: a value no client could use (Tornado's messages).
    """
    if get("prepare_curl_callback") is not None:
        raise UnsupportedOptionError(
            "prepare_curl_callback", "squall's client runs on httpx, not pycurl"
        )
    if get("expect_100_continue"):
        raise UnsupportedOptionError(
            "expect_100_continue",
            "httpx sends the body without waiting for 100 Continue; send the request without it",
        )
    if get("auth_mode") not in (None, "basic", "digest"):
        raise ValueError(f"unsupported auth_mode {get('auth_mode')}")
    if get("proxy_auth_mode") not in (None, "basic"):
        raise UnsupportedOptionError(
            "proxy_auth_mode", f"{get('proxy_auth_mode')!r}: only 'basic' is supported"
        )
    interface = get("network_interface")
    if interface:
        try:
            ipaddress.ip_address(interface)
        except ValueError:
            raise UnsupportedOptionError(
                "network_interface",
                f"{interface!r} is not an IP address (interface names are not supported: "
                "give the local address to send from)",
            ) from None
    if get("body") is not None and get("body_producer") is not None:
        raise ValueError("only one of body and body_producer may be given")
    if merged:
        # Checked once the client's defaults are in: either half may come from them.
        if (get("proxy_host") is None) != (get("proxy_port") is None):
            raise UnsupportedOptionError(
                "proxy_host", "a proxy needs both proxy_host and proxy_port"
            )
        if get("client_key") is not None and get("client_cert") is None:
            raise UnsupportedOptionError("client_key", "a client key needs client_cert")
    options = get("ssl_options")
    if options is not None and not isinstance(options, ssl.SSLContext | Mapping):
        raise UnsupportedOptionError("ssl_options", "give an ssl.SSLContext or a dict")


def format_http_date(when: float | datetime.datetime) -> str:
    """An HTTP date (``Wed, 21 Oct 2015 07:28:00 GMT``); a naive datetime is taken as UTC."""
    if isinstance(when, datetime.datetime):
        when = calendar.timegm(when.utctimetuple())
    return email.utils.formatdate(when, usegmt=True)


class HTTPRequest:
    """One HTTP request for :meth:`AsyncHTTPClient.fetch` (Tornado's ``HTTPRequest``).

    Every argument but ``url`` is optional; None means "the client's default". Times are
    seconds (0: no limit).

    Args:
        url: the URL to fetch (``http`` or ``https``; userinfo becomes basic auth).
        method: ``GET``, ``POST``... others need ``allow_nonstandard_methods``.
        headers: a dict or ``HTTPHeaders`` (copied at fetch time).
        body: ``str`` (sent as UTF-8) or ``bytes``.
        body_producer: ``producer(write)`` returning an awaitable, for a streamed body;
            ``write(chunk)`` returns an awaitable that completes once the chunk is sent.
            Without a ``Content-Length`` header the body is sent chunked.
        auth_username, auth_password: credentials; ``auth_mode`` ``"basic"`` (default)
            or ``"digest"``.
        connect_timeout: to connect (TCP and TLS). Default 20.
        request_timeout: for the whole request, connecting included. Default 20.
        if_modified_since: a timestamp or datetime, sent as ``If-Modified-Since``.
        follow_redirects: follow 301, 302, 303, 307 and 308 (default True), at most
            ``max_redirects`` (default 5) times; the last 3xx is the answer after that.
        user_agent: the ``User-Agent`` header.
        decompress_response: ask for gzip and decompress it (default True); ``use_gzip``
            is its older name.
        network_interface: the local IP address to connect from.
        streaming_callback: called with each piece of the body as it arrives (it may
            return an awaitable: the next piece waits for it); the response's body is
            then empty.
        header_callback: called with each line of the head as it arrives: the status
            line, each header line, and a last ``"\\r\\n"``, each ending with ``\\r\\n``.
        prepare_curl_callback: refused (there is no pycurl).
        proxy_host, proxy_port: an HTTP proxy (``CONNECT`` tunnels for https);
            ``proxy_username`` / ``proxy_password`` for its basic authentication
            (``proxy_auth_mode`` ``"basic"``; digest is refused).
        allow_nonstandard_methods: allow any method, and a body on any method.
        validate_cert: check the server's certificate and name (default True).
        ca_certs: a PEM file of the CAs to trust instead of the system's.
        allow_ipv6: False connects over IPv4 only.
        client_key, client_cert: a client certificate (PEM files).
        ssl_options: an ``ssl.SSLContext`` (or Tornado's dict: ``certfile``, ``keyfile``,
            ``cert_reqs``, ``ca_certs``, ``ciphers``) that overrides the four above.
        expect_100_continue: refused (httpx does not wait for 100 Continue).
        decompress_response: see above.

    Raises:
        UnsupportedOptionError: a field squall cannot honour, named.
    """

    def __init__(
        self,
        url: str,
        method: str = "GET",
        headers: Mapping[str, str] | HTTPHeaders | None = None,
        body: bytes | str | None = None,
        auth_username: str | None = None,
        auth_password: str | None = None,
        auth_mode: str | None = None,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        if_modified_since: float | datetime.datetime | None = None,
        follow_redirects: bool | None = None,
        max_redirects: int | None = None,
        user_agent: str | None = None,
        use_gzip: bool | None = None,
        network_interface: str | None = None,
        streaming_callback: StreamingCallback | None = None,
        header_callback: Callable[[str], None] | None = None,
        prepare_curl_callback: Callable[[Any], None] | None = None,
        proxy_host: str | None = None,
        proxy_port: int | None = None,
        proxy_username: str | None = None,
        proxy_password: str | None = None,
        proxy_auth_mode: str | None = None,
        allow_nonstandard_methods: bool | None = None,
        validate_cert: bool | None = None,
        ca_certs: str | None = None,
        allow_ipv6: bool | None = None,
        client_key: str | None = None,
        client_cert: str | None = None,
        body_producer: BodyProducer | None = None,
        expect_100_continue: bool = False,
        decompress_response: bool | None = None,
        ssl_options: Mapping[str, Any] | ssl.SSLContext | None = None,
    ) -> None:
        self.headers = headers
        if if_modified_since:
            self.headers["If-Modified-Since"] = format_http_date(if_modified_since)
        self.url = url
        self.method = method
        self.body = body
        self.body_producer = body_producer
        self.auth_username = auth_username
        self.auth_password = auth_password
        self.auth_mode = auth_mode
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.decompress_response = (
            decompress_response if decompress_response is not None else use_gzip
        )
        self.network_interface = network_interface
        self.streaming_callback = streaming_callback
        self.header_callback = header_callback
        self.prepare_curl_callback = prepare_curl_callback
        self.proxy_host = proxy_host
        self.proxy_port = proxy_port
        self.proxy_username = proxy_username
        self.proxy_password = proxy_password
        self.proxy_auth_mode = proxy_auth_mode
        self.allow_nonstandard_methods = allow_nonstandard_methods
        self.validate_cert = validate_cert
        self.ca_certs = ca_certs
        self.allow_ipv6 = allow_ipv6
        self.client_key = client_key
        self.client_cert = client_cert
        self.ssl_options = ssl_options
        self.expect_100_continue = expect_100_continue
        self.start_time = time.time()
        check_supported(lambda name: getattr(self, name), merged=False)

    @property
    def headers(self) -> HTTPHeaders:
        """The request's headers (a dict given to the constructor becomes ``HTTPHeaders``)."""
        return self._headers

    @headers.setter
    def headers(self, value: Mapping[str, str] | HTTPHeaders | None) -> None:
        if value is None:
            self._headers = HTTPHeaders()
        elif isinstance(value, HTTPHeaders):
            self._headers = value
        else:
            self._headers = HTTPHeaders(value)

    @property
    def body(self) -> bytes | None:
        """The body as bytes (a ``str`` is stored UTF-8 encoded), or None."""
        return self._body

    @body.setter
    def body(self, value: bytes | str | None) -> None:
        self._body = value.encode("utf-8") if isinstance(value, str) else value

    @property
    def use_gzip(self) -> bool | None:
        """Tornado's older name of ``decompress_response``."""
        return self.decompress_response

    @use_gzip.setter
    def use_gzip(self, value: bool | None) -> None:
        self.decompress_response = value

    def __repr__(self) -> str:
        return f"HTTPRequest({self.method} {self.url})"


class RequestSettings:
    """A request's fields merged with the client's defaults: what one fetch uses.

    Attribute access gives the request's value, or else the default's, or None (as
    Tornado's ``_RequestProxy``). ``request`` is the caller's object.
    """

    def __init__(self, request: HTTPRequest, defaults: Mapping[str, Any]) -> None:
        self.request = request
        self._defaults = defaults

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.request, name)
        if value is not None:
            return value
        return self._defaults.get(name)
