"""HTTPConnection: how one request is answered (``request.connection``).

One object per request, so a handler holding a stale connection can never write into the
response of a later pipelined request. Two ways to answer:

- ``respond(status, headers, body)``: the fast path. Status line, headers and body leave in
  ONE ``transport.write``; ``Content-Length``, ``Date`` and the ``Connection`` header the
  protocol needs are added when absent. Answers to pipelined requests read together go
  out together: the protocol collects them (``_send``) into one write.
- ``write_headers`` → ``write``* → ``finish``: streamed output, chunked (HTTP/1.1) or
  close-delimited (HTTP/1.0) unless a ``Content-Length`` is given. ``write`` returns an
  awaitable that completes when the transport buffer is under its high-water mark.

A client leaving is normal, so a closed connection has one answer on every write path:
``respond``, ``write_headers``, ``write``, ``sendfile`` and ``finish`` raise
``StreamClosedError`` (never a ``ResponseStateError`` about a response the disconnect cut
short), and the Protocol logs it at debug level when it escapes the application.
"Closed" means we closed the connection or the transport is closing (a send already failed:
the peer reset) — not a client's FIN alone, after which an answer still goes out.

What a response needs from the connection it is written to is ``ResponseOwner``, declared
here (the HTTP protocol is one); this module does not import the protocol.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, BinaryIO, Final, Protocol

from squall.http._errors import (
    ContentLengthMismatchError,
    LocalProtocolError,
    ResponseStateError,
    StreamClosedError,
)
from squall.http._grammar import HTTP10
from squall.http._headers import HTTPHeaders
from squall.http._limits import checked_body_timeout, checked_max_body_size
from squall.http._parser import RequestParser
from squall.http._upgrade import hand_over
from squall.http._writer import (
    LAST_CHUNK,
    date_header,
    encode_head,
    header_block,
    responses,
    status_line,
)
from squall.http._zerocopy import YIELD_EVERY, SendfileOwner, socket_fd, zero_copy

__all__ = ["ConnectionStream", "HTTPConnection", "ResponseOwner"]

log: Final = logging.getLogger("squall.http")

_FRESH: Final = 0
_STREAMING: Final = 1
_DONE: Final = 2

_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
_BIG_BODY: Final = 256 * 1024  # above this, a second write() beats copying head + body


# Header list → (its block, no header of ours in it). Responses of one application repeat
# the same few header lists (a constant Content-Type, a Server header...); a hit skips the
# join and the CR/LF/NUL checks. Bounded, cleared wholesale when full.
_BLOCKS: dict[tuple[tuple[str, str], ...], tuple[str, bool]] = {}
_BLOCKS_MAX: Final = 256

_STATUS_LINES: Final[dict[int, str]] = {
    code: f"HTTP/1.1 {code} {phrase}\r\n" for code, phrase in responses.items()
}


def _check_declared_length(headers: list[tuple[str, str]], body_len: int) -> None:
    """Refuse a whole body whose length is not the Content-Length the application gave.

    Sent as is, a longer body would be read by the client as the start of the next
    response, and a shorter one would leave it waiting for bytes that never come: the
    keep-alive connection would be out of step either way.
    """
    declared = (_header_value(headers, "content-length") or "").strip()
    if not (declared.isascii() and declared.isdigit()) or int(declared) != body_len:
        raise ContentLengthMismatchError(
            f"Content-Length {declared!r} given for a response body of {body_len} bytes"
        )


class _ServerState(Protocol):
    @property
    def shutting_down(self) -> bool: ...  # no connection is kept alive any more


class BodyTimer(Protocol):
    """The part of a connection's timer a per-request ``body_timeout`` changes."""

    body_timeout: float | None  # seconds without progress allowed to the body being read

    def arm_body(self, owner: Any) -> None: ...  # fire by the body's (new) deadline


