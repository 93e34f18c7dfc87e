"""The httpx connection pools of one ``AsyncHTTPClient``.

httpx fixes TLS settings, the proxy and the local address per transport, while Tornado
lets every request choose them. So a client keeps one pool per distinct choice: nearly
every program uses one (the defaults) and pays for no other. Each pool is an
``httpx.AsyncClient`` that keeps no cookies (Tornado's client never sends back what a
server set) and reads no proxy from the environment (Tornado's does not either).
"""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Hashable, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from squall.httpclient._backend import close_on_cancel
from squall.httpclient._errors import UnsupportedOptionError
from squall.httpclient._request import RequestSettings

# httpx logs every request at INFO on its "httpx" logger ("HTTP Request: GET ... 200 OK"),
# and httpcore, below it, about ten DEBUG lines per request (connect, send headers, ...).
# Tornado's client logs nothing per fetch, and a Tornado program's parse_command_line()
# puts the root logger at INFO (logging.basicConfig(level=logging.DEBUG) is common too):
# each fetch would add lines the program never wrote, drowning its own. Unless the
# application already chose a level for these loggers, they are kept to warnings.
for _name in ("httpx", "httpcore"):
    _log = logging.getLogger(_name)
    if _log.level == logging.NOTSET:
        _log.setLevel(logging.WARNING)
del _name, _log

__all__ = ["Pools"]

# Tornado's ssl_options dict (tornado.netutil.ssl_options_to_context), client side.
_SSL_KEYS = frozenset({"ssl_version", "certfile", "keyfile", "cert_reqs", "ca_certs", "ciphers"})


def _context_from_dict(options: Mapping[str, Any]) -> ssl.SSLContext:
    unknown = sorted(set(options) - _SSL_KEYS)
    if unknown:
        raise UnsupportedOptionError(
            "ssl_options", f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_SSL_KEYS))})"
        )
    ctx = ssl.SSLContext(options.get("ssl_version", ssl.PROTOCOL_TLS_CLIENT))
    if "certfile" in options:
        ctx.load_cert_chain(options["certfile"], options.get("keyfile"))
    if "cert_reqs" in options:
        if options["cert_reqs"] == ssl.CERT_NONE:
            ctx.check_hostname = False
        ctx.verify_mode = options["cert_reqs"]
    if "ca_certs" in options:
        ctx.load_verify_locations(options["ca_certs"])
    elif ctx.verify_mode != ssl.CERT_NONE:
        ctx.load_default_certs()
    if "ciphers" in options:
        ctx.set_ciphers(options["ciphers"])
    return ctx


# Loading a trust store costs ~60 ms (load_verify_locations), and every IOLoop gets its own
# pools: a test suite that makes a new loop per test (AsyncHTTPTestCase) paid it per test,
# for plain-http fetches too, where httpx builds a verifying context it never uses. So the
# two contexts every program needs are made once per process and shared; an SSLContext is
# safe to share between loops and threads, and neither is changed after it is made (the
# ALPN list httpcore sets on each connection is the same for every pool).


@functools.cache
def _default_context() -> ssl.SSLContext:
    """The context of a request with default TLS fields: the system's trust store."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)


@functools.cache
def _plain_http_context() -> ssl.SSLContext:
    """Given to pools that only speak plain HTTP, so that httpx builds none of its own.

    It trusts no certificate: were it ever used for TLS, verification would fail closed.
    """
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _context_from_fields(settings: RequestSettings) -> ssl.SSLContext:
    if (
        settings.validate_cert
        and settings.ca_certs is None
        and settings.client_cert is None
        and settings.client_key is None
    ):
        return _default_context()
    # The system's trust store, as Tornado (not httpx's certifi bundle).
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.ca_certs)
    if not settings.validate_cert:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if settings.client_cert is not None:
        ctx.load_cert_chain(settings.client_cert, settings.client_key)
    return ctx


def _tls_key(settings: RequestSettings) -> Hashable:
    options = settings.ssl_options
    if isinstance(options, ssl.SSLContext):
        return ("context", id(options))
    if options is not None:
        return ("dict", tuple(sorted((k, repr(v)) for k, v in options.items())))
    return (
        "fields",
        bool(settings.validate_cert),
        settings.ca_certs,
        settings.client_cert,
        settings.client_key,
    )


def _tls_context(settings: RequestSettings) -> ssl.SSLContext:
    options = settings.ssl_options
    if isinstance(options, ssl.SSLContext):
        return options
    if options is not None:
        return _context_from_dict(options)
    return _context_from_fields(settings)


def _proxy(settings: RequestSettings) -> httpx.Proxy | None:
    if settings.proxy_host is None:
        return None
    auth = None
    if settings.proxy_username is not None:
        auth = (settings.proxy_username, settings.proxy_password or "")
    return httpx.Proxy(f"http://{settings.proxy_host}:{settings.proxy_port}", auth=auth)


def _local_address(settings: RequestSettings) -> str | None:
    if settings.network_interface:
        return str(settings.network_interface)
    if settings.allow_ipv6 is False:
        return "0.0.0.0"  # binding to an IPv4 address makes httpcore connect over IPv4
    return None


RAW_HEADERS = "squall.raw_headers"
"""The key of ``Response.extensions`` holding the headers as received, Location included."""


async def _hide_location(response: httpx.Response) -> None:
    """Keep httpx from parsing a ``Location`` header (squall follows redirects itself).

    Even with ``follow_redirects=False`` httpx builds the next request from a 3xx's
    ``Location``, and a value it cannot parse (``h:5``) failed the whole fetch with
    ``httpx.InvalidURL``. The header is taken out of httpx's view and the headers as
    received are kept for squall under :data:`RAW_HEADERS`.
    """
    if "location" in response.headers:
        response.extensions[RAW_HEADERS] = list(response.headers.raw)
        del response.headers["location"]


class Pools:
    """The pools of one client, created on first use, all closed by :meth:`aclose`.

    Args:
        max_clients: the connections each pool may hold (the client's ``max_clients``).
    """

    def __init__(self, max_clients: int) -> None:
        self._max_clients = max_clients
        self._pools: dict[Hashable, tuple[httpx.AsyncClient, Any]] = {}

    def get(self, settings: RequestSettings, https: bool) -> httpx.AsyncClient:
        """The pool for this request's TLS settings, proxy and local address."""
        proxy = _proxy(settings)
        local = _local_address(settings)
        tls = _tls_key(settings) if https else None
        key = (
            tls,
            None if proxy is None else (str(proxy.url), proxy.raw_auth),
            local,
        )
        entry = self._pools.get(key)
        if entry is None:
            limits = httpx.Limits(
                max_connections=self._max_clients, max_keepalive_connections=self._max_clients
            )
            verify = _tls_context(settings) if https else _plain_http_context()
            transport = httpx.AsyncHTTPTransport(
                verify=verify, limits=limits, proxy=proxy, local_address=local, trust_env=False
            )
            close_on_cancel(transport)  # a timed-out TLS handshake closes its socket
            client = httpx.AsyncClient(
                transport=transport,
                trust_env=False,
                event_hooks={"response": [_hide_location]},
                cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            )
            # The SSLContext given by the caller is kept alive with its pool, so that its
            # id() in the key cannot be reused by another context.
            entry = (client, settings.ssl_options)
            self._pools[key] = entry
        return entry[0]

    def __len__(self) -> int:
        return len(self._pools)

    async def aclose(self) -> None:
        """Close every pool (idempotent); a pool is forgotten once closed."""
        for key in list(self._pools):
            entry = self._pools.get(key)
            if entry is not None:
                await entry[0].aclose()
                self._pools.pop(key, None)
