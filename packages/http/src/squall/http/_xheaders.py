"""``xheaders=True``: the client address and scheme as told by a trusted reverse proxy.

Rules (as Tornado, validated):

- ``remote_ip``: ``X-Real-IP`` when present, else the last address of ``X-Forwarded-For``
  that is not in ``trusted_downstream`` (each proxy appends the address it saw, so the
  rightmost untrusted hop is the first one we cannot dismiss as ours); when every hop is
  trusted, the leftmost, the furthest party known (the socket peer is only the nearest
  proxy). The candidate must parse with ``ipaddress``: a malformed value is ignored and
  the socket address kept.
- ``protocol``: the last value of ``X-Scheme``, else of ``X-Forwarded-Proto``, when it is
  ``http`` or ``https``; anything else is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection

from squall.http._headers import HTTPHeaders

__all__ = ["is_valid_ip", "xheaders_ip", "xheaders_protocol"]


def is_valid_ip(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address (no port, no brackets, no zone junk)."""
    if not value or len(value) > 64 or "\x00" in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def xheaders_ip(headers: HTTPHeaders, remote_ip: str, trusted: Collection[str]) -> str:
    """Return the client address from proxy headers, or ``remote_ip`` when none is valid."""
    real = headers.get("X-Real-Ip")
    if real is not None:
        real = real.strip()
        return real if is_valid_ip(real) else remote_ip
    forwarded = headers.get_list("X-Forwarded-For")
    if not forwarded:
        return remote_ip
    hops = [h.strip() for value in forwarded for h in value.split(",")]
    for hop in reversed(hops):
        if hop and hop not in trusted:
            return hop if is_valid_ip(hop) else remote_ip
    first = hops[0]
    return first if is_valid_ip(first) else remote_ip


def xheaders_protocol(headers: HTTPHeaders, protocol: str) -> str:
    """Return ``http``/``https`` from ``X-Scheme`` or ``X-Forwarded-Proto``, else ``protocol``."""
    value = headers.get("X-Scheme")
    if value is None:
        value = headers.get("X-Forwarded-Proto")
    if value is None:
        return protocol
    value = value.split(",")[-1].strip().lower()
    return value if value in ("http", "https") else protocol
