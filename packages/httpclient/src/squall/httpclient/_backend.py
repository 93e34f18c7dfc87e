"""A network backend for httpcore that closes a socket whose TLS handshake is cancelled.

squall.httpclient enforces ``request_timeout`` by cancelling the whole httpx call. When
the cancellation lands in the TLS handshake, httpcore closes the TCP stream only for an
``Exception``, not for ``CancelledError``: the socket stayed open (the server kept a
half-made connection) until garbage collection. Tornado closes it at the timeout. This
wrapper closes it on any way out of the handshake but success.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

__all__ = ["close_on_cancel"]


class _Stream(httpcore.AsyncNetworkStream):
    """Delegates everything; only ``start_tls`` adds the close on cancellation."""

    __slots__ = ("_inner",)

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: D102
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: D102
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:  # noqa: D102
        await self._inner.aclose()

    async def start_tls(  # noqa: D102
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            return await self._inner.start_tls(ssl_context, server_hostname, timeout)
        except BaseException:
            await self._inner.aclose()
            raise

    def get_extra_info(self, info: str) -> Any:  # noqa: D102
        return self._inner.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    """Wraps the streams of another backend in ``_Stream``."""

    __slots__ = ("_inner",)

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(  # noqa: D102
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(  # noqa: D102
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:  # noqa: D102
        await self._inner.sleep(seconds)


def close_on_cancel(transport: Any) -> None:
    """Give ``transport``'s httpcore pool the closing backend (no-op if its layout differs).

    httpx builds its httpcore pool itself and offers no way to pass a network backend, so
    the pool's backend attribute is wrapped after the fact; should a later httpx or
    httpcore lay it out otherwise, the transport is left as it is.
    """
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.AsyncNetworkBackend) and not isinstance(backend, _Backend):
        pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
