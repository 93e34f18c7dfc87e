"""ASGIConnection: squall.http's ``HTTPConnection`` contract, spoken as ASGI messages.

squall.web answers through ``request.connection`` (docs/interfaces.md): ``respond`` for a
whole response, or ``write_headers`` → ``write``* → ``finish``. Those calls are synchronous
and ASGI's ``send`` is a coroutine, so each call only queues its messages (``respond``
keeps its two apart, as a pair: nothing comes before or after them); the ASGI call that
owns the request (``_app.SquallASGIApp``) sends them in order. ``write`` returns
a future resolved once its message was sent: awaiting it (web's ``flush()``) is how a
handler follows the server's flow control, as on squall.http.

ASGI carries no reason phrase and owns the framing: a custom reason is dropped, and the
hop-by-hop headers (``Connection``, ``Transfer-Encoding``, ``Keep-Alive``) are left to the
server, which frames the body for HTTP/1.1 or HTTP/2 itself. So is ``Server``: squall.web's
default ``Server: SquallServer/<version>`` is dropped (uvicorn and Hypercorn name
themselves, and a response carries one Server field); a value the application set is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any, BinaryIO, Final

from squall.asgi._types import Message
from squall.http import (
    ConnectionContext,
    HTTPHeaders,
    InvalidHeaderError,
    ResponseStateError,
    StreamClosedError,
    checked_body_timeout,
    checked_max_body_size,
)

__all__ = ["ASGIConnection", "UpgradeNotSupportedError", "encode_headers"]

_FRESH: Final = 0
_STREAMING: Final = 1
_DONE: Final = 2

_HOP_BY_HOP: Final = frozenset({b"connection", b"transfer-encoding", b"keep-alive"})
# squall.web's default Server value ("SquallServer/<version>"), dropped under ASGI
_WEB_SERVER: Final = "SquallServer/"
_CHUNK: Final = 256 * 1024


class UpgradeNotSupportedError(RuntimeError):
    """``upgrade()`` on a request that came through ASGI (WebSocket has its own ASGI scope)."""


# Header list → its ASGI form, and whether it holds a Content-Length. Responses of one
# application repeat the same few header lists; a hit skips the checks and the encoding.
# Bounded, cleared wholesale when full.
_ENCODED: dict[Any, tuple[list[tuple[bytes, bytes]], bool]] = {}
_ENCODED_MAX: Final = 256


def encode_headers(headers: Any) -> list[tuple[bytes, bytes]]:
    """ASGI's header list: lower-cased latin-1 names, hop-by-hop headers left out.

    Raises:
        InvalidHeaderError: a name or value holds CR, LF or NUL (no response splitting).
    """
    return _encode_memo(headers)[0]


def _encode_memo(headers: Any) -> tuple[list[tuple[bytes, bytes]], bool]:
    """``encode_headers`` (a fresh list each call), and whether it has a Content-Length."""
    if type(headers) is list:
        try:
            key: Any = tuple(headers)
            hit = _ENCODED.get(key)
        except TypeError:  # unhashable items: no memo
            key = hit = None
        if hit is not None:
            return hit[0].copy(), hit[1]  # a copy: respond() may append Content-Length
        encoded = _encode(headers)
        found = (encoded, any(k == b"content-length" for k, _ in encoded))
        if key is not None:
            if len(_ENCODED) >= _ENCODED_MAX:
                _ENCODED.clear()
            _ENCODED[key] = found
        return encoded.copy(), found[1]
    encoded = _encode(headers)
    return encoded, any(k == b"content-length" for k, _ in encoded)


# body size → its Content-Length header, shared (tuples do not change): the same few
# sizes recur. Bounded, cleared wholesale when full.
_LENGTHS: dict[int, tuple[bytes, bytes]] = {}
_LENGTHS_MAX: Final = 1024


def _content_length(size: int) -> tuple[bytes, bytes]:
    header = (b"content-length", b"%d" % size)
    if len(_LENGTHS) >= _LENGTHS_MAX:
        _LENGTHS.clear()
    _LENGTHS[size] = header
    return header


def _encode(headers: Any) -> list[tuple[bytes, bytes]]:
    if isinstance(headers, HTTPHeaders):
        pairs: Iterable[tuple[str, str]] = headers.get_all()
    elif isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    out = []
    for name, value in pairs:
        text = f"{name}{value}"
        if "\r" in text or "\n" in text or "\x00" in text:
            raise InvalidHeaderError(f"header {name!r} holds CR, LF or NUL")
        key = name.lower().encode("latin-1")
        if key in _HOP_BY_HOP:
            continue
        text = str(value)
        if key == b"server" and text.startswith(_WEB_SERVER):
            continue  # squall.web's default: the ASGI server names itself (one Server field)
        out.append((key, text.encode("latin-1")))
    return out


def _no_body(status: int) -> bool:
    return status < 200 or status == 204 or status == 304


class _ASGITransport:
    """What ``connection.transport`` offers under ASGI: aborting the response, no socket."""

    __slots__ = ("_conn",)

    def __init__(self, conn: ASGIConnection) -> None:
        self._conn = conn

    def abort(self) -> None:
        """Drop the response: the ASGI call ends without completing it (the server closes)."""
        self._conn._abort()

    close = abort

    def is_closing(self) -> bool:
        """Whether the client left or the response was dropped."""
        return self._conn.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Nothing of the socket is visible through ASGI: always ``default``."""
        return default


