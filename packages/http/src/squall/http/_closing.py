"""How a request ends early: the client's FIN, a lost connection, our own abort.

Methods of ``HTTPProtocol`` kept in their own module (off the hot path of a request that
completes normally), bound in the class body as the body-reading ones are.

A FIN after a complete request is ambiguous: the client may be gone (``close()``) or only
done sending (``shutdown(SHUT_WR)``, ``nc -N``). So the application is told at once
(``on_connection_close``, the connection's close callback, ``connection.closed``), yet the
connection stays half-open over plain TCP so that an answer it still writes goes out; it
closes after that response and no further request is read. asyncio's TLS transport cannot
stay half-open, so there the answer is lost (the application is still told).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from squall.http._connection import HTTPConnection
    from squall.http._protocol import HTTPProtocol

__all__ = ["abort_current", "eof_received", "notify_close", "unlink_transport"]

log: Final = logging.getLogger("squall.http")


def eof_received(self: HTTPProtocol) -> bool | None:
    """The client sent FIN (see the module docstring)."""
    self._eof = True
    conn = self._current
    if conn is not None and not self._reading_body:
        # After a complete request: gone or only done sending (module docstring). Tell
        # the application, then stay half-open for its answer; asyncio's TLS transport
        # shuts down on EOF or close_notify whatever we return.
        self._notify_close(conn, self._delegate)
        return None if self._scheme_is_tls() else True
    if self._reading_body and self._flow_paused and not self._scheme_is_tls():
        # A streaming handler paused reading: the rest of the body may sit in the
        # parser's buffer. Finish it first; _process ends the connection if the body
        # turns out incomplete.
        return True
    if (self._parser.in_progress or self._reading_body) and not self._discarding:
        log.warning("%s: client disconnected mid-request", self._peer)
        self._abort_current()
    return None


def _no_read() -> None:
    """Stands in for a closed transport's read callback (never called: its reader is gone)."""


def _no_write() -> None:
    """Stands in for a closed transport's write callback (never called: its writer is gone)."""


def unlink_transport(transport: Any) -> None:
    """Break the reference cycle asyncio's selector transport keeps with itself.

    ``_SelectorSocketTransport`` stores a bound method of itself (``_read_ready_cb``; from
    CPython 3.12 also ``_write_ready``) and drops them only in ``close()``, not when the
    connection is aborted or fails (3.11 never drops the first), so every such closed
    connection (transport, socket,
    the loop's weak reference to it) waited for the cyclic garbage collector, which let
    memory grow between full collections under load. Once ``connection_lost`` runs the
    transport's reader is removed, so the callback is never called again and a function
    holding no reference replaces it. Other transports (uvloop's, asyncio's TLS wrapper)
    have no such attribute and are left alone (under asyncio TLS the socket transport
    beneath the wrapper keeps its cycle: it is asyncio's, out of our reach).
    """
    attrs = getattr(transport, "__dict__", {})
    if attrs.get("_read_ready_cb") is not None:
        transport._read_ready_cb = _no_read
    if attrs.get("_write_ready") is not None:
        transport._write_ready = _no_write


def abort_current(self: HTTPProtocol) -> None:
    """Tell the in-flight request's delegate that its connection is gone."""
    if self._collector is not None:
        self._collector.close()
        self._collector = None
    conn = self._current
    delegate = self._delegate
    self._current = None
    self._request = None
    self._delegate = None
    self._reading_body = False
    if conn is not None and not conn.finished:
        self._notify_close(conn, delegate)


def notify_close(self: HTTPProtocol, conn: HTTPConnection, delegate: Any) -> None:
    """Tell the application (once per request) that the client left before the end."""
    if conn._close_notified:
        return
    conn._close_notified = True
    callback = conn._close_callback
    if callback is not None:
        conn._close_callback = None
        try:
            callback()
        except Exception:
            log.error("%s: error in a close callback", self._peer, exc_info=True)
    on_close = getattr(delegate, "on_connection_close", None) if delegate else None
    if on_close is not None:
        try:
            on_close()
        except Exception:
            log.error("%s: error in on_connection_close", self._peer, exc_info=True)
