"""WebSocketProtocol: the asyncio Protocol of one open WebSocket, server or client side.

Theory of operation
-------------------
It is the owner a ``101`` hands the transport to (``HTTPConnection.upgrade`` on the server,
the client's own connection in ``websocket_connect``): a thin driver from socket events
to the sans-I/O ``FrameParser`` and back, with no Task per message.

- Reading: ``data_received`` feeds the parser and pulls events while the application may
  take them. Messages are delivered in order: when ``on_message`` returns an awaitable the
  next message waits until it completes (as Tornado), and the transport stops reading
  meanwhile, so a slow consumer bounds what a fast client makes us buffer. Nothing is
  delivered before ``start()`` (the handler's ``open()`` has finished).
- Writing: ``send_message`` writes one frame (compressed when permessage-deflate was
  agreed) and returns an awaitable that completes once the transport's buffer is under its
  low-water mark: awaiting it is back-pressure.
- Control frames: a ping is answered with a pong at once; pongs are noted for the ping
  timeout. A close frame is answered with a close frame echoing its code, then the
  transport closes (RFC 6455 §5.5.1, §7.1.2).
- A protocol violation (``ProtocolError``) closes with its code (1002, 1007, 1009) and one
  warning on the ``squall.websocket`` logger naming the peer; never a traceback.
- Timeouts are this protocol's own (HTTP's ended with the hand-over): the ping interval and
  ping timeout when set, and ``close_timeout`` to drop a peer that never answers our close.
- Once the connection is lost, the references that make cycles are dropped (the
  application's callbacks, bound methods of the handler or client that hold this protocol,
  and asyncio's transport's bound method of itself), so a closed WebSocket is freed by
  reference counting instead of waiting for the cyclic garbage collector.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from squall.http import unlink_transport
from squall.web._base import DONE
from squall.websocket._deflate import Deflater, InflaterImpl
from squall.websocket._errors import ProtocolError, WebSocketClosedError
from squall.websocket._frames import (
    BINARY,
    BINARY_HEADS,
    CLOSE,
    NEED_DATA,
    PING,
    PONG,
    TEXT,
    TEXT_HEADS,
    Close,
    FrameParser,
    Message,
    Ping,
    encode_close,
    encode_frame,
    encode_frame_parts,
)

__all__ = ["WebSocketProtocol"]

log: Final = logging.getLogger("squall.websocket")
app_log: Final = logging.getLogger("squall.application")

# (timeout, interval) pairs already warned about: a misconfiguration is said once per
# process, not once per connection.
_warned_ping_pairs: set[tuple[float, float]] = set()


def _warn_long_ping_timeout(timeout: float, interval: float) -> None:
    """Warn once that a ping timeout longer than the ping interval is cut to the interval.

    A pong can only be awaited until the next ping is due, so the longer timeout cannot be
    honoured; the warning names both values so the setting can be fixed.
    """
    if (timeout, interval) in _warned_ping_pairs:
        return
    _warned_ping_pairs.add((timeout, interval))
    log.warning(
        "websocket ping_timeout %gs is longer than ping_interval %gs; waiting %gs for each "
        "pong instead (set ping_timeout <= ping_interval to silence this)",
        timeout,
        interval,
        interval,
    )


WRITE_HIGH_WATER: Final = 256 * 1024  # as squall.http's responses
WRITE_LOW_WATER: Final = 64 * 1024
READ_BUFFER: Final = 64 * 1024  # unparsed bytes kept while the application is busy
# Frames handled in one go before the loop's other callbacks get a turn: one read can hold
# tens of thousands of small frames, and a peer flooding them must not hold the loop for
# all of their on_message calls (Tornado 6.6 yields likewise).
FRAMES_PER_TURN: Final = 256
CLOSE_TIMEOUT: Final = 5.0  # Tornado's wait for the peer's close frame
# From this payload size a frame goes to uvloop as (header, payload) with writelines rather
# than joined first: below it the copy costs less than the extra buffer handling.
WRITELINES_FROM: Final = 16 * 1024


# An already complete awaitable (``send_message`` when the buffer has room): web's, which
# offers a done Future's read-only methods, as Tornado's ``write_message`` returns a Future
# and code calls them (``self.write_message(m).add_done_callback(...)``).
_DONE: Final = DONE


def _dropped_message(message: str | bytes) -> None:
    """Stands in for ``on_message`` once the connection is lost (never called then)."""


def _dropped_close() -> None:
    """Stands in for ``on_close`` once it has been called."""


class WebSocketProtocol(asyncio.Protocol):
    """One WebSocket connection (module docstring).

    Args:
        is_client: True on the client side (frames sent masked, received unmasked).
        on_message: called with each message (str or bytes); may return an awaitable.
        on_close: called once when the connection is gone.
        on_ping / on_pong: called with a ping's / pong's payload.
        max_message_size: the largest message accepted (1009 beyond).
        deflate: the agreed permessage-deflate (de)compressors, or None.
        ping_interval / ping_timeout: seconds (None or 0: off).
    """

    __slots__ = (
        "_is_client", "_on_message", "_on_close", "_on_ping", "_on_pong", "_deflater",
        "_parser", "_ping_interval", "_ping_timeout", "transport", "_peer", "_started",
        "_busy", "_in_process", "_yielding", "_read_paused", "_write_paused", "_waiters",
        "_close_sent", "_close_received", "_lost", "_close_notified", "_timer", "_ping_timer",
        "_pong_received", "close_code", "close_reason", "_lost_waiters", "_writelines",
        "_loop", "__weakref__",
    )  # fmt: skip

    def __init__(
        self,
        *,
        is_client: bool,
        on_message: Callable[[str | bytes], Awaitable[None] | None],
        on_close: Callable[[], None],
        on_ping: Callable[[bytes], None] | None = None,
        on_pong: Callable[[bytes], None] | None = None,
        max_message_size: int | None = 10 * 1024 * 1024,
        deflate: tuple[Deflater, InflaterImpl] | None = None,
        ping_interval: float | None = None,
        ping_timeout: float | None = None,
    ) -> None:
        self._is_client = is_client
        self._on_message = on_message
        self._on_close = on_close
        self._on_ping = on_ping
        self._on_pong = on_pong
        self._deflater = deflate[0] if deflate else None
        self._parser = FrameParser(
            mask_required=not is_client,
            max_message_size=max_message_size,
            inflater=deflate[1] if deflate else None,
        )
        self._ping_interval = ping_interval or 0.0
        if ping_timeout and self._ping_interval and ping_timeout > self._ping_interval:
            _warn_long_ping_timeout(ping_timeout, self._ping_interval)
            ping_timeout = self._ping_interval
        self._ping_timeout = ping_timeout
        self.transport: asyncio.Transport | None = None
        # The loop the transport belongs to: close() may be called where no loop runs (a
        # test's tearDown closing its client, as Tornado allows) and still sets its timer.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._peer = "unknown peer"
        self._started = False
        self._busy = False  # an awaitable on_message is running
        self._in_process = False
        self._yielding = False  # a later turn of the loop will go on with the frames
        self._read_paused = False
        self._write_paused = False
        self._waiters: list[asyncio.Future[None]] = []
        self._close_sent = False
        self._close_received = False
        self._lost = False
        self._close_notified = False
        self._timer: asyncio.TimerHandle | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._pong_received = True
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._lost_waiters: list[asyncio.Future[None]] = []
        self._writelines = False

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        tr: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport = tr
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # driven by hand, outside a loop (the sans-I/O tests)
            self._loop = None
        peer = tr.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self._peer = f"{peer[0]}:{peer[1]}"
        tr.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        # uvloop's writelines sends the pieces with one writev and keeps flow control. Not
        # asyncio's: on 3.12 and 3.13 the socket transport's writelines never calls
        # pause_writing (back-pressure would be lost), and elsewhere it joins anyway.
        self._writelines = type(tr).__module__.startswith("uvloop")

    def data_received(self, data: bytes) -> None:  # noqa: D102
        if self._lost:
            return
        self._parser.receive_data(data)
        if self._started and not self._busy:
            self._process()
        elif self._parser.buffered > READ_BUFFER:
            self._pause_reading()

    def eof_received(self) -> bool | None:  # noqa: D102
        return None  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self._lost = True
        self._cancel_timers()
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_exception(WebSocketClosedError("the WebSocket closed"))
                fut.exception()  # retrieved: a writer that stopped awaiting is not an error
        for fut in self._lost_waiters:
            if not fut.done():
                fut.set_result(None)
        self._lost_waiters = []
        self._notify_close()
        self._unlink()

    def _unlink(self) -> None:
        """Drop what ties a lost connection in cycles (module docstring)."""
        # The callbacks are bound methods of the handler (or client connection), which
        # holds this protocol: a cycle per closed WebSocket.
        self._on_message = _dropped_message
        self._on_close = _dropped_close
        self._on_ping = None
        self._on_pong = None
        unlink_transport(self.transport)

    async def wait_closed(self) -> None:
        """Return once the connection is gone (after the close handshake or an abort)."""
        if self._lost or self.transport is None:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._lost_waiters.append(fut)
        await fut

    def pause_writing(self) -> None:  # noqa: D102
        self._write_paused = True

    def resume_writing(self) -> None:  # noqa: D102
        self._write_paused = False
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    # -- state -------------------------------------------------------------------------------

    @property
    def closing(self) -> bool:
        """Whether either side began the close handshake or the connection is gone."""
        return self._lost or self._close_sent or self._close_received

    def start(self) -> None:
        """Begin delivering messages (after the handler's ``open()``), and pinging."""
        if self._started or self._lost:
            return
        self._started = True
        if self._ping_interval > 0:
            self._schedule_ping(self._ping_interval)
        if self._parser.buffered:
            self._process()

    # -- reading -----------------------------------------------------------------------------

    def _process(self) -> None:
        if self._in_process:
            return
        self._in_process = True
        parser = self._parser
        turn = FRAMES_PER_TURN
        try:
            while not self._busy and not self._lost:
                if not turn:
                    if parser.buffered:
                        self._yield_turn()
                    break
                turn -= 1
                try:
                    ev = parser.next_event()
                except ProtocolError as exc:
                    self._fail(exc)
                    return
                if ev is NEED_DATA:
                    break
                cls = ev.__class__
                if cls is Message:
                    if self._close_sent:
                        continue  # we are closing: data is no longer taken
                    # Inline, not a method: this is the path of every message.
                    try:
                        result = self._on_message(ev.data)  # type: ignore[union-attr]
                    except (Exception, asyncio.CancelledError):  # a bug of the handler
                        self._app_error()
                        continue
                    if result is not None and inspect.isawaitable(result):
                        self._await_message(result)
                elif cls is Ping:
                    payload = ev.payload  # type: ignore[union-attr]
                    if not self._close_sent:
                        self._write(encode_frame(PONG, payload, mask=self._is_client))
                    if self._on_ping is not None:
                        self._call(self._on_ping, payload)
                elif cls is Close:
                    self._closed_by_peer(ev)  # type: ignore[arg-type]
                    return
                else:
                    self._pong_received = True
                    if self._on_pong is not None:
                        self._call(self._on_pong, ev.payload)  # type: ignore[union-attr]
        finally:
            self._in_process = False
        if (
            self._read_paused
            and not self._busy
            and not self._yielding
            and parser.buffered <= READ_BUFFER
        ):
            self._resume_reading()

    def _yield_turn(self) -> None:
        """Let the loop's other callbacks run before the next frames are handled."""
        if self._yielding:
            return
        self._yielding = True
        self._pause_reading()  # the frames already here are enough to go on with
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._yielding = False
        if self._lost:
            return
        if self._busy:
            return  # _message_done goes on (and resumes reading)
        self._process()

    def _await_message(self, result: Awaitable[Any]) -> None:
        """An async ``on_message``: the next message waits until it completes."""
        self._busy = True
        self._pause_reading()
        fut = asyncio.ensure_future(result)
        fut.add_done_callback(self._message_done)

    def _message_done(self, fut: asyncio.Future[Any]) -> None:
        self._busy = False
        if fut.cancelled():
            if not isinstance(fut, asyncio.Task) or fut.cancelling():
                # Cancelled from outside (the loop shutting down): we are going away. A
                # plain Future (a gen.coroutine's) cannot tell who cancelled it: the same.
                self.close(1001)
                return
            # The handler's own code raised CancelledError (it awaited a cancelled
            # future): a bug like any exception, logged and closed with 1011 as Tornado.
            try:
                fut.result()
            except asyncio.CancelledError as cancelled:
                self._app_error(cancelled)
            return
        exc = fut.exception()
        if exc is not None:
            self._app_error(exc)
            return
        if not self._lost:
            self._resume_reading()
            self._process()

    def _call(self, fn: Callable[[bytes], Any], payload: bytes) -> None:
        try:
            fn(payload)
        except (Exception, asyncio.CancelledError):  # raised by the handler, not a cancel
            self._app_error()

    def _app_error(self, exc: BaseException | None = None) -> None:
        """The application raised: log it, close with 1011 (Internal Error)."""
        app_log.error(
            "Uncaught exception in a WebSocket callback (%s)", self._peer, exc_info=exc or True
        )
        self.close(1011)
        self._abort_soon()

    def _closed_by_peer(self, ev: Close) -> None:
        self._close_received = True
        if self.close_code is None:
            self.close_code = ev.code
            self.close_reason = ev.reason or None  # no reason bytes: None, as in Tornado
        if not self._close_sent:
            # Echo the code (RFC 6455 §5.5.1), then the server closes TCP first (§7.1.1).
            self._close_sent = True
            payload = ev.code.to_bytes(2, "big") if ev.code is not None else b""
            self._write(encode_frame(CLOSE, payload, mask=self._is_client))
        if self.transport is not None:
            self.transport.close()
        self._cancel_timers()

    def _fail(self, exc: ProtocolError) -> None:
        """Fail the WebSocket connection (RFC 6455 §7.1.7): close frame with the code, then TCP."""
        # The message, not the exception, goes to the record: a handler that keeps records
        # (pytest's, a MemoryHandler) would keep its traceback, whose frames hold this protocol.
        log.warning("%s: WebSocket protocol error (%d): %s", self._peer, exc.code, str(exc))
        if not self._close_sent and self.transport is not None:
            self._close_sent = True
            reason = str(exc)[:120]
            self._write(encode_frame(CLOSE, encode_close(exc.code, reason), mask=self._is_client))
        if self.transport is not None:
            self.transport.close()
        self._cancel_timers()

    # -- writing -----------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        tr = self.transport
        if tr is not None and not self._lost and not tr.is_closing():
            tr.write(data)

    def send_message(self, data: str | bytes, binary: bool) -> Awaitable[None]:
        """Send one message; the awaitable completes when the write buffer has room.

        Raises:
            WebSocketClosedError: the connection is closed or closing.
        """
        tr = self.transport
        if self._close_sent or self._close_received or self._lost or tr is None or tr.is_closing():
            raise WebSocketClosedError("the WebSocket is closed")
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        opcode = BINARY if binary else TEXT
        deflater = self._deflater
        if deflater is None and len(payload) < 126 and not self._is_client:
            # A server's small uncompressed message, the commonest: one table lookup.
            tr.write((BINARY_HEADS if binary else TEXT_HEADS)[len(payload)] + payload)
            if not self._write_paused:
                return _DONE
            return self._wait_for_room()
        if deflater is not None:
            payload = deflater.compress(payload)
        head, body = encode_frame_parts(
            opcode, payload, rsv1=deflater is not None, mask=self._is_client
        )
        if self._writelines and len(body) >= WRITELINES_FROM:
            tr.writelines((head, body))  # one send, no joined copy
        else:
            tr.write(head + body)
        if not self._write_paused:
            return _DONE
        return self._wait_for_room()

    def _wait_for_room(self) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = self.create_future()
        self._waiters.append(fut)
        return fut

    def create_future(self) -> asyncio.Future[Any]:
        """A Future of the loop running now, else of the loop the transport belongs to.

        Tornado's unittest style calls the client between loop runs (``read_message(
        self.stop)``, then ``self.wait()``): its Future must belong to the loop that will
        run next, the connection's.
        """
        try:
            return asyncio.get_running_loop().create_future()
        except RuntimeError:
            if self._loop is None:
                raise
            return self._loop.create_future()

    def send_ping(self, data: bytes) -> None:
        """Send a ping frame (at most 125 bytes).

        Raises:
            WebSocketClosedError: the connection is closed or closing.
            ValueError: more than 125 bytes.
        """
        if self.closing:
            raise WebSocketClosedError("the WebSocket is closed")
        self._write(encode_frame(PING, data, mask=self._is_client))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Begin (or complete) the close handshake; idempotent.

        The transport closes when the peer's close frame arrives, or after
        ``CLOSE_TIMEOUT`` seconds without it.
        """
        if self._lost:
            return
        if not self._close_sent:
            self._close_sent = True
            self._write(encode_frame(CLOSE, encode_close(code, reason), mask=self._is_client))
        if self._close_received:
            if self.transport is not None:
                self.transport.close()
            return
        self._cancel_timers()
        self._started = True  # no message is delivered now, but the peer's close is read
        if self._timer is not None:
            self._timer.cancel()
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        self._timer = loop.call_later(CLOSE_TIMEOUT, self.abort)
        if self._busy or self._read_paused:
            # The peer's close frame must still be read.
            self._busy = False
            self._resume_reading()
        if self._parser.buffered:
            self._process()

    def abort(self) -> None:
        """Drop the connection now (no close handshake)."""
        if self.transport is not None and not self._lost:
            self.transport.abort()

    def _abort_soon(self) -> None:
        if self._timer is None and not self._lost:
            loop = self._loop if self._loop is not None else asyncio.get_running_loop()
            self._timer = loop.call_later(CLOSE_TIMEOUT, self.abort)

    # -- pings and timers --------------------------------------------------------------------

    def _schedule_ping(self, delay: float) -> None:
        self._ping_timer = asyncio.get_running_loop().call_later(delay, self._send_periodic_ping)

    def _send_periodic_ping(self) -> None:
        self._ping_timer = None
        if self.closing:
            return
        timeout = self._ping_timeout
        if timeout is None:
            timeout = self._ping_interval  # Tornado's default: one interval
        self._pong_received = False
        self._write(encode_frame(PING, b"", mask=self._is_client))
        loop = asyncio.get_running_loop()
        if timeout > 0:
            self._ping_timer = loop.call_later(timeout, self._check_pong, timeout)
        else:
            self._schedule_ping(self._ping_interval)

    def _check_pong(self, waited: float) -> None:
        self._ping_timer = None
        if self.closing:
            return
        if not self._pong_received:
            log.info("%s: no pong within %gs; closing the WebSocket", self._peer, waited)
            self.close(1000, "ping timed out")
            return
        self._schedule_ping(max(0.0, self._ping_interval - waited))

    def _cancel_timers(self) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None
        if self._timer is not None and self._lost:
            self._timer.cancel()
            self._timer = None

    def _notify_close(self) -> None:
        if self._close_notified:
            return
        self._close_notified = True
        try:
            self._on_close()
        except Exception:
            app_log.error("%s: uncaught exception in on_close", self._peer, exc_info=True)

    # -- transport control -------------------------------------------------------------------

    def _pause_reading(self) -> None:
        if self.transport is not None and not self._read_paused and not self._lost:
            self._read_paused = True
            try:
                self.transport.pause_reading()
            except RuntimeError:  # pragma: no cover - closing transport
                pass

    def _resume_reading(self) -> None:
        if self.transport is not None and self._read_paused and not self._lost:
            self._read_paused = False
            try:
                self.transport.resume_reading()
            except RuntimeError:  # pragma: no cover - closing transport
                pass