class ConnectionStream:
    """``connection.stream`` under ASGI: ``closed()``, as Tornado's ``IOStream.closed()``."""

    __slots__ = ("_conn",)

    def __init__(self, conn: ASGIConnection) -> None:
        self._conn = conn

    def closed(self) -> bool:
        """Whether the client left (the server sent ``http.disconnect``)."""
        return self._conn._gone


class ASGIConnection:
    """The answering side of one ASGI HTTP request (see the module docstring)."""

    __slots__ = ("_head", "_state", "_whole", "_out", "_wake", "_gone", "_close_callback",
                 "_nobody", "_max_body", "_body_timeout", "_scope", "__weakref__")  # fmt: skip

    def __init__(self, head: bool, scope: Any = None) -> None:
        self._head = head
        self._scope = scope
        self._state = _FRESH
        # respond()'s two messages, kept apart from the queue of a streamed response
        # (no future to resolve, nothing queued before or after them): sent as a pair
        self._whole: tuple[Message, Message] | None = None
        self._out: list[tuple[Message, asyncio.Future[None] | None]] = []
        self._wake: asyncio.Future[None] | None = None
        self._gone = False
        self._close_callback: Callable[[], None] | None = None
        self._nobody = False
        self._max_body: int | None = None
        self._body_timeout: float | None = None

    # -- state -----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the client left (``http.disconnect``) or the response was dropped."""
        return self._gone

    @property
    def finished(self) -> bool:
        """Whether the response is complete."""
        return self._state == _DONE

    @property
    def headers_written(self) -> bool:
        """Whether the status and headers were handed to the server."""
        return self._state != _FRESH

    @property
    def transport(self) -> _ASGITransport:
        """A transport-like object: ``abort()`` drops the response; no socket behind it."""
        return _ASGITransport(self)

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback()`` once if the client leaves before the response is finished."""
        if callback is not None and self._gone:
            asyncio.get_running_loop().call_soon(callback)
            return
        self._close_callback = callback

    @property
    def stream(self) -> ConnectionStream:
        """A read-only view for code written against Tornado's IOStream: ``closed()``."""
        return ConnectionStream(self)

    @property
    def context(self) -> ConnectionContext:
        """Tornado's ``connection.context`` from the scope: ``address`` is its ``client``
        (as the ASGI server gives it), ``remote_ip`` that client's host, ``protocol`` its
        ``scheme``."""
        scope = self._scope or {}
        client = scope.get("client")
        protocol = "https" if scope.get("scheme") in ("https", "wss") else "http"
        return ConnectionContext(client, client[0] if client else "0.0.0.0", protocol)

    def set_max_body_size(self, max_body_size: int) -> None:
        """Allow this request's body up to ``max_body_size`` bytes (above or below the
        ``max_body_size`` given to ``to_asgi``).

        Call it before the body is read (in ``headers_received``, or a
        ``@stream_request_body`` handler's ``prepare``): a Content-Length over it is then
        answered 413 before the body is read, and a body growing past it gets 413 too.

        Raises:
            TypeError: ``max_body_size`` is not an int.
            ValueError: ``max_body_size`` is negative.
        """
        max_body_size = checked_max_body_size(max_body_size)
        self._max_body = max_body_size

    def set_body_timeout(self, timeout: float | None) -> None:
        """Answer ``408 Request Timeout`` when the body makes no progress for ``timeout``
        seconds (None: no limit of squall's; the ASGI server's own timeouts still apply).

        Raises:
            TypeError: ``timeout`` is not a number (nor None).
            ValueError: ``timeout`` is not positive (or not finite).
        """
        timeout = checked_body_timeout(timeout)
        self._body_timeout = timeout

    def set_keep_alive(self, keep_alive: bool) -> None:
        """Keep-alive is the ASGI server's business: accepted and left to it."""

    def send_continue(self) -> None:
        """``100 Continue`` is the ASGI server's business (it sends it when the body is read)."""

    def upgrade(self, headers: Any, owner: Any, **kwargs: Any) -> Any:
        """Refused: under ASGI a protocol switch (WebSocket) arrives as its own scope.

        Raises:
            UpgradeNotSupportedError: always.
        """
        raise UpgradeNotSupportedError(
            "upgrade() is not available under ASGI: the server hands WebSocket "
            "handshakes to the application as a 'websocket' scope"
        )

    # -- answering -------------------------------------------------------------------------

    def _push(self, message: Message, future: asyncio.Future[None] | None = None) -> None:
        self._out.append((message, future))
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _check_open(self) -> None:
        if self._gone:
            self._state = _DONE
            raise StreamClosedError("connection closed")

    def respond(
        self,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
        reason: str | None = None,
    ) -> None:
        """Send a whole response (start and body messages) and finish.

        ``Content-Length`` is added unless given (or for 1xx/204/304). ``reason`` is
        dropped: ASGI has no reason phrase.

        Raises:
            ResponseStateError: the response was already started.
            InvalidHeaderError: a header holds CR, LF or NUL.
            StreamClosedError: the client left.
        """
        if self._gone:  # (_check_open, inline: this runs for every response)
            self._state = _DONE
            raise StreamClosedError("connection closed")
        if self._state:
            raise ResponseStateError("respond() after the response was started")
        # The memo's hit, inline (the list web hands over); anything else goes through
        # _encode_memo, which also checks and remembers a new list.
        hit = None
        if type(headers) is list:
            try:
                hit = _ENCODED[tuple(headers)]
            except (KeyError, TypeError):  # new, or unhashable items
                pass
        if hit is None:
            encoded, has_length = _encode_memo(headers)
        else:
            encoded = hit[0].copy()  # a copy: the server (or a middleware) may change it
            has_length = hit[1]
        if status < 200 or status == 204 or status == 304:  # _no_body, inline
            body = b""
        elif not has_length:
            size = len(body)
            try:
                encoded.append(_LENGTHS[size])
            except KeyError:
                encoded.append(_content_length(size))
        if self._head:
            body = b""
        self._state = _DONE
        self._whole = (
            {"type": "http.response.start", "status": status, "headers": encoded},
            {"type": "http.response.body", "body": body, "more_body": False},
        )
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def write_headers(
        self, status: int, headers: Iterable[tuple[str, str]], reason: str | None = None
    ) -> None:
        """Start a streamed response (the server frames the body: chunked, or HTTP/2 DATA).

        Raises:
            ResponseStateError: the response was already started.
            InvalidHeaderError: a header holds CR, LF or NUL.
            StreamClosedError: the client left.
        """
        self._check_open()
        if self._state:
            raise ResponseStateError("write_headers() after the response was started")
        encoded = encode_headers(headers)
        self._state = _STREAMING
        self._nobody = self._head or _no_body(status)
        self._push({"type": "http.response.start", "status": status, "headers": encoded})

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        """Send a piece of a streamed body; the future resolves once the server took it.

        Raises:
            ResponseStateError: ``write_headers`` was not called, or ``finish`` was.
            StreamClosedError: the client left.
        """
        if self._gone:
            raise StreamClosedError("connection closed")
        if self._state != _STREAMING:
            raise ResponseStateError("write() needs write_headers() first and no finish()")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if chunk and not self._nobody:
            self._push({"type": "http.response.body", "body": chunk, "more_body": True}, future)
        else:
            future.set_result(None)
        return future

    async def sendfile(self, file: BinaryIO, offset: int = 0, count: int | None = None) -> None:
        """Send ``count`` bytes of ``file`` from ``offset`` in chunks (ASGI has no zero-copy).

        Raises:
            ResponseStateError: ``write_headers`` was not called, or ``finish`` was.
            StreamClosedError: the client left, or the file ended early.
        """
        if count is None:
            file.seek(0, 2)
            count = file.tell() - offset
        file.seek(offset)
        sent = 0
        while sent < count:
            data = file.read(min(count - sent, _CHUNK))
            if not data:
                self._abort()
                raise StreamClosedError(f"the file ended after {sent} of {count} bytes")
            await self.write(data)
            sent += len(data)

    def finish(self) -> None:
        """End a streamed response.

        Raises:
            ResponseStateError: ``write_headers`` was not called, or ``finish`` was.
            StreamClosedError: the client left.
        """
        self._check_open()
        if self._state != _STREAMING:
            raise ResponseStateError("finish() needs write_headers() first, once")
        self._state = _DONE
        self._push({"type": "http.response.body", "body": b"", "more_body": False})

    # -- called by the ASGI side -----------------------------------------------------------

    def _abort(self) -> None:
        """Drop the response: nothing more is sent and the ASGI call returns."""
        self._gone = True
        self._state = _DONE
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _disconnected(self) -> None:
        """The client left: later writes raise, the close callback runs once."""
        self._gone = True
        for _message, future in self._out:
            if future is not None and not future.done():
                future.set_result(None)  # the writer's next write() raises instead
        self._out = []
        self._whole = None
        callback = self._close_callback
        self._close_callback = None
        if callback is not None:
            callback()

    def __repr__(self) -> str:
        state = ("fresh", "streaming", "finished")[self._state]
        return f"<ASGIConnection {state} closed={self.closed}>"
