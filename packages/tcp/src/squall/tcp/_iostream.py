"""IOStream: Tornado's read/write-future API over an asyncio transport and protocol.

Theory of operation:

* Each stream owns one asyncio ``Transport`` (plain or TLS) and is fed by ``_StreamProtocol``:
  ``data_received`` appends to a ``bytearray`` read buffer, and the one pending read (Tornado
  allows one at a time) is checked against it. A read is satisfied from the buffer as soon
  as it can be, even after the stream closed; only a read the buffer can never satisfy fails
  with ``StreamClosedError``.
* Flow control, reading: with no read pending the transport is paused once
  ``read_chunk_size`` bytes wait in the buffer, so a peer that sends faster than the program
  reads is held back by TCP, not by memory. A pending read that needs more than
  ``max_buffer_size`` bytes closes the stream; the read fails, as in Tornado, with
  ``StreamClosedError`` whose ``real_error`` is a ``StreamBufferFullError`` (and one past
  ``max_bytes`` likewise, with an ``UnsatisfiableReadError``).
* Flow control, writing: ``write()`` hands the bytes to the transport at once and returns a
  Future that resolves when the transport's buffer is below its high-water mark (asyncio's
  ``drain`` rule): ``await stream.write(chunk)`` in a loop never buffers much more than that.
  ``close()`` lets the transport flush what it holds before the socket is closed.
* The end of the peer's data (EOF) closes the stream, as in Tornado; what was buffered can
  still be read. The close callback runs once, on the loop, after pending Futures failed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl
import sys
from collections.abc import Callable
from typing import Any, Final, cast

from squall.loop import IOLoop
from squall.tcp._errors import StreamBufferFullError, StreamClosedError, UnsatisfiableReadError
from squall.tcp._netutil import ssl_options_to_context

# Tornado's IOStream logs on tornado.general, which is squall.general in squall: a test
# ported with ExpectLog(gen_log, "Unsatisfiable read") sees the same records.
log: Final = logging.getLogger("squall.general")

_Socket = socket.socket  # IOStream's first parameter is named ``socket`` (Tornado's name)

DEFAULT_MAX_BUFFER_SIZE: Final = 100 * 1024 * 1024
"""Tornado's default ``max_buffer_size`` (100 MiB)."""

DEFAULT_READ_CHUNK_SIZE: Final = 64 * 1024
"""Tornado's default ``read_chunk_size``: also the unread bytes at which reading pauses."""

_WRITE_HIGH_WATER: Final = 256 * 1024
# The transport's write buffer above which write() Futures wait (asyncio's default is
# 64 KiB; a bigger mark means fewer wake-ups for large transfers, still bounded).

# Read kinds
_BYTES, _UNTIL, _REGEX, _CLOSE, _INTO = range(5)


class _Read:
    """The one pending read: what it waits for and the Future to resolve."""

    __slots__ = ("arg", "future", "kind", "max_bytes", "partial", "scanned")

    def __init__(
        self, kind: int, arg: Any, max_bytes: int | None, partial: bool, future: asyncio.Future[Any]
    ) -> None:
        self.kind = kind
        self.arg = arg
        self.max_bytes = max_bytes
        self.partial = partial
        self.future = future
        self.scanned = 0  # read_until: bytes of the buffer already searched


class _StreamProtocol(asyncio.Protocol):
    """Forwards transport events to its stream (kept apart so the stream's API stays clean)."""

    __slots__ = ("_on_connect", "stream")

    def __init__(
        self, stream: BaseIOStream, on_connect: Callable[[BaseIOStream], None] | None = None
    ) -> None:
        self.stream = stream
        self._on_connect = on_connect

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.stream._attach(cast(asyncio.Transport, transport))
        if self._on_connect is not None:
            self._on_connect(self.stream)

    def data_received(self, data: bytes) -> None:
        self.stream._data_received(data)

    def eof_received(self) -> bool:
        self.stream._peer_closed(None)
        return False  # let the transport close itself (after flushing our writes)

    def connection_lost(self, exc: Exception | None) -> None:
        self.stream._peer_closed(exc)

    def pause_writing(self) -> None:
        self.stream._write_paused = True

    def resume_writing(self) -> None:
        self.stream._resume_writes()


