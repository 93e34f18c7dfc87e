"""Handing a connection over to another protocol: ``HTTPConnection.upgrade``.

Theory of operation
-------------------
The layer above answers a request with ``101 Switching Protocols`` (RFC 9110 §15.2.2,
§7.8) and takes the transport, as Tornado's ``detach()`` does. Nothing here knows what the
new protocol is (WebSocket, or anything else): the new owner is any object shaped like an
``asyncio.Protocol`` (``connection_made``, ``data_received``, ``eof_received``,
``connection_lost``, ``pause_writing``, ``resume_writing``).

The hand-over, in this order, all inside ``HTTPConnection.upgrade()`` (which first checks
that the response is fresh and the request read whole; ``hand_over`` here does steps 3-4):

1. the head (status line and the caller's headers, nothing added: a 101 has no body, so no
   ``Content-Length``, and ``Connection: Upgrade`` is the caller's to send) goes out in one
   write;
2. the HTTP protocol stops for good (``_detach``, which returns the bytes read after the
   head): it leaves the server's connection set (a graceful shutdown no longer waits for
   it: the owner decides when it ends), its timer (idle, header, body timeouts) is
   cancelled, waiters on its write buffer are released, and reading is resumed if HTTP
   had paused it;
3. ``transport.set_protocol(owner)``: from now on asyncio (or uvloop) calls the owner
   directly, so plain HTTP pays nothing for this feature;
4. ``owner.connection_made(transport)``, then ``owner.pause_writing()`` if the write buffer
   is above its high-water mark, then ``owner.data_received(rest)`` with the bytes the
   client sent after the request head (a client may send its first frames without waiting
   for the 101), then ``owner.eof_received()`` if the client already sent its FIN.

The owner controls the transport itself from then on: ``pause_reading`` /
``resume_reading``, ``set_write_buffer_limits``, ``close`` / ``abort``, and its own
timeouts (HTTP's are gone).
"""

from __future__ import annotations

import asyncio

__all__ = ["hand_over"]


def hand_over(
    transport: asyncio.Transport,
    owner: asyncio.Protocol,
    rest: bytes,
    *,
    write_paused: bool,
    eof: bool,
) -> None:
    """Give ``transport`` to ``owner`` (steps 3 and 4 of the module docstring).

    ``rest`` is what the client sent after the request head, ``write_paused`` whether the
    write buffer is above its high-water mark, ``eof`` whether the client sent its FIN.
    """
    transport.set_protocol(owner)
    owner.connection_made(transport)
    if write_paused:
        owner.pause_writing()
    if rest and not transport.is_closing():
        owner.data_received(rest)
    if eof and not transport.is_closing():
        if not owner.eof_received():
            transport.close()
