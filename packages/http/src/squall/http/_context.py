"""ServerContext: what every connection of one ``HTTPServer`` shares.

Settings (the request callback or delegate factory, limits, proxy headers, keep-alive,
decompression, scheme), the set of live connections (for graceful shutdown, which sees
them only as ``LiveConnection``), the shutdown flag responses read, and the one receive
buffer asyncio's loops read into (see ``BufferedHTTPProtocol``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol

from squall.http._limits import HTTPLimits
from squall.http._request import HTTPServerRequest

__all__ = ["LiveConnection", "ServerContext"]


class LiveConnection(Protocol):
    """What the server does with an open connection (``HTTPProtocol`` is one)."""

    @property
    def idle(self) -> bool:
        """Whether no request is in progress on this connection."""

    def close_if_idle(self) -> bool:
        """Close now when no request is in progress; return whether it did."""

    def abort(self) -> None:
        """Close at once, dropping unsent data."""


class ServerContext:
    """What every connection of one ``HTTPServer`` shares (settings and live connections)."""

    __slots__ = (
        "callback",
        "factory",
        "limits",
        "xheaders",
        "trusted_downstream",
        "no_keep_alive",
        "decompress",
        "connections",
        "shutting_down",
        "scheme",
        "read_buffer",
    )

    def __init__(
        self,
        request_callback: Any,
        limits: HTTPLimits,
        *,
        xheaders: bool = False,
        trusted_downstream: Collection[str] | None = None,
        no_keep_alive: bool = False,
        decompress: bool = False,
        scheme: str = "http",
    ) -> None:
        if hasattr(request_callback, "start_request"):
            self.factory: Any = request_callback
            self.callback: Callable[[HTTPServerRequest], Any] | None = None
        else:
            self.factory = None
            self.callback = request_callback
        self.limits = limits
        self.xheaders = xheaders
        self.trusted_downstream: Collection[str] = frozenset(trusted_downstream or ())
        self.no_keep_alive = no_keep_alive
        self.decompress = decompress
        self.connections: set[LiveConnection] = set()
        self.shutting_down = False
        # One receive buffer for all of this server's connections on asyncio's loops (they
        # share the loop, and each read is copied out before anything else runs); made on
        # first use, see BufferedHTTPProtocol.
        self.read_buffer: memoryview | None = None
        self.scheme = scheme