class BaseIOStream:
    """What every stream does: buffered reads returning Futures, writes, close.

    Args:
        max_buffer_size: the most bytes buffered for one read (default 100 MiB).
        read_chunk_size: unread bytes at which reading from the socket pauses (64 KiB).
        max_write_buffer_size: the most bytes the transport may hold unsent; a write past
            it raises :class:`StreamBufferFullError` (default: no limit).
    """

    def __init__(
        self,
        max_buffer_size: int | None = None,
        read_chunk_size: int | None = None,
        max_write_buffer_size: int | None = None,
    ) -> None:
        io_loop = IOLoop.current()
        assert io_loop is not None
        self.io_loop = io_loop
        self._loop = io_loop.asyncio_loop
        self.max_buffer_size = max_buffer_size or DEFAULT_MAX_BUFFER_SIZE
        self.read_chunk_size = min(read_chunk_size or DEFAULT_READ_CHUNK_SIZE, self.max_buffer_size)
        self.max_write_buffer_size = max_write_buffer_size
        self.error: BaseException | None = None
        """The exception that closed the stream, if any (read it in a close callback)."""
        self._buffer = bytearray()
        self._read: _Read | None = None
        self._transport: asyncio.Transport | None = None
        self._early_writes: list[bytes] = []  # written before the transport exists
        self._write_paused = False
        self._write_waiters: list[asyncio.Future[None]] = []
        self._reading_paused = False
        self._closed = False
        self._close_callback: Callable[[], Any] | None = None
        # Resolved when a transport is attached, failed if the stream closes before.
        self._connected: asyncio.Future[None] = self._loop.create_future()

    # -- reading ---------------------------------------------------------------------------

    def read_bytes(self, num_bytes: int, partial: bool = False) -> asyncio.Future[bytes]:
        """A Future of the next ``num_bytes`` bytes (with ``partial``, of 1 to ``num_bytes``
        bytes: whatever has arrived)."""
        if num_bytes < 0:
            raise ValueError(f"num_bytes must be >= 0, got {num_bytes}")
        return self._start_read(_BYTES, num_bytes, None, partial)

    def read_until(self, delimiter: bytes, max_bytes: int | None = None) -> asyncio.Future[bytes]:
        """A Future of the bytes up to and including ``delimiter``.

        With ``max_bytes``, when the delimiter is not within that many bytes the stream is
        closed and the Future fails, as in Tornado, with :class:`StreamClosedError` whose
        ``real_error`` is an :class:`UnsatisfiableReadError` (logged at INFO on
        ``squall.general``).
        """
        if not delimiter:
            raise ValueError("read_until: the delimiter must not be empty")
        return self._start_read(_UNTIL, bytes(delimiter), max_bytes, False)

    def read_until_regex(
        self, regex: bytes | re.Pattern[bytes], max_bytes: int | None = None
    ) -> asyncio.Future[bytes]:
        """A Future of the bytes up to and including the first match of ``regex``.

        ``max_bytes`` as in :meth:`read_until`.
        """
        pattern = regex if isinstance(regex, re.Pattern) else re.compile(regex)
        return self._start_read(_REGEX, pattern, max_bytes, False)

    def read_until_close(self) -> asyncio.Future[bytes]:
        """A Future of every byte until the stream closes (what is buffered, if it is closed)."""
        return self._start_read(_CLOSE, None, None, False)

    def read_into(self, buf: bytearray | memoryview, partial: bool = False) -> asyncio.Future[int]:
        """Fill ``buf`` (a writable buffer); a Future of the number of bytes put in it.

        Without ``partial`` the Future resolves once ``buf`` is full; with it, as soon as
        some bytes are there.
        """
        return self._start_read(_INTO, memoryview(buf).cast("B"), None, partial)

    def reading(self) -> bool:
        """True while a read is pending."""
        return self._read is not None and not self._read.future.done()

    def _start_read(
        self, kind: int, arg: Any, max_bytes: int | None, partial: bool
    ) -> asyncio.Future[Any]:
        if self._read is not None and not self._read.future.done():
            raise RuntimeError("Already reading: one read at a time on a stream")
        future: asyncio.Future[Any] = self._loop.create_future()
        was_closed = self._closed
        self._read = _Read(kind, arg, max_bytes, partial, future)
        self._try_read()
        if was_closed and future.done() and (error := future.exception()) is not None:
            # As Tornado: a read the buffer of a closed stream cannot satisfy raises at
            # once rather than handing back a failed Future.
            raise error
        return future

    def _try_read(self) -> None:
        """Satisfy the pending read from the buffer if possible; fail it if it never can be."""
        request = self._read
        if request is not None:
            if request.future.done():  # cancelled by its awaiter: forget it
                self._read = None
            else:
                try:
                    end = self._find(request)
                except UnsatisfiableReadError as exc:
                    # As Tornado: the stream closes and the read fails with
                    # StreamClosedError, real_error saying why; so a loop that stops on
                    # StreamClosedError stops on an over-long line too.
                    self._read = None
                    log.info("Unsatisfiable read, closing connection: %s", exc)
                    self.close(exc)
                    _fail(request.future, StreamClosedError(exc))
                    return
                if end is not None:
                    self._read = None
                    self._finish(request, end)
                elif self._closed:
                    self._read = None
                    if request.kind == _CLOSE:
                        self._finish(request, len(self._buffer))
                    else:
                        _fail(request.future, StreamClosedError(self.error))
                elif len(self._buffer) >= self.max_buffer_size:
                    self._read = None
                    log.error("Reached maximum read buffer size (%d bytes)", self.max_buffer_size)
                    full = StreamBufferFullError(
                        f"read buffer reached max_buffer_size ({self.max_buffer_size} bytes)"
                    )
                    self.close(full)
                    _fail(request.future, StreamClosedError(full))  # as Tornado
                    return
        self._update_reading()

    def _find(self, request: _Read) -> int | None:
        """How many buffered bytes the read takes, or None if it must wait."""
        size = len(self._buffer)
        kind = request.kind
        if kind == _BYTES:
            if size >= request.arg:
                return int(request.arg)
            return size if (request.partial and size) else None
        if kind == _INTO:
            wanted = len(request.arg)
            if size >= wanted:
                return wanted
            return size if (request.partial and size) else None
        if kind == _UNTIL:
            delimiter: bytes = request.arg
            # Search only the bytes that arrived since the last look (minus an overlap, in
            # case the delimiter straddles two chunks): a long line costs O(n), not O(n²).
            start = max(0, request.scanned - len(delimiter) + 1)
            pos = self._buffer.find(delimiter, start)
            request.scanned = size
            end = pos + len(delimiter) if pos != -1 else None
        elif kind == _REGEX:
            match = request.arg.search(self._buffer)
            end = match.end() if match is not None else None
        else:  # _CLOSE: only the close satisfies it
            return None
        limit = request.max_bytes
        if limit is not None and (end is None and size >= limit or end is not None and end > limit):
            what = "delimiter" if kind == _UNTIL else "regex"
            raise UnsatisfiableReadError(
                f"{what} {getattr(request.arg, 'pattern', request.arg)!r} not found "
                f"within max_bytes={limit}"
            )
        return end

    def _finish(self, request: _Read, end: int) -> None:
        if request.kind == _INTO:
            target: memoryview = request.arg
            target[:end] = self._buffer[:end]
            result: Any = end
        else:
            result = bytes(self._buffer[:end])
        del self._buffer[:end]
        request.future.set_result(result)

    def _update_reading(self) -> None:
        # Read from the socket while a read waits, or while little is buffered.
        transport = self._transport
        if transport is None or self._closed:
            return
        want = self._read is not None or len(self._buffer) < self.read_chunk_size
        if want and self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()
        elif not want and not self._reading_paused:
            self._reading_paused = True
            transport.pause_reading()

    # -- writing ---------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> asyncio.Future[None]:
        """Send ``data``; a Future that resolves once the transport can take more.

        Raises:
            StreamClosedError: the stream is closed.
            StreamBufferFullError: the unsent bytes would pass ``max_write_buffer_size``.
        """
        if self._closed:
            raise StreamClosedError(self.error)
        chunk = data if isinstance(data, bytes) else bytes(data)
        if self.max_write_buffer_size is not None:
            pending = self._unsent() + len(chunk)
            if pending > self.max_write_buffer_size:
                raise StreamBufferFullError(
                    f"{pending} unsent bytes would pass max_write_buffer_size "
                    f"({self.max_write_buffer_size})"
                )
        future: asyncio.Future[None] = self._loop.create_future()
        if chunk:
            if self._transport is not None:
                self._transport.write(chunk)
            else:
                self._early_writes.append(chunk)
        if self._write_paused or self._transport is None:
            self._write_waiters.append(future)
        else:
            future.set_result(None)
        return future

    def writing(self) -> bool:
        """True while written bytes wait to be sent."""
        return self._unsent() > 0

    def _unsent(self) -> int:
        if self._transport is None:
            return sum(map(len, self._early_writes))
        return self._transport.get_write_buffer_size()

    def _resume_writes(self) -> None:
        self._write_paused = False
        waiters, self._write_waiters = self._write_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- closing ---------------------------------------------------------------------------

    def set_close_callback(self, callback: Callable[[], Any] | None) -> None:
        """Call ``callback()`` (on the loop, once) when the stream closes, by either side.

        It may be ``async``. Set after the stream closed, it is called at once (on the next
        loop iteration).
        """
        self._close_callback = callback
        if self._closed and callback is not None:
            self._schedule_close_callback()

    def closed(self) -> bool:
        """True once the stream is closed (by us, by the peer, or by an error)."""
        return self._closed

    def close(
        self,
        exc_info: bool
        | BaseException
        | tuple[type[BaseException] | None, BaseException | None, Any] = False,
    ) -> None:
        """Close the stream; unsent bytes are still flushed by the transport.

        Args:
            exc_info: True to record the exception being handled (``sys.exc_info()``) as
                :attr:`error`; or an exception, or an ``exc_info`` triple.
        """
        if self._closed:
            return
        if exc_info:
            if isinstance(exc_info, BaseException):
                self.error = exc_info
            elif isinstance(exc_info, tuple):
                self.error = exc_info[1]
            else:
                self.error = sys.exc_info()[1]
        self._closed = True
        if self._transport is not None:
            self._transport.close()
        else:
            self._close_unattached()
        self._signal_closed()

    def _close_unattached(self) -> None:
        """Release a socket no transport took over yet (IOStream(sock) before connect)."""

    def _peer_closed(self, exc: BaseException | None) -> None:
        if exc is not None and self.error is None:
            self.error = exc
        if self._closed:
            # Our own close(): the transport has now flushed; wake up stuck writers.
            self._fail_writers()
            return
        self._closed = True
        if exc is not None and self._transport is not None:
            self._transport.abort()
        self._signal_closed()

    def _signal_closed(self) -> None:
        if not self._connected.done():
            self._connected.set_exception(StreamClosedError(self.error))
            self._connected.exception()  # nobody may be waiting: not an unhandled error
        request = self._read
        if (
            request is not None
            and request.kind == _CLOSE
            and not request.future.done()
            and self.error is not None
            and not _is_connection_reset(self.error)
        ):
            # As Tornado 6.6: a read_until_close pending when an error closes the stream
            # fails with it, rather than handing back a truncated body as if complete. (A
            # reset counts as the peer closing: some peers end that way.)
            self._read = None
            _fail(request.future, StreamClosedError(self.error))
        self._try_read()
        self._fail_writers()
        if self._close_callback is not None:
            self._schedule_close_callback()

    def _fail_writers(self) -> None:
        waiters, self._write_waiters = self._write_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(StreamClosedError(self.error))
                waiter.exception()  # a writer that stopped waiting must not be reported

    def _schedule_close_callback(self) -> None:
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            self.io_loop.add_callback(callback)

    # -- transport -----------------------------------------------------------------------

    def _connect_pending(self) -> bool:
        """Whether ``connect()``'s Future is still to be resolved (writes wait for it)."""
        return False

    def _attach(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        if not self._connected.done():
            self._connected.set_result(None)
        transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        early, self._early_writes = self._early_writes, []
        for chunk in early:
            transport.write(chunk)
        if not self._write_paused and not self._connect_pending():
            self._resume_writes()
        if self._closed:  # closed before the transport arrived
            transport.close()
            return
        self._update_reading()

    def _data_received(self, data: bytes) -> None:
        self._buffer += data
        self._try_read()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's ``get_extra_info`` (``"peername"``, ``"sockname"``, ``"peercert"``,
        ``"ssl_object"``...); ``default`` before it is connected."""
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)

    def set_nodelay(self, value: bool) -> None:
        """Turn Nagle's algorithm off (True: small writes go out at once) or back on."""
        sock = self.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if value else 0)
            except OSError:
                # The peer may already be gone (EINVAL on a reset connection): harmless.
                pass


