"""Handing a connection over to another protocol: ``HTTPConnection.upgrade``.

Theory of operation
-------------------
The layer above answers a request with ``101 Switching Protocols`` (RFC 9110 §15.2.2,
§7.8) and takes the transport, as Tornado's ``detach()`` does. Nothing here knows what the
new protocol is (WebSocket, or anything else): the new owner is any object shaped like an
``asyncio.Protocol`` (``connection_made``, ``data_received``, ``eof_received``,
``connection_lost``, ``pause_writing``, ``resume_writing``).

The hand-over, in this order, all inside ``upgrade()``:

1. the head (status line and the caller's headers, nothing added: a 101 has no body, so no
   ``Content-Length``, and ``Connection: Upgrade`` is the caller's to send) goes out in one
   write;
2. the HTTP protocol stops for good: it leaves the server's connection set (a graceful
   shutdown no longer waits for it: the owner decides when it ends), its timer (idle,
   header, body timeouts) is cancelled, waiters on its write buffer are released, and
   reading is resumed if HTTP had paused it;
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
from collections.abc import Iterable
from typing import TYPE_CHECKING

from squall.http._errors import ResponseStateError, StreamClosedError
from squall.http._writer import encode_head, header_block, status_line

if TYPE_CHECKING:
    from squall.http._connection import HTTPConnection

__all__ = ["upgrade"]


def upgrade(
    self: HTTPConnection,
    headers: Iterable[tuple[str, str]],
    owner: asyncio.Protocol,
    *,
    status: int = 101,
    reason: str | None = None,
) -> asyncio.Transport:
    """Answer with a ``1xx`` head (``101`` by default) and hand the connection to ``owner``.

    The request must have been read whole (a request with a body cannot be upgraded before
    its body is consumed). After this call the HTTP server is done with the connection:
    ``owner`` receives every later socket event (see the module docstring for the order),
    including the bytes that arrived after the request head, possibly before ``upgrade``
    returns.

    Args:
        headers: the response headers, sent as given (``Upgrade``, ``Connection`` and the
            new protocol's own); CR, LF or NUL in them is refused.
        owner: an ``asyncio.Protocol`` (or any object with its methods).
        status: an informational status, ``101 Switching Protocols`` by default.
        reason: a reason phrase other than the standard one.

    Returns:
        The transport, now the owner's (also passed to ``owner.connection_made``).

    Raises:
        ValueError: ``status`` is not 1xx (other than 100), or a header is invalid.
        ResponseStateError: the response was started, or the request body is unread.
        StreamClosedError: the connection is closed.
    """
    proto = self._proto
    transport = proto._transport
    if proto._closed or transport is None or transport.is_closing():
        raise StreamClosedError("connection closed")
    if self._state:
        raise ResponseStateError("upgrade() after the response was started")
    if not 100 < status < 200:
        raise ValueError(f"upgrade() needs an informational status (101), not {status}")
    parser = proto._parser
    if proto._reading_body or parser.reading_body:
        raise ResponseStateError("upgrade() before the request body was read")
    data = encode_head(status_line("HTTP/1.1", status, reason) + header_block(headers) + "\r\n")
    transport.write(data)
    self._state = 2  # done: this request is answered
    rest = bytes(parser._buf[parser._pos :])
    parser._buf = b""
    parser._pos = 0
    # The HTTP protocol ends here: _closed stops its loops and makes its _close() a no-op,
    # so nothing it still runs (the handler's Task finishing) can touch the transport.
    proto._closed = True
    proto._ctx.connections.discard(proto)
    if proto._timer is not None:
        proto._timer.cancel()
        proto._timer = None
    proto._current = None
    proto._request = None
    proto._delegate = None
    proto._release_waiters()
    if proto._read_paused:
        proto._read_paused = False
        transport.resume_reading()
    transport.set_protocol(owner)
    owner.connection_made(transport)
    if proto._write_paused:
        owner.pause_writing()
    if rest and not transport.is_closing():
        owner.data_received(rest)
    if proto._eof and not transport.is_closing():
        if not owner.eof_received():
            transport.close()
    return transport
