"""``websocket_connect(HTTPRequest(...))``: Tornado's other way to give the URL.

Tornado code passes an ``HTTPRequest`` when the opening handshake needs headers (a session
cookie, ``Authorization``) or TLS settings. squall-websocket does not depend on
squall-httpclient, so the request is read by its attribute names (squall's and Tornado's
``HTTPRequest`` both fit): the fields a WebSocket handshake can use are honoured, and a
field it cannot honour is refused by name, never dropped in silence.
"""

from __future__ import annotations

import ssl as _ssl
from typing import Any

__all__ = ["UnsupportedRequestField", "from_request"]

# Fields that mean nothing for an opening handshake, or that squall's client does not do;
# each is refused when set to anything but its "not given" value.
_REFUSED: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("auth_username", (None,)),
    ("client_cert", (None,)),
    ("client_key", (None,)),
    ("ssl_options", (None,)),
    ("proxy_host", (None,)),
    ("network_interface", (None,)),
    ("body", (None, b"")),
    ("body_producer", (None,)),
    ("streaming_callback", (None,)),
    ("header_callback", (None,)),
)


class UnsupportedRequestField(ValueError):
    """An ``HTTPRequest`` given to ``websocket_connect`` sets a field it cannot honour."""

    def __init__(self, field: str) -> None:
        super().__init__(
            f"websocket_connect cannot honour HTTPRequest.{field}: leave it unset "
            "(headers, connect_timeout, validate_cert, ca_certs and user_agent are honoured)"
        )
        self.field = field


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    get_all = getattr(headers, "get_all", None)
    if callable(get_all):  # HTTPHeaders: keep every value of a repeated header
        return [(str(k), str(v)) for k, v in get_all()]
    return [(str(k), str(v)) for k, v in headers.items()]


def from_request(
    request: Any,
    headers: Any,
    connect_timeout: float | None,
    ssl: _ssl.SSLContext | bool | None,
) -> tuple[str, list[tuple[str, str]], float | None, _ssl.SSLContext | bool | None]:
    """Read an ``HTTPRequest``: its URL, headers, timeout and TLS settings.

    Args:
        request: any object with a ``url`` (str) and optional ``headers``,
            ``connect_timeout``, ``validate_cert``, ``ca_certs``, ``user_agent``.
        headers: the ``headers=`` argument, added after the request's own.
        connect_timeout: the ``connect_timeout=`` argument (the request's wins when set).
        ssl: the ``ssl=`` argument (a context given there wins over the request's fields).

    Returns:
        ``(url, header pairs, connect_timeout, ssl)`` for the plain-URL path.

    Raises:
        TypeError: ``request`` has no ``url`` string.
        UnsupportedRequestField: the request sets a field a handshake cannot honour.
    """
    url = getattr(request, "url", None)
    if not isinstance(url, str):
        raise TypeError(
            f"websocket_connect takes a URL string or an HTTPRequest, not {type(request).__name__}"
        )
    for field, unset in _REFUSED:
        if getattr(request, field, None) not in unset:
            raise UnsupportedRequestField(field)
    pairs = _header_pairs(getattr(request, "headers", None))
    user_agent = getattr(request, "user_agent", None)
    if user_agent and not any(k.lower() == "user-agent" for k, _ in pairs):
        pairs.append(("User-Agent", str(user_agent)))
    if headers is not None:
        pairs += _header_pairs(headers) if hasattr(headers, "items") else list(headers)
    timeout = getattr(request, "connect_timeout", None)
    if timeout is not None:
        connect_timeout = float(timeout) or None  # 0: no limit, as in HTTPRequest
    if not isinstance(ssl, _ssl.SSLContext):
        ca_certs = getattr(request, "ca_certs", None)
        if getattr(request, "validate_cert", None) is False:
            ctx = _ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = _ssl.CERT_NONE
            ssl = ctx
        elif ca_certs is not None:
            ssl = _ssl.create_default_context(cafile=ca_certs)
    return url, pairs, connect_timeout, ssl
