"""The asyncio Protocol: a thin driver from socket events to parser events to the app.

Theory of operation
-------------------
``data_received`` feeds the sans-I/O parser and pulls events while the connection may
make progress (``_process``). Everything happens inside that call: a synchronous callback
(or delegate) runs, answers with ``respond`` (one ``transport.write``) and the next
pipelined request is parsed in the same loop, with no Task, coroutine or timer created.

Responses to pipelined requests parsed in one pass are coalesced: the first response of
a pass is written at once (so a peer that reset is noticed before more of its requests
are answered: the failed send closes the transport), the later ones are collected
(``_send``) and leave in one ``transport.write`` when the pass ends, or earlier once
``_COLLECT_MAX`` bytes are collected (the transport's flow control still sees them).
Every other use of the transport (an error answer, ``100 Continue``, a file, the upgrade,
pausing or resuming reading, close, abort) writes out what is collected first
(``_flush``), so the bytes on the wire keep their order. A response finished later (by a
Task) is written directly.

One request is in flight at a time. While its response is owed, later pipelined bytes
stay in the parser's buffer; past ``_PIPELINE_BUFFER`` bytes reading is paused, and it
resumes when the response is finished. So responses go out in order and a client sending
10,000 pipelined requests behind a slow handler costs a bounded amount of memory.

Its parts are objects of their own, each with its state and a narrow typed interface to
the connection (declared in the part's module), none importing this one:

- ``ConnectionTimer`` (``_timeouts``): one lazily re-armed timer per connection. State
  changes only record a timestamp; when it fires it computes the deadline of the current
  state (idle → ``idle_connection_timeout``, partial head → ``header_timeout``, body →
  ``body_timeout`` without progress or ``body_min_rate``) and either has the connection
  closed (``_timed_out``) or re-arms. The hot path only records when the connection
  became idle.
- ``BodyReader`` (``_bodyread``): made at the first request with a body, kept for the
  connection's life; limits, 100 Continue, inflating, collecting or streaming (flow
  control), the read burst bound.
- ``HTTPConnection`` (``_connection``): one per request, its response.

The timer and the reader keep no reference back to the connection (it is passed to the
calls that need it), so no cycle ties them to a closed connection: it is freed by
reference counting alone.

What stays here is the connection's one state machine (pulling events, answering,
errors, early endings, the hand-over on upgrade): it reads best whole, hence a module
over 600 lines.

How a request ends early is the connection's own (``eof_received``, ``_abort_current``):
a FIN after a complete request is ambiguous, the client may be gone (``close()``) or only
done sending (``shutdown(SHUT_WR)``, ``nc -N``). So the application is told at once
(``on_connection_close``, the connection's close callback, ``connection.closed``), yet the
connection stays half-open over plain TCP so that an answer it still writes goes out; it
closes after that response and no further request is read. asyncio's TLS transport cannot
stay half-open, so there the answer is lost (the application is still told).

Bad input never escapes: ``RemoteProtocolError`` and ``HTTPInputError`` become a response
with their ``status_hint`` and ``Connection: close`` (or a plain close when a response has
already started), and one warning on the ``squall.http`` logger naming the peer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from time import time as _time
from typing import Any, Final, cast

from squall.http._bodyread import BodyReader
from squall.http._closing import unlink_transport
from squall.http._connection import HTTPConnection
from squall.http._context import ServerContext
from squall.http._errors import HTTPInputError, RemoteProtocolError, StreamClosedError
from squall.http._events import NEED_DATA, Data, EndOfMessage, Request
from squall.http._parser import RequestParser
from squall.http._request import HTTPServerRequest
from squall.http._timeouts import BODY, HEAD, IDLE, UNTIMED, ConnectionTimer
from squall.http._writer import responses
from squall.http._xheaders import xheaders_ip, xheaders_protocol

__all__ = ["BufferedHTTPProtocol", "HTTPProtocol", "protocol_class"]

log: Final = logging.getLogger("squall.http")

_PIPELINE_BUFFER: Final = 64 * 1024  # unparsed bytes kept while a response is owed
_DISCARD_MAX: Final = 64 * 1024  # an unread body up to this is read and dropped, not closed
_READ_BUFFER: Final = 256 * 1024  # what asyncio's transports ask recv() for (see below)
# Collected response bytes are written once they reach this: well under the transport's
# high-water mark, so a client that does not read still pauses us after a few writes.
_COLLECT_MAX: Final = 64 * 1024


def _one_line(message: str, limit: int = 200) -> str:
    """``message`` as one printable line of at most ``limit`` characters (for error bodies)."""
    line = "".join(c if c.isprintable() else " " for c in message)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _peer_ip(peer: Any) -> str:
    if isinstance(peer, tuple) and peer and isinstance(peer[0], str):
        return peer[0]
    return "0.0.0.0"


class HTTPProtocol(asyncio.Protocol):
    """One HTTP/1.x connection (see the module docstring)."""

    __slots__ = (
        "_ctx", "_loop", "_transport", "_parser", "_remote_ip", "_peername", "_scheme",
        "_current", "_request", "_delegate", "_reader", "_reading_body", "_discarding",
        "_in_process", "_closed", "_read_paused", "_write_paused", "_drain_waiters",
        "_timer", "_eof", "_task", "_collect", "_out", "_own_body_limits", "__weakref__",
    )  # fmt: skip

    def __init__(self, ctx: ServerContext, loop: asyncio.AbstractEventLoop) -> None:
        self._ctx = ctx
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._parser = RequestParser(ctx.limits)
        self._remote_ip = "0.0.0.0"
        self._peername: Any = None
        self._scheme = ctx.scheme
        self._current: HTTPConnection | None = None
        self._request: HTTPServerRequest | None = None
        self._delegate: Any = None
        self._reader: BodyReader | None = None  # made at the first request with a body
        self._reading_body = False
        self._discarding = False
        self._in_process = False
        self._closed = False
        self._read_paused = False
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] | None = None
        self._timer = ConnectionTimer(loop, ctx.limits)
        self._eof = False
        self._task: asyncio.Future[Any] | None = None
        self._collect = False  # a response of this pass was written: collect the next ones
        self._out: bytearray | None = None  # the bytes collected (see the module docstring)
        # A request called connection.set_max_body_size/set_body_timeout: the body reader
        # looks for them on its connection (a hint, cleared there; see _bodyread).
        self._own_body_limits = False

    @property
    def _peer(self) -> str:
        """The peer address for log lines (``ip:port``)."""
        peer = self._peername
        if isinstance(peer, tuple) and len(peer) >= 2:
            return f"{peer[0]}:{peer[1]}"
        if peer is None:
            # getpeername() failed: the client reset before its address was read (uvloop
            # asks then; asyncio keeps the address accept() gave).
            return "unknown peer"
        return str(peer) if peer else "unix"

    @property
    def _flow_paused(self) -> bool:
        """Whether a streaming handler paused reading (its ``data_received`` is pending)."""
        return self._reader is not None and self._reader.flow_paused

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        # A cast, not an isinstance check: uvloop's transports are not asyncio subclasses.
        tr = cast(asyncio.Transport, transport)
        self._transport = tr
        peer = tr.get_extra_info("peername")
        self._remote_ip = _peer_ip(peer)
        self._peername = peer  # kept as is (the transport holds it anyway); formatted on use
        if tr.get_extra_info("sslcontext") is not None:
            self._scheme = "https"
        lim = self._ctx.limits
        tr.set_write_buffer_limits(high=lim.write_high_water)
        self._ctx.connections.add(self)
        self._timer.idle(self)

    def data_received(self, data: bytes) -> None:  # noqa: D102
        if self._closed:
            return
        parser = self._parser
        parser.receive_data(data)
        body = self._reader
        if self._reading_body:
            body.received(self, len(data))  # type: ignore[union-attr]
        if (self._current is None or self._reading_body) and (body is None or not body.flow_paused):
            try:
                self._process()
            except Exception:
                self._internal_error()
        elif parser.buffered > _PIPELINE_BUFFER and not self._read_paused:
            self._pause_reading()

    def _process_safely(self) -> None:
        """``_process`` from outside ``data_received`` (a response finished, writing resumed)."""
        try:
            self._process()
        except Exception:
            self._internal_error()

    def _internal_error(self) -> None:
        """A bug of ours (not the client's, not the application's): 500 and close, logged.

        The safety net that keeps any exception from escaping into the event loop.
        """
        self._in_process = False
        log.error("%s: internal error in squall.http", self._peer, exc_info=True)
        conn = self._current
        if (conn is None or not conn.headers_written) and not self._closed:
            if conn is not None:
                conn._state = 2
            if self._transport is not None:
                self._flush()
                self._transport.write(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
        self._abort_current()
        self._close()

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        was_closed = self._closed
        self._closed = True
        self._ctx.connections.discard(self)
        self._timer.cancel()
        if not was_closed and not self._eof and not self._discarding:
            if self._parser.in_progress or self._reading_body:
                log.warning("%s: client disconnected mid-request", self._peer)
        self._abort_current()
        self._release_waiters()
        unlink_transport(self._transport)

    def eof_received(self) -> bool | None:
        """The client sent FIN (see the module docstring on the half-open connection)."""
        self._eof = True
        conn = self._current
        if conn is not None and not self._reading_body:
            # After a complete request: gone or only done sending. Tell the application,
            # then stay half-open for its answer; asyncio's TLS transport shuts down on
            # EOF or close_notify whatever we return.
            conn._notify_close(self._delegate)
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

    def pause_writing(self) -> None:  # noqa: D102
        self._write_paused = True

    def resume_writing(self) -> None:  # noqa: D102
        self._write_paused = False
        self._release_waiters()
        if self._current is None and not self._closed:
            if self._read_paused:
                self._resume_reading()
            if self._parser.buffered:
                self._process_safely()

    # -- event loop over the parser ---------------------------------------------------------

    def _process(self) -> None:
        if self._in_process:
            return
        self._in_process = True
        parser = self._parser
        try:
            while not self._closed:
                if (self._current is not None and not self._reading_body) or (
                    self._reader is not None and self._reader.flow_paused
                ):
                    break
                if self._write_paused and self._current is None:
                    # The client is not reading its responses: stop parsing new requests
                    # (resume_writing restarts us), so the write buffer stays bounded.
                    self._pause_reading()
                    break
                try:
                    ev = parser.next_event()
                except RemoteProtocolError as exc:
                    self._bad_input(exc)
                    return
                if ev is NEED_DATA:
                    break
                cls = ev.__class__
                if cls is Request:
                    self._on_head(ev)  # type: ignore[arg-type]
                elif cls is Data:
                    if self._reading_body:  # (else a body dropped after its answer)
                        self._on_data(ev.data)  # type: ignore[union-attr]
                elif self._discarding:
                    self._discarding = False  # the unread body is dropped whole
                elif self._reading_body:
                    self._on_end(ev)  # type: ignore[arg-type]
        finally:
            self._in_process = False
            if self._collect:
                self._collect = False
                if self._out is not None:
                    self._flush()
        if self._closed:
            return
        if self._current is None:
            if parser._pos < len(parser._buf):  # parser.buffered, inlined (hot path)
                if self._eof:
                    self._close()
                    return
                if self._timer.head_start is None and not self._discarding:
                    self._timer.head_begun(self)
            elif self._eof:
                self._close()
        elif self._reading_body:
            if self._eof and not self._flow_paused:
                # Every buffered byte is consumed and the client sent its FIN: the body
                # will never be complete.
                log.warning("%s: client disconnected mid-request", self._peer)
                self._abort_current()
                self._close()
                return
            self._timer.arm_body(self)
        elif parser.buffered > _PIPELINE_BUFFER and not self._read_paused:
            self._pause_reading()

    def _on_head(self, ev: Request) -> None:
        ctx = self._ctx
        conn = HTTPConnection(
            self, ev.version, ev.method == "HEAD", ev.keep_alive and not ctx.no_keep_alive
        )
        request = HTTPServerRequest._from_wire(
            ev.method, ev.target, ev.version, ev.headers, conn, self._remote_ip, self._scheme
        )
        if ctx.xheaders:
            request.remote_ip = xheaders_ip(ev.headers, self._remote_ip, ctx.trusted_downstream)
            request.protocol = xheaders_protocol(ev.headers, self._scheme)
        # Typed wide on purpose: the callbacks below may end the request (set it to None),
        # which a narrowed attribute would hide from mypy and from mypyc's compiled checks.
        self._current = cast("HTTPConnection | None", conn)
        self._request = request
        has_body = ev.chunked or ev.content_length > 0
        if ctx.factory is None and not has_body:
            # The plain-callable fast path (_dispatch, inlined): no Task, no coroutine.
            try:
                result = ctx.callback(request)  # type: ignore[misc]
            except Exception:
                self._app_error("uncaught exception in request callback")
                return
            if result is not None and self._current is not None:
                self._run_in_task(result)
            return
        stream = False
        max_body: int | None = None
        if has_body:
            reader = self._reader
            if reader is None:
                reader = BodyReader(self._loop, ctx.limits, ctx.decompress, self._timer)
                self._reader = reader
            reader.continue_pending = ev.expect_continue
        if ctx.factory is not None:
            try:
                delegate = ctx.factory.start_request(conn)
                self._delegate = delegate
                ready = delegate.headers_received(request)
            except Exception:
                self._app_error("error in headers_received")
                return
            if self._current is not conn:
                return  # answered (and finished) inside headers_received
            if has_body:
                stream = bool(getattr(delegate, "stream_body", False))
                max_body = getattr(delegate, "max_body_size", None)
                if ready is not None:
                    # The delegate is still getting ready (a streaming handler's async
                    # prepare): read the body once it is, with the limits it set by then.
                    fut = asyncio.ensure_future(ready)
                    fut.add_done_callback(
                        functools.partial(self._ready_for_body, ev, conn, stream, max_body)
                    )
                    return
        if not has_body:
            self._dispatch()
            return
        self._begin_body(ev, conn, stream, max_body)

    def _begin_body(
        self, ev: Request, conn: HTTPConnection, stream: bool, max_body: int | None
    ) -> None:
        """Start reading the body of ``ev`` (or answer 413 when it is too large)."""
        try:
            begun = self._reader.begin(self, ev, self._request, conn, stream, max_body)  # type: ignore[union-attr, arg-type]
        except HTTPInputError as exc:
            self._bad_input(exc)
            return
        self._reading_body = begun

    def _ready_for_body(
        self,
        ev: Request,
        conn: HTTPConnection,
        stream: bool,
        max_body: int | None,
        fut: asyncio.Future[Any],
    ) -> None:
        """The awaitable ``headers_received`` returned is done: read the body now.

        Meanwhile the body's first bytes waited in the parser's buffer (reading paused past
        ``_PIPELINE_BUFFER``) and no body timeout ran: the application held the request.
        """
        if self._current is not conn or self._closed:
            return  # answered meanwhile (the body is dropped), or the client left
        if fut.cancelled():
            self._app_exception(asyncio.CancelledError(), "headers_received was cancelled")
            return
        exc = fut.exception()
        if exc is not None:
            self._app_exception(exc, "error in headers_received")
            return
        self._begin_body(ev, conn, stream, max_body)
        if self._reading_body and self._read_paused and not self._flow_paused:
            self._resume_reading()
        self._process_safely()

    def _on_data(self, data: bytes) -> None:
        """A piece of the body being read."""
        try:
            self._reader.feed(self, data)  # type: ignore[union-attr]
        except HTTPInputError as exc:
            self._bad_input(exc)

    def _on_end(self, ev: EndOfMessage) -> None:
        """The body being read is complete: fill the request and dispatch it."""
        request = self._request
        assert request is not None
        try:
            self._reader.end(request, ev.trailers)  # type: ignore[union-attr]
        except HTTPInputError as exc:
            self._bad_input(exc)  # (still reading the body: it closes after answering)
            return
        self._reading_body = False
        self._dispatch()

    def _dispatch(self) -> None:
        """The request is complete: hand it to the application."""
        delegate = self._delegate
        try:
            if delegate is not None:
                result = delegate.finish()
            else:
                result = self._ctx.callback(self._request)  # type: ignore[misc, arg-type]
        except Exception:
            self._app_error("uncaught exception in request callback")
            return
        if result is not None and self._current is not None:
            self._run_in_task(result)

    def _run_in_task(self, result: Any) -> None:
        """The application returned an awaitable: run it as this request's Task."""
        task = asyncio.ensure_future(result)
        self._task = task
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        if self._task is task:
            self._task = None
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._app_exception(exc, "uncaught exception in request callback")

    def _app_exception(self, exc: BaseException, what: str) -> None:
        """Route an exception out of the application to the right answer and log level."""
        if isinstance(exc, StreamClosedError):
            # The client went away while the application wrote: not an error of anyone's
            # here (the disconnect itself is reported where it is noticed).
            log.debug("%s: client gone while the response was written", self._peer)
            self._abort_current()
            self._close()
            return
        if isinstance(exc, HTTPInputError) and self._current is not None:
            # Lazily parsed input (query arguments) found bad by the application: the
            # client's fault, so a 4xx and one warning rather than a 500 and a traceback.
            if not self._current.headers_written:
                self._bad_input(exc)
                return
        log.error("%s: %s", self._peer, what, exc_info=exc)
        self._fail_response()

    # -- responses ---------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        """Write ``data``, or collect it behind a response already written in this pass."""
        if not self._collect:
            self._transport.write(data)  # type: ignore[union-attr]
            self._collect = self._in_process
            return
        out = self._out
        if len(data) >= _COLLECT_MAX:
            # Large enough to go alone: no copy into the collected bytes.
            if out is not None:
                self._flush()
            self._transport.write(data)  # type: ignore[union-attr]
        elif out is None:
            self._out = bytearray(data)
        else:
            out += data
            if len(out) >= _COLLECT_MAX:
                self._flush()

    def _flush(self) -> None:
        """Write out the collected response bytes, if any (before any other transport use)."""
        out = self._out
        if out is not None:
            self._out = None  # handed over whole: never changed again
            transport = self._transport
            # A transport already closing (a send failed, the application aborted it)
            # would only drop them, counting toward asyncio's "socket.send() raised".
            if not transport.is_closing():  # type: ignore[union-attr]
                transport.write(out)  # type: ignore[union-attr]

    def _response_finished(self, conn: HTTPConnection, keep: bool) -> None:
        """Called by ``HTTPConnection`` once a response is complete."""
        if conn is not self._current:
            return
        request = self._request
        if request is not None:
            request._finish_time = _time()  # request._mark_finished(), inlined
        self._current = None
        self._request = None
        self._delegate = None
        parser = self._parser
        if self._reading_body or 0 < parser._state < 7:  # parser.reading_body, inlined
            # Answered before the body was read: drop a small body, else close.
            self._reading_body = False
            if self._reader is not None:
                self._reader.close()
            if keep and self._may_keep_alive():
                self._discarding = True
            else:
                keep = False
        if not keep or self._ctx.shutting_down or self._eof:
            # (after the client's EOF nothing more is read: the answer was its last)
            self._close()
            return
        if parser._pos < len(parser._buf) and self._transport.is_closing():  # type: ignore[union-attr]
            # A send failed (the peer reset) before connection_lost could run: answering
            # the pipelined requests still buffered would only write into a dead socket.
            self._close()
            return
        self._timer.idle(self)
        if self._discarding:
            self._timer.dropping_body()  # header_timeout bounds the discard
        if self._read_paused:
            self._resume_reading()
        if not self._in_process and (parser._pos < len(parser._buf) or self._eof):
            self._process_safely()

    def _may_keep_alive(self) -> bool:
        """Whether the connection can be reused after the response now being sent.

        Not when the server shuts down, nor when an unread request body is too large to
        skip cheaply (or the client still waits for ``100 Continue`` to send it).
        """
        if self._ctx.shutting_down or self._eof:
            return False
        parser = self._parser
        if parser._state == 0:  # the request is fully read (the hot path)
            return True
        remaining = parser.body_remaining
        if remaining is None or remaining > _DISCARD_MAX:
            return False
        return self._reader is None or not self._reader.continue_pending

    def _drain(self) -> asyncio.Future[None]:
        """A future done once the write buffer is below its mark (at once if it is)."""
        if self._write_paused and not self._closed:
            return self._released()
        fut: asyncio.Future[None] = self._loop.create_future()
        fut.set_result(None)
        return fut

    def _released(self) -> asyncio.Future[None]:
        """A future done at the next ``resume_writing``, close or connection loss."""
        fut: asyncio.Future[None] = self._loop.create_future()
        if self._drain_waiters is None:
            self._drain_waiters = []
        self._drain_waiters.append(fut)
        return fut

    def _release_waiters(self) -> None:
        waiters = self._drain_waiters
        if waiters:
            self._drain_waiters = None
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)

    # -- errors ------------------------------------------------------------------------------

    def _bad_input(self, exc: RemoteProtocolError | HTTPInputError) -> None:
        """Answer a protocol or input error with its status and close, logging once."""
        status = exc.status_hint
        # str(exc), not exc: a handler that keeps records (caplog, a MemoryHandler) would
        # keep the exception, whose traceback holds this whole connection.
        log.warning("%s: bad request (%d): %s", self._peer, status, str(exc))
        conn = self._current
        if conn is None or not conn.headers_written:
            reason = responses.get(status, "Bad Request")
            # The body says what was wrong, in the words of the log line (the parser's
            # messages quote client bytes as clipped reprs); nosniff keeps a browser from
            # reading the quoted bytes as anything but text.
            body = f"{status} {reason}: {_one_line(str(exc))}\n".encode()
            head = (
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                f"X-Content-Type-Options: nosniff\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            if conn is not None:
                conn._state = 2
            if self._transport is not None and not self._closed:
                self._flush()
                self._transport.write(head.encode("latin-1") + body)
        self._abort_current()
        self._close()

    def _abort_current(self) -> None:
        """Tell the in-flight request's delegate that its connection is gone."""
        if self._reader is not None:
            self._reader.close()
        conn = self._current
        delegate = self._delegate
        self._current = None
        self._request = None
        self._delegate = None
        self._reading_body = False
        if conn is not None and not conn.finished:
            conn._notify_close(delegate)

    def _app_error(self, what: str) -> None:
        exc = sys.exc_info()[1]
        assert exc is not None
        self._app_exception(exc, what)

    def _fail_response(self) -> None:
        """The application failed: answer 500 if nothing was sent, else cut the response."""
        conn = self._current
        if conn is None:
            return
        if not conn.headers_written and not self._closed:
            try:
                conn.set_keep_alive(not self._reading_body)
                conn.respond(
                    500,
                    [("Content-Type", "text/plain; charset=utf-8")],
                    b"500 Internal Server Error\n",
                )
            except Exception:  # pragma: no cover - defensive
                self._close()
        else:
            self._abort_current()
            self._close()

    # -- timeouts (what ConnectionTimer asks) -----------------------------------------------

    def _timer_state(self) -> int:
        """What the timer should bound now (see ``_timeouts``)."""
        if self._closed:
            return UNTIMED
        if self._current is None:
            return HEAD if self._parser.in_progress else IDLE
        if self._reading_body and not self._flow_paused:
            return BODY
        return UNTIMED  # the application holds the request

    def _timer_fired(self) -> None:
        """The timer's handle fired (it holds this bound method, not the timer's)."""
        self._timer.fire(self)

    def _timed_out(self, kind: str) -> None:
        """The deadline of state ``kind`` passed: close (with a 408 unless idle)."""
        if kind == "idle":
            log.debug("%s: closing idle connection", self._peer)
            self._close()
            return
        log.warning("%s: timed out waiting for the request %s", self._peer, kind)
        conn = self._current
        if conn is None or not conn.headers_written:
            if self._transport is not None:
                self._flush()
                self._transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
        self._abort_current()
        self._close()

    # -- transport control -------------------------------------------------------------------

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.cancel()
        if self._transport is not None:
            self._flush()
            self._transport.close()
        self._release_waiters()

    def abort(self) -> None:
        """Close the connection at once, dropping unsent data (forced shutdown)."""
        self._abort_current()
        self._closed = True
        if self._transport is not None:
            self._flush()  # what is collected goes as far as the socket takes it at once
            self._transport.abort()

    def close_if_idle(self) -> bool:
        """Close now when no request is in progress; return whether it did."""
        if self._current is None and not self._parser.in_progress:
            self._close()
            return True
        return False

    @property
    def idle(self) -> bool:
        """Whether no request is in progress on this connection."""
        return self._current is None and not self._parser.in_progress

    def _pause_reading(self) -> None:
        if self._transport is not None and not self._read_paused:
            self._flush()
            self._read_paused = True
            try:
                self._transport.pause_reading()
            except RuntimeError:  # pragma: no cover - closing transport
                pass

    def _resume_reading(self) -> None:
        if self._transport is not None and self._read_paused:
            self._flush()
            self._read_paused = False
            try:
                self._transport.resume_reading()
            except RuntimeError:  # pragma: no cover - closing transport
                pass

    def _detach(self) -> bytes:
        """Stop serving HTTP for good (the connection is upgraded); return the unread bytes.

        ``_closed`` stops this protocol's loops and makes its ``_close()`` a no-op, so
        nothing it still runs (the handler's Task finishing) can touch the transport.
        """
        parser = self._parser
        rest = bytes(parser._buf[parser._pos :])
        parser._buf = b""
        parser._pos = 0
        self._collect = False  # (upgrade() flushed before its head: nothing is collected)
        self._closed = True
        self._ctx.connections.discard(self)
        self._timer.cancel()
        self._current = None
        self._request = None
        self._delegate = None
        self._release_waiters()
        if self._read_paused:
            self._resume_reading()
        return rest

    def _scheme_is_tls(self) -> bool:
        return self._transport is not None and (
            self._transport.get_extra_info("sslcontext") is not None
        )


class BufferedHTTPProtocol(HTTPProtocol, asyncio.BufferedProtocol):
    """``HTTPProtocol`` reading into its server's one buffer: the class for asyncio's loops.

    Given a plain Protocol, asyncio's transports call ``recv(256 KiB)`` for every read: a
    fresh 256 KiB allocation, shrunk to the bytes that came. Once glibc's mmap threshold has
    grown past that size those come from the heap, where the freed tails and long-lived
    small objects interleave: under a 5-minute mixed load the server's RSS crept up by 6-14%
    with the heap's free space growing. Reading into one buffer and copying out exactly
    what came keeps it flat. uvloop already reads into a buffer of its own and hands over
    exact-size bytes, so it gets the plain class (measured: no gain there, only the copy).
    """

    __slots__ = ("_rbuf",)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        buf = self._ctx.read_buffer
        if buf is None:
            buf = self._ctx.read_buffer = memoryview(bytearray(_READ_BUFFER))
        self._rbuf = buf
        super().connection_made(transport)

    def get_buffer(self, sizehint: int) -> memoryview:  # noqa: D102
        return self._rbuf

    def buffer_updated(self, nbytes: int) -> None:  # noqa: D102
        self.data_received(self._rbuf[:nbytes].tobytes())


def protocol_class(loop: asyncio.AbstractEventLoop) -> type[HTTPProtocol]:
    """The connection class for ``loop``: buffered reads on asyncio's own loops."""
    return BufferedHTTPProtocol if isinstance(loop, asyncio.BaseEventLoop) else HTTPProtocol
