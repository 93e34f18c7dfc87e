"""After a connection is lost: unlinking asyncio's transport from itself.

asyncio's selector transport keeps a bound method of itself until ``close()`` runs, which
an aborted or failed connection never reaches: ``unlink_transport`` breaks that cycle once
the connection is lost, so the connection is freed by reference counting. (How a request
ends early, the client's FIN or an abort, is the protocol's own: see ``_protocol.py``.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["unlink_transport"]


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
