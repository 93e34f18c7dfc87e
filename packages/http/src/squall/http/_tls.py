"""TLS for HTTPServer: ``ssl_options`` as an ``SSLContext`` or Tornado's dict form.

The TLS handshake is driven by ``loop.start_tls`` from a small accepting protocol rather
than by ``create_server(ssl=...)``. Why: with ``create_server(ssl=...)`` a failed handshake
(a client speaking plain HTTP to the TLS port, a scanner, an expired client) never reaches
our code, so it could not be logged once, with the peer address and without a traceback,
as the issue asks. Here the failure is an exception we catch.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["TLSAcceptProtocol", "ssl_context_from_options"]

log: Final = logging.getLogger("squall.http")

_PEER_GONE: Final = (
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    ssl.SSLEOFError,
)
"""What the handshake raises when the client went away (not a TLS failure to report)."""

_EARLY_MAX: Final = 64 * 1024
"""Bytes kept from before the handshake task runs (a ClientHello is a few hundred bytes)."""

_DICT_KEYS: Final = frozenset(
    {"ssl_version", "certfile", "keyfile", "cert_reqs", "ca_certs", "ciphers", "password"}
)


def ssl_context_from_options(options: ssl.SSLContext | Mapping[str, Any]) -> ssl.SSLContext:
    """Return a server ``SSLContext`` for ``ssl_options``.

    The dict form takes Tornado's keys: ``certfile`` (required), ``keyfile``, ``password``,
    ``cert_reqs``, ``ca_certs``, ``ciphers``, ``ssl_version``.

    Raises:
        ValueError: an unknown key, or no ``certfile``.
    """
    if isinstance(options, ssl.SSLContext):
        return options
    unknown = set(options) - _DICT_KEYS
    if unknown:
        raise ValueError(f"unknown ssl_options keys: {sorted(unknown)}")
    if "certfile" not in options:
        raise ValueError("ssl_options needs a 'certfile'")
    protocol = options.get("ssl_version", ssl.PROTOCOL_TLS_SERVER)
    if protocol == getattr(ssl, "PROTOCOL_SSLv23", None):
        protocol = ssl.PROTOCOL_TLS_SERVER  # Tornado's old default means "negotiate"
    ctx = ssl.SSLContext(protocol)
    ctx.load_cert_chain(options["certfile"], options.get("keyfile"), options.get("password"))
    if "cert_reqs" in options:
        ctx.verify_mode = options["cert_reqs"]
    if "ca_certs" in options:
        ctx.load_verify_locations(options["ca_certs"])
    if "ciphers" in options:
        ctx.set_ciphers(options["ciphers"])
    return ctx


class _Handover(asyncio.Protocol):
    """Holds what the TLS layer delivers between the handshake and the HTTP protocol taking over.

    ``start_tls`` may pass decrypted data (a request sent right behind the handshake) to
    its protocol before the awaiting task resumes, so the HTTP protocol is only attached
    once it has its transport: nothing is lost and nothing arrives out of order.
    """

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.eof = False
        self.lost = False
        self.exc: Exception | None = None

    def data_received(self, data: bytes) -> None:  # noqa: D102
        self.data.append(data)

    def eof_received(self) -> bool | None:  # noqa: D102
        self.eof = True
        return None

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self.lost = True
        self.exc = exc


class TLSAcceptProtocol(asyncio.Protocol):
    """Accepts a TCP connection, runs the TLS handshake, then hands over to HTTP.

    ``make_protocol()`` builds the HTTP protocol that receives the TLS transport.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        context: ssl.SSLContext,
        make_protocol: Callable[[], asyncio.Protocol],
        handshake_timeout: float | None,
    ) -> None:
        self._loop = loop
        self._context = context
        self._make_protocol = make_protocol
        self._handshake_timeout = handshake_timeout
        self._task: asyncio.Task[None] | None = None
        self._early = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        self._task = self._loop.create_task(self._handshake(transport))  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:  # noqa: D102
        # uvloop starts reading as soon as connection_made() returns, before the handshake
        # task's first step: a ClientHello (or a plain-HTTP request) already in the socket
        # lands here. Dropped, it would stall the handshake until its timeout (60 s): keep
        # it for the TLS protocol (_replay). start_tls pauses reading at once, so little
        # comes; the cap only guards against a misbehaving transport.
        if len(self._early) < _EARLY_MAX:
            self._early += data

    def _replay(self, transport: asyncio.Transport) -> None:
        """Give the bytes read before the handshake began to the TLS protocol.

        Scheduled just before ``start_tls`` is called, so it runs after start_tls has put
        its TLS protocol on the transport (and paused reading) but before that protocol's
        ``connection_made`` starts the handshake: the bytes wait in its incoming buffer,
        ahead of anything read later, so the stream stays in order.
        """
        data, self._early = bytes(self._early), bytearray()
        protocol = transport.get_protocol()
        if not data or protocol is self:
            return
        # asyncio's and uvloop's TLS protocols are buffered protocols (get_buffer and
        # buffer_updated); uvloop's is a Cython class, so duck typing rather than isinstance.
        get_buffer = getattr(protocol, "get_buffer", None)
        buffer_updated = getattr(protocol, "buffer_updated", None)
        if get_buffer is None or buffer_updated is None:  # pragma: no cover
            protocol.data_received(data)  # type: ignore[attr-defined]
            return
        view = memoryview(data)
        while view:
            buf = get_buffer(len(view))
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            buffer_updated(n)
            view = view[n:]

    async def _handshake(self, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        shown = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        handover = _Handover()
        if self._early:
            self._loop.call_soon(self._replay, transport)
        try:
            tls_transport = await self._loop.start_tls(
                transport,
                handover,
                self._context,
                server_side=True,
                ssl_handshake_timeout=self._handshake_timeout,
            )
        except _PEER_GONE as exc:
            # A load balancer's TCP health check or a port scanner connects and leaves
            # without a handshake: routine, so not a warning (Tornado is silent here too).
            log.debug("%s: closed by the peer during the TLS handshake (%r)", shown, exc)
            transport.abort()
            return
        except (TimeoutError, OSError, EOFError, ConnectionError) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            log.warning("%s: TLS handshake failed: %s", shown, reason)
            transport.abort()
            return
        except asyncio.CancelledError:
            transport.abort()
            raise
        if tls_transport is None:  # pragma: no cover - closed during the handshake
            transport.abort()
            return
        protocol = self._make_protocol()
        tls_transport.set_protocol(protocol)
        protocol.connection_made(tls_transport)
        for data in handover.data:
            protocol.data_received(data)
        if handover.lost:
            protocol.connection_lost(handover.exc)
        elif handover.eof:
            protocol.eof_received()
