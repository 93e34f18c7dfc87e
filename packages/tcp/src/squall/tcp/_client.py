"""TCPClient: open a connection and get an IOStream (or SSLIOStream) for it.

Without a custom resolver the connection is asyncio's ``loop.create_connection``, which
resolves through the loop and, for a name with both IPv4 and IPv6 addresses, races them
("Happy Eyeballs", RFC 8305, with Tornado's 0.3 s head start per address). With a
``resolver`` the addresses it gives are tried in order.
"""

from __future__ import annotations

import asyncio
import datetime
import numbers
import socket
import ssl
from collections.abc import Mapping
from typing import Any, Final

from squall.tcp._errors import StreamClosedError
from squall.tcp._iostream import IOStream, SSLIOStream, _StreamProtocol
from squall.tcp._netutil import Resolver, ssl_options_to_context

_HAPPY_EYEBALLS_DELAY: Final = 0.3
"""Tornado's ``_INITIAL_CONNECT_TIMEOUT``: the head start of each address family."""


class TCPClient:
    """Opens TCP connections: ``stream = await TCPClient().connect("example.com", 80)``.

    Args:
        resolver: a :class:`Resolver` for host names (default: the loop's ``getaddrinfo``).
    """

    def __init__(self, resolver: Resolver | None = None) -> None:
        self.resolver = resolver

    def close(self) -> None:
        """Close the resolver given to the constructor."""
        if self.resolver is not None:
            self.resolver.close()

    async def connect(
        self,
        host: str,
        port: int,
        af: socket.AddressFamily = socket.AF_UNSPEC,
        ssl_options: ssl.SSLContext | Mapping[str, Any] | None = None,
        max_buffer_size: int | None = None,
        source_ip: str | None = None,
        source_port: int | None = None,
        timeout: float | datetime.timedelta | None = None,
    ) -> IOStream:
        """Connect to ``host``:``port``; returns a connected stream.

        Args:
            af: ``AF_INET`` or ``AF_INET6`` to use only that family.
            ssl_options: connect over TLS (an ``ssl.SSLContext`` or Tornado's dict, client
                side: certificates are verified against ``ca_certs`` or the system store);
                the stream is then an :class:`SSLIOStream`, handshake done.
            max_buffer_size: the stream's ``max_buffer_size``.
            source_ip, source_port: bind the local end first (a port alone binds it on
                the loopback address, as Tornado does).
            timeout: seconds (or a timedelta) for the whole connection, TLS included.

        Raises:
            StreamClosedError: the connection failed; ``real_error`` is why.
            TimeoutError: ``timeout`` passed first.
        """
        if timeout is None:
            return await self._connect(
                host, port, af, ssl_options, max_buffer_size, source_ip, source_port
            )
        if isinstance(timeout, datetime.timedelta):
            seconds = timeout.total_seconds()
        elif isinstance(timeout, numbers.Real) and not isinstance(timeout, bool):
            seconds = float(timeout)
        else:
            raise TypeError(f"timeout must be seconds or a timedelta, got {timeout!r}")
        try:
            async with asyncio.timeout(seconds):
                return await self._connect(
                    host, port, af, ssl_options, max_buffer_size, source_ip, source_port
                )
        except TimeoutError:
            raise TimeoutError(f"connecting to {host}:{port} timed out after {seconds}s") from None

    async def _connect(
        self,
        host: str,
        port: int,
        af: socket.AddressFamily,
        ssl_options: ssl.SSLContext | Mapping[str, Any] | None,
        max_buffer_size: int | None,
        source_ip: str | None,
        source_port: int | None,
    ) -> IOStream:
        context = ssl_options_to_context(ssl_options, False) if ssl_options is not None else None
        local: tuple[str, int] | None = None
        if source_ip is not None or source_port is not None:
            loopback = "::1" if af == socket.AF_INET6 else "127.0.0.1"
            local = (source_ip or loopback, source_port or 0)
        cls = SSLIOStream if context is not None else IOStream
        stream = cls._for_protocol(max_buffer_size=max_buffer_size)
        loop = stream._loop
        common: dict[str, Any] = {
            "ssl": context,
            "server_hostname": host if context is not None else None,
            "local_addr": local,
        }
        try:
            if self.resolver is None:
                if isinstance(loop, asyncio.BaseEventLoop):
                    # uvloop's create_connection has no Happy Eyeballs (it tries in order).
                    common["happy_eyeballs_delay"] = _HAPPY_EYEBALLS_DELAY
                await loop.create_connection(
                    lambda: _StreamProtocol(stream), host, port, family=af, **common
                )
            else:
                await self._connect_resolved(stream, host, port, af, common)
        except (OSError, ssl.SSLError) as exc:
            stream.close(exc)
            raise StreamClosedError(exc) from exc
        except BaseException:
            stream.close()
            raise
        return stream

    async def _connect_resolved(
        self, stream: IOStream, host: str, port: int, af: socket.AddressFamily, common: Any
    ) -> None:
        assert self.resolver is not None
        addresses = await self.resolver.resolve(host, port, af)
        if not addresses:
            raise OSError(f"{host!r} resolved to no address")
        last: OSError | None = None
        loop = stream._loop
        for family, address in addresses:
            try:
                await loop.create_connection(
                    lambda: _StreamProtocol(stream),
                    address[0],
                    address[1],
                    family=family,
                    **common,
                )
                return
            except OSError as exc:
                last = exc
        assert last is not None
        raise last