class IOStream(BaseIOStream):
    """A stream over a TCP (or Unix) socket.

    Streams handed out by :class:`TCPServer` and :class:`TCPClient` are connected already.
    Made by hand, from a socket that is not connected yet::

        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", 8888))

    or from an accepted (connected) socket, which it takes over at once.

    Args:
        socket: the socket (the stream owns it from now on).
        max_buffer_size, read_chunk_size, max_write_buffer_size: see :class:`BaseIOStream`.
    """

    def __init__(
        self,
        socket: _Socket,
        max_buffer_size: int | None = None,
        read_chunk_size: int | None = None,
        max_write_buffer_size: int | None = None,
    ) -> None:
        super().__init__(max_buffer_size, read_chunk_size, max_write_buffer_size)
        self.socket: _Socket | None = socket
        self._attaching: asyncio.Future[Any] | None = None
        self._connecting: asyncio.Future[IOStream] | None = None  # connect()'s Future
        if socket is not None:
            socket.setblocking(False)
            if _is_connected(socket):
                self._attaching = asyncio.ensure_future(self._take_over(socket), loop=self._loop)

    @classmethod
    def _for_protocol(cls, **limits: int | None) -> IOStream:
        """A stream whose transport a protocol factory will attach (server and client)."""
        stream = cls.__new__(cls)
        BaseIOStream.__init__(stream, **limits)
        stream.socket = None
        stream._attaching = None
        stream._connecting = None
        return stream

    def _ssl_context(self, server_side: bool) -> ssl.SSLContext | None:
        return None

    def _connect_pending(self) -> bool:
        return self._connecting is not None and not self._connecting.done()

    async def _take_over(self, sock: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(
                lambda: _StreamProtocol(self), sock, ssl=self._ssl_context(True)
            )
        except Exception as exc:
            self.close(exc)

    def _attach(self, transport: asyncio.Transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.socket = sock
        super()._attach(transport)

    def _close_unattached(self) -> None:
        if self._attaching is not None and self._early_writes and self._connecting is None:
            # Written before the transport took over an already connected socket: let it
            # take over, send them and close (_attach sees the stream closed), as Tornado's
            # close() after write() delivers what was written. (Not while connect() runs:
            # closing then fails the connect, as in Tornado, and drops the writes.)
            return
        if self._attaching is not None:
            self._attaching.cancel()
        if self.socket is not None:
            self.socket.close()

    def connect(self, address: Any, server_hostname: str | None = None) -> asyncio.Future[IOStream]:
        """Connect the stream's socket to ``address``; a Future of the stream.

        Connecting starts at once, as in Tornado: what is written before it completes is
        sent once connected. Closing the stream meanwhile fails the Future.

        Raises:
            StreamClosedError: (from the Future) the connection failed (``real_error``
                says why).
        """
        sock = self.socket
        if sock is None or self._transport is not None or self._attaching is not None:
            raise RuntimeError("connect() needs a stream made from an unconnected socket")
        result: asyncio.Future[IOStream] = self._loop.create_future()
        task = asyncio.ensure_future(self._connect(sock, address, server_hostname), loop=self._loop)
        self._attaching = task  # close() before it completes cancels it
        self._connecting = result

        def connected(task: asyncio.Future[IOStream]) -> None:
            if result.done():
                return
            if task.cancelled():  # by close(), perhaps before it even started
                result.set_exception(StreamClosedError(self.error))
            elif (error := task.exception()) is not None:
                result.set_exception(error)
            else:
                result.set_result(task.result())
                # Writes made while connecting complete after the connect, as in Tornado.
                if not self._write_paused:
                    self._resume_writes()
                return
            # As Tornado: a failed connect is the stream closing, which the close callback
            # reports; a Future nobody awaited is not an error of its own.
            result.exception()

        task.add_done_callback(connected)
        result.add_done_callback(lambda _: task.cancel() if result.cancelled() else None)
        return result

    async def _connect(
        self, sock: socket.socket, address: Any, server_hostname: str | None
    ) -> IOStream:
        context = self._ssl_context(False)
        try:
            await self._loop.sock_connect(sock, address)
            await self._loop.create_connection(
                lambda: _StreamProtocol(self),
                sock=sock,
                ssl=context,
                server_hostname=(server_hostname or _host_of(address)) if context else None,
            )
        except asyncio.CancelledError:
            if self._closed:  # close() while connecting
                raise StreamClosedError(self.error) from None
            self.close()
            raise
        except (OSError, ssl.SSLError) as exc:
            self.close(exc)
            raise StreamClosedError(exc) from exc
        return self


class SSLIOStream(IOStream):
    """An :class:`IOStream` over TLS (the handshake is done by asyncio's TLS transport).

    Args:
        socket: as for :class:`IOStream`.
        ssl_options: an ``ssl.SSLContext`` or Tornado's dict (see ``ssl_options_to_context``)
            for a socket made by hand; streams from TCPServer/TCPClient have theirs.
    """

    def __init__(
        self,
        socket: _Socket,
        *args: Any,
        ssl_options: ssl.SSLContext | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._ssl_options = ssl_options
        super().__init__(socket, *args, **kwargs)

    _ssl_options: ssl.SSLContext | dict[str, Any] | None = None

    def _ssl_context(self, server_side: bool) -> ssl.SSLContext | None:
        return ssl_options_to_context(self._ssl_options or {}, server_side=server_side)

    async def wait_for_handshake(self) -> SSLIOStream:
        """Returns once the TLS handshake is done (streams handed out have done it).

        Raises:
            StreamClosedError: the stream closed first (a failed handshake).
        """
        await asyncio.shield(self._connected)
        return self


def _fail(future: asyncio.Future[Any], error: StreamClosedError) -> None:
    """Fail a read because the stream closed.

    As Tornado, the error is marked retrieved: a read nobody awaits any more (the program
    started it, then stopped caring) is not reported by asyncio as "never retrieved"; the
    close itself is what the close callback and ``error`` report.
    """
    future.set_exception(error)
    future.exception()


def _is_connection_reset(error: BaseException) -> bool:
    return isinstance(error, ConnectionResetError | ConnectionAbortedError | BrokenPipeError)


def _is_connected(sock: socket.socket) -> bool:
    try:
        sock.getpeername()
    except OSError:
        return False
    return True


def _host_of(address: Any) -> str | None:
    return address[0] if isinstance(address, tuple) else None