class ResponseOwner(SendfileOwner, Protocol):
    """What a response needs from its connection (``HTTPProtocol`` is one)."""

    _eof: bool  # the client sent FIN
    _reading_body: bool
    _current: HTTPConnection | None  # the request being answered
    _own_body_limits: bool  # set when a request chose its own body limits
    _in_process: bool  # answering requests parsed in one pass (see _send)
    _collect: bool  # a response of this pass was written: _send collects the next ones
    _parser: RequestParser  # whether the request was read whole; the bytes after it
    _peername: Any  # the socket's peer address, as the transport gave it
    _remote_ip: str  # the peer's IP ("0.0.0.0" for a Unix socket)
    _scheme: str  # "http" or "https" (TLS on this connection)

    @property
    def _ctx(self) -> _ServerState: ...  # what the connection shares with its server
    @property
    def _peer(self) -> str: ...  # the peer address, for log lines
    @property
    def _timer(self) -> BodyTimer: ...  # its clocks (a per-request body_timeout is set on it)
    def _may_keep_alive(self) -> bool: ...
    def _response_finished(self, conn: HTTPConnection, keep: bool) -> None: ...
    def _abort_current(self) -> None: ...  # drop the request, telling the application
    def _detach(self) -> bytes: ...  # stop serving HTTP (upgrade); return the unread bytes
    def _send(self, data: bytes) -> None: ...  # write, or collect behind this pass's answers
    def _flush(self) -> None: ...  # write what is collected (before any other transport use)


def _has_header(low: str, name: str) -> bool:
    """Whether the lower-cased header block ``low`` has a line for ``name`` (``"name:"``)."""
    return low.startswith(name) or ("\n" + name) in low


def _header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    value = None
    for n, v in headers:
        if n.lower() == name:
            value = v
    return value


def _as_pairs(headers: Any) -> list[tuple[str, str]]:
    if isinstance(headers, HTTPHeaders):
        return list(headers.get_all())
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


class ConnectionStream:
    """What ``connection.stream`` offers: ``closed()``, as Tornado's ``IOStream.closed()``.

    Tornado's handlers poll ``request.connection.stream.closed()`` to learn whether the
    client left (its chat demo does). The server drives the socket, so this view only
    reads: no reading, writing or closing through it.
    """

    __slots__ = ("_proto",)

    def __init__(self, proto: ResponseOwner) -> None:
        self._proto = proto

    def closed(self) -> bool:
        """Whether the client connection is gone (closed, reset, or its side shut: FIN)."""
        proto = self._proto
        return proto._closed or proto._eof

    def __repr__(self) -> str:
        return f"<ConnectionStream closed={self.closed()}>"


class ConnectionContext:
    """What ``connection.context`` offers: Tornado's per-connection facts, read-only.

    Tornado programs read ``request.connection.context.address`` (also ``.remote_ip``,
    ``.protocol``), often in WebSocket handlers, to name the peer. They describe the
    socket: ``address`` is the peer address as the transport gave it (``(ip, port)``; a
    path or ``""`` on a Unix socket), ``remote_ip`` its IP, ``protocol`` ``"https"`` over
    TLS. As in Tornado while a handler runs, ``xheaders`` does not change them (the proxy's
    view is ``request.remote_ip`` / ``request.protocol``).
    """

    __slots__ = ("_address", "_remote_ip", "_protocol")

    def __init__(self, address: Any, remote_ip: str, protocol: str) -> None:
        self._address = address
        self._remote_ip = remote_ip
        self._protocol = protocol

    @property
    def address(self) -> Any:
        """The peer's socket address (``(ip, port)`` over TCP)."""
        return self._address

    @property
    def remote_ip(self) -> str:
        """The peer's IP (``"0.0.0.0"`` on a Unix socket); never from ``xheaders``."""
        return self._remote_ip

    @property
    def protocol(self) -> str:
        """``"https"`` when the connection is TLS, else ``"http"``; never from ``xheaders``."""
        return self._protocol

    def __str__(self) -> str:
        address = self._address
        if isinstance(address, tuple):
            return self._remote_ip
        if isinstance(address, bytes):
            return address.decode("utf-8", "replace")
        return str(address)

    def __repr__(self) -> str:
        return (
            f"<ConnectionContext remote_ip={self._remote_ip!r} protocol={self._protocol!r} "
            f"address={self._address!r}>"
        )


