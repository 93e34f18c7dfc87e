"""Zero-copy ``sendfile`` for event loops without ``loop.sendfile`` (uvloop).

uvloop's loop raises ``NotImplementedError`` from ``sendfile``, so without this module a
file would be read into Python and copied into the transport. Here ``os.sendfile`` moves
the bytes from the page cache to the socket of a plain TCP (or Unix) transport directly.

The transport keeps owning its socket; we only write to it while its own write buffer is
empty, so nothing we send can overtake bytes it still holds (the head, a chunk-size line).

Two waits, both event-driven (never a busy loop):

- the transport holds bytes: its write limits are set to ``high=0, low=0`` for the wait,
  so the protocol is paused at once and ``resume_writing`` comes exactly when the buffer
  is empty; the limits are then put back.
- the socket is full (``EAGAIN``): uvloop refuses ``add_writer`` on a transport's fd, so
  we watch an ``os.dup`` of it. We chose this over "copy one chunk through the transport
  and wait for it to drain" because every byte stays zero-copy and the only buffer is the
  kernel's socket buffer: memory stays flat for a slow client downloading a huge file. The
  dup refers to the same socket, so it would keep the connection open after the transport
  closes: the wait therefore also ends when the protocol closes (it is one of its drain
  waiters), and the dup is unregistered then closed in a ``finally`` (unregistering first
  removes it from epoll while the number is still ours).

What this needs from the connection is ``SendfileOwner``, declared here.
"""

from __future__ import annotations

import asyncio
import errno
import os
from typing import Any, Final, Protocol

from squall.http._errors import StreamClosedError

__all__ = ["YIELD_EVERY", "SendfileOwner", "socket_fd", "zero_copy"]

# One os.sendfile call moves at most this much.
_BLOCK: Final = 1024 * 1024
YIELD_EVERY: Final = 4 * 1024 * 1024
"""Bytes a file may send without waiting before the sender yields to the loop once (here
and in the chunk path), so a fast client on a large file cannot starve the others."""

# os.sendfile cannot serve this file or socket: the caller falls back to copying.
_UNSUPPORTED: Final = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSOCK})


class SendfileOwner(Protocol):
    """What sending a file needs from its connection."""

    @property
    def _loop(self) -> asyncio.AbstractEventLoop:
        """The connection's event loop."""

    @property
    def _transport(self) -> asyncio.Transport | None:
        """The connection's transport."""

    @property
    def _closed(self) -> bool:
        """Whether the connection is closed."""

    @property
    def _write_paused(self) -> bool:
        """Whether the transport paused writing (its buffer is over the high-water mark)."""

    def _drain(self) -> asyncio.Future[None]:
        """A future done once the write buffer is below its mark (at once if it is)."""

    def _released(self) -> asyncio.Future[None]:
        """A future done at the next ``resume_writing``, close or connection loss."""

    def _close(self) -> None:
        """Close the connection."""


def socket_fd(transport: Any) -> int | None:
    """The fd os.sendfile may write to: a plain (not TLS) transport's socket, else None."""
    if transport.get_extra_info("sslcontext") is not None:
        return None  # the bytes must go through the TLS layer
    sock = transport.get_extra_info("socket")
    if sock is None:
        return None
    try:
        fd = sock.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


async def zero_copy(
    proto: SendfileOwner, sock_fd: int, file_fd: int, offset: int, count: int
) -> tuple[int, bool]:
    """Send up to ``count`` bytes of ``file_fd`` from ``offset`` with ``os.sendfile``.

    Returns ``(sent, supported)``: ``sent`` bytes went out; fewer than ``count`` with
    ``supported`` true means the file ended early, with ``supported`` false that
    we cannot go on without copying (``os.sendfile`` refused this file or socket, no fd
    left to ``dup``...): the caller copies the rest.

    Raises:
        StreamClosedError: the connection closed (the peer left; it is closed here).
    """
    transport: Any = proto._transport
    sent = 0
    unwaited = 0
    while sent < count:
        if proto._closed or transport.is_closing():
            raise StreamClosedError("connection closed")
        if transport.get_write_buffer_size():
            if not await _flushed(proto, transport):
                return sent, False
            continue
        try:
            n = os.sendfile(sock_fd, file_fd, offset + sent, min(count - sent, _BLOCK))
        except BlockingIOError:
            unwaited = 0
            if not await _writable(proto, sock_fd):
                return sent, False
            continue
        except (BrokenPipeError, ConnectionError) as exc:
            proto._close()  # the peer is gone; connection_lost tells the application
            raise StreamClosedError("connection closed") from exc
        except OSError as exc:
            if exc.errno in _UNSUPPORTED:
                return sent, False
            raise
        if n == 0:
            break  # end of file: it shrank, or count was larger than what is left
        sent += n
        unwaited += n
        if unwaited >= YIELD_EVERY and sent < count:
            unwaited = 0
            await asyncio.sleep(0)
    return sent, True


async def _flushed(proto: SendfileOwner, transport: Any) -> bool:
    """Wait until the transport's write buffer is empty (see the module docstring).

    Returns False, without waiting, if the transport did not pause the protocol: no event
    would then tell us when the buffer empties (and polling would be a busy loop).
    """
    low, high = transport.get_write_buffer_limits()
    # Pauses the protocol now (the buffer is above 0); resume_writing comes at empty.
    transport.set_write_buffer_limits(high=0, low=0)
    try:
        if not proto._write_paused and not proto._closed:
            return False
        await proto._drain()
    finally:
        if not transport.is_closing():
            transport.set_write_buffer_limits(high=high, low=low)
    return True


async def _writable(proto: SendfileOwner, sock_fd: int) -> bool:
    """Wait until the socket can take more bytes, or the connection closes.

    Returns False if the fd could not be duplicated (the process is out of fds).
    """
    loop = proto._loop
    try:
        dup = os.dup(sock_fd)
    except OSError:
        return False
    # Released by resume_writing, _close and connection_lost: the last two are why it is
    # one of those (a spurious wake-up by the first only costs one more EAGAIN).
    fut = proto._released()
    try:
        loop.add_writer(dup, _wake, fut)
        try:
            await fut
        finally:
            loop.remove_writer(dup)
    finally:
        os.close(dup)
    return True


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