class HTTPConnection:
    """The answering side of one request (see the module docstring).

    It deliberately holds no reference to its request: request → connection is the only
    link, so both are freed by reference counting when the handler lets go of them (a
    cycle would leave every request to the cyclic garbage collector).
    """

    # _max_body, _body_timeout and _stream stay unset until their setter (or ``stream``)
    # is used: a request that never uses them pays nothing (the body reader reads the
    # first two with getattr only when the protocol's _own_body_limits hint is set).
    __slots__ = ("_proto", "_version", "_head", "_keep_alive", "_state", "_chunked",
                 "_nobody", "_remaining", "_close_callback", "_close_notified",
                 "_max_body", "_body_timeout", "_stream", "_context",
                 "__weakref__")  # fmt: skip
    _max_body: int
    _body_timeout: float | None
    _stream: ConnectionStream
    _context: ConnectionContext

    def __init__(self, proto: ResponseOwner, version: str, head: bool, keep_alive: bool) -> None:
        self._proto = proto
        self._version = version
        self._head = head
        self._keep_alive = keep_alive
        self._state = _FRESH
        self._chunked = False
        self._nobody = False
        self._remaining: int | None = None
        self._close_callback: Callable[[], None] | None = None
        self._close_notified = False

    # -- state -----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the connection is closed: we closed it, or the client closed its side.

        After the client's FIN (a ``close()``, or only ``shutdown(SHUT_WR)``) this is true,
        yet a response is still sent over plain TCP (a half-closed client still reads it)
        and the connection closes after it.
        """
        proto = self._proto
        return proto._closed or proto._eof

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback()`` once if the client leaves before this response is finished.

        It runs when the client closes its side (FIN or reset) while the request is being
        answered; ``None`` removes it. A plain request callback's way to notice what a
        delegate learns from ``on_connection_close``. Errors in it are logged, not raised.
        """
        if callback is not None and self._close_notified:
            # Already gone: tell soon (the loop logs its errors) rather than never.
            self._close_callback = None
            self._proto._loop.call_soon(callback)
            return
        self._close_callback = callback

    def _notify_close(self, delegate: Any) -> None:
        """Tell the application (once per request) that the client left before the end."""
        if self._close_notified:
            return
        self._close_notified = True
        callback = self._close_callback
        if callback is not None:
            self._close_callback = None
            try:
                callback()
            except Exception:
                log.error("%s: error in a close callback", self._proto._peer, exc_info=True)
        on_close = getattr(delegate, "on_connection_close", None) if delegate else None
        if on_close is not None:
            try:
                on_close()
            except Exception:
                log.error("%s: error in on_connection_close", self._proto._peer, exc_info=True)

    @property
    def stream(self) -> ConnectionStream:
        """A read-only view of the connection for code written against Tornado's IOStream.

        Only ``stream.closed()`` (true once the client left, as ``closed``) is offered: the
        connection itself is driven by the server. Made on first use.
        """
        try:
            return self._stream
        except AttributeError:
            view = self._stream = ConnectionStream(self._proto)
            return view

    @property
    def context(self) -> ConnectionContext:
        """Tornado's ``connection.context``: ``remote_ip``, ``protocol``, ``address``.

        Read-only, made on first use (a request that never reads it pays nothing); see
        ``ConnectionContext``.
        """
        try:
            return self._context
        except AttributeError:
            proto = self._proto
            view = ConnectionContext(proto._peername, proto._remote_ip, proto._scheme)
            self._context = view
            return view

    # -- limits of this request's body ----------------------------------------------------

    # The parameters are typed ``object``: the value is checked here, with an error that
    # names it, also where mypyc compiles this module (it would refuse a wrong type first,
    # with a message that names nothing).
    def set_max_body_size(self, max_body_size: object) -> None:
        """Allow this request's body up to ``max_body_size`` bytes (above or below the server's).

        Only this request is affected. Call it before the body is read: in a delegate's
        ``headers_received`` or before the awaitable it returned completes (a
        ``@stream_request_body`` handler's ``prepare``, async or not). A Content-Length over
        the limit is then answered 413 before any body byte is read, and a body that grows
        past it while arriving (chunked, or once inflated) gets 413 too. Called later, while
        the body is still arriving, it bounds only what remains: a Content-Length was
        already checked against the limit in force when reading began.

        Raises:
            TypeError: ``max_body_size`` is not an int.
            ValueError: ``max_body_size`` is negative.
        """
        limit = checked_max_body_size(max_body_size)
        self._max_body = limit
        proto = self._proto
        if proto._current is self:
            proto._own_body_limits = True
            if proto._reading_body:
                proto._parser.max_body_size = limit

    def set_body_timeout(self, timeout: object) -> None:
        """Use ``timeout`` seconds without progress, not the server's ``body_timeout``, here.

        Only this request's body is affected; ``None`` lifts the limit (``body_min_rate``
        still applies). Call it before the body is read, as ``set_max_body_size``; called
        while the body is arriving, it takes effect from then on. A body that stalls longer
        gets the server's usual answer: ``408 Request Timeout`` and the connection closed.

        Raises:
            TypeError: ``timeout`` is not a number (nor None).
            ValueError: ``timeout`` is not positive (or not finite).
        """
        seconds = checked_body_timeout(timeout)
        self._body_timeout = seconds
        proto = self._proto
        if proto._current is self:
            proto._own_body_limits = True
            if proto._reading_body:
                proto._timer.body_timeout = seconds
                proto._timer.arm_body(proto)

    @property
    def transport(self) -> asyncio.Transport:
        """The asyncio transport (for ``sendfile`` and socket options).

        Responses collected for one write (pipelined requests) are written out first, so
        whatever the caller does with the transport comes after them.
        """
        proto = self._proto
        proto._flush()
        return proto._transport  # type: ignore[return-value]

    @property
    def finished(self) -> bool:
        """Whether the response is complete."""
        return self._state == _DONE

    @property
    def headers_written(self) -> bool:
        """Whether the status line and headers have been sent."""
        return self._state != _FRESH

    def set_keep_alive(self, keep_alive: bool) -> None:
        """Allow or forbid reusing the connection after this response (before answering)."""
        self._keep_alive = self._keep_alive and keep_alive

    # -- head ------------------------------------------------------------------------------

    def _build_head(
        self, status: int, headers: list[tuple[str, str]], reason: str | None, body_len: int
    ) -> tuple[str, bool]:
        """Return the head (with its empty line) and whether Content-Length was given."""
        block = header_block(headers)
        has_cl = has_date = has_conn = False
        value = ""
        if block:
            low = block.lower()
            has_cl = "content-length:" in low and _has_header(low, "content-length:")
            has_date = "date:" in low and _has_header(low, "date:")
            if "connection:" in low and _has_header(low, "connection:"):
                has_conn = True
                value = _header_value(headers, "connection") or ""
                if "close" in value.lower():
                    self._keep_alive = False
        if self._keep_alive and not self._proto._may_keep_alive():
            self._keep_alive = False
        if has_conn and not self._keep_alive and "close" not in value.lower():
            # The application asked to keep the connection but it will be closed (the
            # client asked, HTTP/1.0, shutdown): say so rather than promise keep-alive.
            headers = [(n, v) for n, v in headers if n.lower() != "connection"]
            block = header_block(headers)
            has_conn = False
        extra = ""
        nobody = status < 200 or status == 204 or status == 304
        if body_len >= 0 and not has_cl and not nobody:
            extra = f"Content-Length: {body_len}\r\n"
        if not has_date:
            extra += date_header()
        if not has_conn:
            if self._version is HTTP10:
                if self._keep_alive:
                    extra += "Connection: keep-alive\r\n"
            elif not self._keep_alive:
                extra += "Connection: close\r\n"
        return status_line("HTTP/1.1", status, reason) + block + extra + "\r\n", has_cl

    def respond(
        self,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
        reason: str | None = None,
    ) -> None:
        """Send a whole response (status line, headers and body) in one write, and finish.

        ``Content-Length`` (unless given, or for 1xx/204/304), ``Date`` and the
        ``Connection`` header the protocol needs are added. For ``HEAD`` the body is not
        sent (its length is still announced).

        Raises:
            ResponseStateError: the response was already started (also a RuntimeError).
            InvalidHeaderError: a header holds CR, LF or NUL (also a ValueError).
            ContentLengthMismatchError: a ``Content-Length`` given that is not the body's
                length (also a ValueError; nothing is sent; HEAD, 1xx, 204 and 304 answers
                are not checked).
            StreamClosedError: the connection is closed (nothing is sent).
        """
        proto = self._proto
        if proto._closed or proto._transport.is_closing():  # type: ignore[union-attr]
            self._state = _DONE
            raise StreamClosedError("connection closed")
        if self._state:
            raise ResponseStateError("respond() after the response was started")
        if type(headers) is not list:
            headers = _as_pairs(headers)
        # Fast path, everything inline: a plain 2xx-5xx with a body length to add and no
        # header of ours to reconcile (no Content-Length, Date or Connection given).
        try:
            key: Any = tuple(headers)
            cached = _BLOCKS.get(key)
        except TypeError:  # unhashable items (lists): no memo
            key = cached = None
        if cached is None:
            block = "".join([f"{n}: {v}\r\n" for n, v in headers])
            count = len(headers)
            if block.count("\n") != count or block.count("\r") != count or "\x00" in block:
                header_block(headers)  # raises InvalidHeaderError naming the culprit
            low = block.lower()
            # a false positive ("x-date:") only takes the slow path, which checks exactly
            plain = (
                "content-length:" not in low
                and "date:" not in low
                and "connection:" not in low
                and "transfer-encoding:" not in low
            )
            if key is not None:
                if len(_BLOCKS) >= _BLOCKS_MAX:
                    _BLOCKS.clear()
                _BLOCKS[key] = (block, plain)
        else:
            block, plain = cached
        if plain and reason is None and 200 <= status != 204 and status != 304:
            keep = self._keep_alive
            if keep and (proto._parser._state or proto._ctx.shutting_down or proto._eof):
                keep = self._keep_alive = proto._may_keep_alive()
            line = _STATUS_LINES.get(status)
            if line is None:
                line = status_line("HTTP/1.1", status)
            if self._version is HTTP10:
                conn = "Connection: keep-alive\r\n" if keep else ""
            else:
                conn = "" if keep else "Connection: close\r\n"
            head = f"{line}{block}Content-Length: {len(body)}\r\n{date_header()}{conn}\r\n"
        else:
            # The whole body is sent with its length: a given Transfer-Encoding cannot apply.
            headers = [(n, v) for n, v in headers if n.lower() != "transfer-encoding"]
            head, has_cl = self._build_head(status, headers, reason, len(body))
            if has_cl and not self._head and 200 <= status != 204 and status != 304:
                _check_declared_length(headers, len(body))
        try:
            data = head.encode("latin-1")
        except UnicodeEncodeError:
            data = encode_head(head)  # raises InvalidHeaderError
        self._state = _DONE
        if body and not self._head and status >= 200 and status != 204 and status != 304:
            if len(body) < _BIG_BODY:
                data += body
            else:
                proto._send(data)
                data = body
        if proto._collect:
            proto._send(data)
        else:  # proto._send(data), inlined (the hot path)
            proto._transport.write(data)  # type: ignore[union-attr]
            proto._collect = proto._in_process
        proto._response_finished(self, self._keep_alive)

    def write_headers(
        self, status: int, headers: Iterable[tuple[str, str]], reason: str | None = None
    ) -> None:
        """Start a streamed response: send the status line and headers now.

        Without a ``Content-Length`` header the body is sent chunked (HTTP/1.1 client) or
        delimited by closing the connection (HTTP/1.0 client).

        Raises:
            ResponseStateError: the response was already started.
            InvalidHeaderError: a header holds CR, LF or NUL.
            StreamClosedError: the connection is closed (nothing is sent).
        """
        proto = self._proto
        if proto._closed or proto._transport.is_closing():  # type: ignore[union-attr]
            self._state = _DONE
            raise StreamClosedError("connection closed")
        if self._state:
            raise ResponseStateError("write_headers() after the response was started")
        pairs = _as_pairs(headers)
        nobody = self._head or status < 200 or status == 204 or status == 304
        low_names = [n.lower() for n, _ in pairs]
        chunked = False
        if "transfer-encoding" in low_names and (
            "content-length" in low_names or self._version is HTTP10
        ):
            # The body is framed by its length, or (HTTP/1.0 has no chunked coding) by
            # closing the connection: an application's Transfer-Encoding would be a lie.
            pairs = [(n, v) for n, v in pairs if n.lower() != "transfer-encoding"]
            low_names = [n.lower() for n, _ in pairs]
        if "content-length" in low_names:
            cl = _header_value(pairs, "content-length") or ""
            if not cl.strip().isdigit():
                raise LocalProtocolError(f"invalid Content-Length {cl!r}")
            self._remaining = int(cl)
        elif not nobody:
            if self._version is HTTP10:
                self._keep_alive = False  # the end of the body is the end of the connection
            else:
                chunked = True
                if "transfer-encoding" in low_names:
                    te = _header_value(pairs, "transfer-encoding") or ""
                    if te.strip().lower() != "chunked":
                        raise LocalProtocolError(f"unsupported Transfer-Encoding {te!r}")
                else:
                    pairs.append(("Transfer-Encoding", "chunked"))
        head, _ = self._build_head(status, pairs, reason, -1)
        data = encode_head(head)
        self._state = _STREAMING
        self._chunked = chunked
        self._nobody = nobody
        proto._send(data)

    def write(self, chunk: bytes) -> Awaitable[None]:
        """Send a piece of a streamed body; await the result to respect flow control.

        Raises:
            ResponseStateError: ``write_headers`` was not called, or ``finish`` was.
            StreamClosedError: the connection is closed.
            LocalProtocolError: more bytes than the announced Content-Length.
        """
        proto = self._proto
        if proto._closed or proto._transport.is_closing():  # type: ignore[union-attr]
            # is_closing: the transport saw the peer go (a failed send) before our
            # connection_lost ran; writing on would only be dropped (and warned about).
            raise StreamClosedError("connection closed")
        if self._state != _STREAMING:
            raise ResponseStateError("write() needs write_headers() first and no finish()")
        if chunk and not self._nobody:
            if self._remaining is not None:
                if len(chunk) > self._remaining:
                    raise LocalProtocolError("write() past the announced Content-Length")
                self._remaining -= len(chunk)
                proto._send(chunk)
            elif self._chunked:
                proto._send(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                proto._send(chunk)
        return proto._drain()

    async def sendfile(self, file: BinaryIO, offset: int = 0, count: int | None = None) -> None:
        """Send ``count`` bytes of ``file`` from ``offset`` after ``write_headers``.

        Zero-copy on plain TCP: ``loop.sendfile`` under asyncio, ``os.sendfile`` on the
        transport's socket when the loop has no ``sendfile`` (uvloop); else (TLS, in-memory
        files) it reads and writes chunks with flow control. The bytes actually sent are
        counted: when the file ends early (it shrank while being sent, or ``count`` is
        larger than what is left) the response is short of what was announced, so the
        connection is closed (never kept alive out of step), a warning is logged and
        ``StreamClosedError`` is raised.

        Raises:
            ResponseStateError: ``write_headers`` was not called, or ``finish`` was.
            StreamClosedError: the connection is (or was, for a short file, just) closed.
            LocalProtocolError: more bytes than the announced Content-Length.
        """
        proto = self._proto
        if proto._closed or proto._transport.is_closing():  # type: ignore[union-attr]
            raise StreamClosedError("connection closed")
        if self._state != _STREAMING:
            raise ResponseStateError("sendfile() needs write_headers() first")
        if count is None:
            file.seek(0, 2)
            count = file.tell() - offset
        if self._nobody or count <= 0:
            return
        proto._flush()  # the file goes to the socket directly: what is collected goes first
        if self._chunked:
            proto._transport.write(b"%x\r\n" % count)  # type: ignore[union-attr]
        elif self._remaining is not None:
            if count > self._remaining:
                raise LocalProtocolError("sendfile() past the announced Content-Length")
            self._remaining -= count
        loop = proto._loop
        transport = proto._transport
        native = getattr(loop, "sendfile", None)
        sent = 0
        if native is not None:
            try:
                sent = await native(transport, file, offset, count)
            except NotImplementedError:  # uvloop: no sendfile (raised before sending)
                native = None
            except (RuntimeError, ConnectionError) as exc:
                # asyncio's "Transport is closing" (the peer reset before our
                # connection_lost ran) or a failed send: the client left.
                gone = proto._closed or transport.is_closing()  # type: ignore[union-attr]
                if not gone and not isinstance(exc, ConnectionError):
                    raise
                proto._close()
                raise StreamClosedError("connection closed") from exc
        if native is None:
            sent = await self._send_without_loop_sendfile(file, offset, count)
        if sent < count:
            self._short_file(sent, count)
        if self._chunked and not proto._closed:
            transport.write(b"\r\n")  # type: ignore[union-attr]

    async def _send_without_loop_sendfile(self, file: BinaryIO, offset: int, count: int) -> int:
        """``os.sendfile`` on a plain socket (see ``_zerocopy``), else copied chunks."""
        sock_fd = socket_fd(self._proto._transport)
        if sock_fd is None:  # TLS, or no socket to write to
            return await self._send_chunks(file, offset, count)
        try:
            file_fd = file.fileno()
        except (AttributeError, OSError, ValueError):  # BytesIO and other in-memory files
            return await self._send_chunks(file, offset, count)
        sent, supported = await zero_copy(self._proto, sock_fd, file_fd, offset, count)
        if not supported:
            sent += await self._send_chunks(file, offset + sent, count - sent)
        else:
            file.seek(offset + sent)  # where loop.sendfile and the chunks leave it too
        return sent

    async def _send_chunks(self, file: BinaryIO, offset: int, count: int) -> int:
        """Read and write ``count`` bytes with flow control; return how many were sent."""
        proto = self._proto
        transport = proto._transport
        file.seek(offset)
        sent = 0
        unwaited = 0
        while sent < count:
            data = file.read(min(count - sent, 256 * 1024))
            if not data:
                break  # the file ended early: the caller closes the connection
            # is_closing: the peer is gone (a failed send) before our connection_lost ran;
            # the transport would drop the rest of the file, read for nothing.
            if proto._closed or transport.is_closing():  # type: ignore[union-attr]
                raise StreamClosedError("connection closed")
            transport.write(data)  # type: ignore[union-attr]
            sent += len(data)
            unwaited += len(data)
            if proto._write_paused:
                unwaited = 0
                await proto._drain()
            elif unwaited >= YIELD_EVERY:
                # Awaiting a done future does not yield: a client that keeps up would
                # otherwise have the loop to itself until the end of the file.
                unwaited = 0
                await asyncio.sleep(0)
        return sent

    def _short_file(self, sent: int, count: int) -> None:
        """The file gave fewer bytes than announced: end the connection and say so."""
        proto = self._proto
        if self._remaining is not None:
            self._remaining += count - sent  # what is really still owed
        self._state = _DONE
        if not proto._closed:
            log.warning(
                "%s: sendfile sent %d of %d bytes (the file ended early); closing",
                proto._peer,
                sent,
                count,
            )
            proto._abort_current()
            proto._close()
        raise StreamClosedError(f"the file ended after {sent} of {count} bytes")

    def finish(self) -> None:
        """End a streamed response (sends the last chunk when chunked).

        Raises:
            ResponseStateError: ``write_headers`` was not called, or ``finish`` was.
            StreamClosedError: the connection is closed (the response is cut short).
        """
        proto = self._proto
        if proto._closed or proto._transport.is_closing():  # type: ignore[union-attr]
            self._state = _DONE
            raise StreamClosedError("connection closed")
        if self._state != _STREAMING:
            raise ResponseStateError("finish() needs write_headers() first, once")
        self._state = _DONE
        keep = self._keep_alive
        if self._chunked:
            proto._send(LAST_CHUNK)
        elif self._remaining:
            keep = False  # fewer bytes than announced: the client cannot find the next response
        proto._response_finished(self, keep)

    def send_continue(self) -> None:
        """Send ``100 Continue`` now (the server does this itself when needed)."""
        proto = self._proto
        if self._state == _FRESH and not proto._closed:
            proto._flush()
            proto._transport.write(_CONTINUE)  # type: ignore[union-attr]

    def upgrade(
        self,
        headers: Iterable[tuple[str, str]],
        owner: asyncio.Protocol,
        *,
        status: int = 101,
        reason: str | None = None,
    ) -> asyncio.Transport:
        """Answer with a ``1xx`` head (``101`` by default) and hand the connection to ``owner``.

        The request must have been read whole (a request with a body cannot be upgraded
        before its body is consumed). After this call the HTTP server is done with the
        connection: ``owner`` receives every later socket event (see ``_upgrade`` for the
        order), including the bytes that arrived after the request head, possibly before
        ``upgrade`` returns.

        Args:
            headers: the response headers, sent as given (``Upgrade``, ``Connection`` and
                the new protocol's own); CR, LF or NUL in them is refused.
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
        if proto._reading_body or proto._parser.reading_body:
            raise ResponseStateError("upgrade() before the request body was read")
        head = status_line("HTTP/1.1", status, reason) + header_block(headers) + "\r\n"
        data = encode_head(head)
        proto._flush()  # the answers before this one, then the head, then the new protocol's
        transport.write(data)
        self._state = _DONE  # this request is answered
        rest = proto._detach()
        hand_over(transport, owner, rest, write_paused=proto._write_paused, eof=proto._eof)
        return transport

    def __repr__(self) -> str:
        state = ("fresh", "streaming", "finished")[self._state]
        return f"<HTTPConnection {state} closed={self.closed}>"
