"""``websocket_connect``: Tornado's WebSocket client on an asyncio Protocol.

The opening handshake is a small Protocol of its own (``_Handshake``): it writes the GET
with a fresh ``Sec-WebSocket-Key``, reads the answer's head (at most 64 KiB), checks it
(RFC 6455 §4.1: 101, Upgrade, Connection, Sec-WebSocket-Accept, the subprotocol and
extension we offered), then hands the transport to a client-side ``WebSocketProtocol``
(frames masked) with any bytes that followed the head.

Received messages wait in a bounded queue for ``read_message()``: past ``_QUEUE_MAX``
unread messages the connection stops reading from the socket until the application reads
(back-pressure instead of unbounded memory), unless ``on_message_callback`` takes them.
"""

from __future__ import annotations

import asyncio
import collections
import ssl as _ssl
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from squall.http import HTTPHeaders
from squall.websocket._appstate import DEFAULT_MAX_MESSAGE_SIZE
from squall.websocket._connection import WebSocketProtocol
from squall.websocket._deflate import check_options, client_offer, parse_response
from squall.websocket._errors import HandshakeError, ProtocolError, WebSocketClosedError
from squall.websocket._fromrequest import from_request
from squall.websocket._handshake import check_response, client_key, split_header

__all__ = ["WebSocketClientConnection", "websocket_connect"]

_HEAD_MAX: Final = 64 * 1024
_QUEUE_MAX: Final = 64

# Written by the handshake itself: a caller's value for one of these is not sent twice.
_HANDSHAKE_FIELDS = frozenset(
    ("host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version")
)


class WebSocketClientConnection:
    """An open client WebSocket (returned by ``websocket_connect``).

    Attributes:
        protocol: the ``WebSocketProtocol`` underneath.
        selected_subprotocol: the subprotocol the server chose (None: none).
        headers: the server's handshake response headers, a ``squall.http.HTTPHeaders``
            (case-insensitive, every value kept: Tornado's ``headers`` attribute).
    """

    def __init__(
        self,
        on_message_callback: Callable[[str | bytes | None], Any] | None,
        selected_subprotocol: str | None,
        headers: dict[str, list[str]],
    ) -> None:
        self._callback = on_message_callback
        self._queue: collections.deque[str | bytes | None] = collections.deque()
        self._readers: collections.deque[asyncio.Future[str | bytes | None]] = collections.deque()
        self._space: asyncio.Future[None] | None = None
        self._closed = False
        self.selected_subprotocol = selected_subprotocol
        self.headers = HTTPHeaders()
        for name, values in headers.items():
            for value in values:
                self.headers.add(name, value)
        self.protocol: WebSocketProtocol | None = None

    # -- from the protocol -------------------------------------------------------------------

    def _on_message(self, message: str | bytes) -> Awaitable[None] | None:
        if self._callback is not None:
            result: Awaitable[None] | None = self._callback(message)
            return result
        if self._readers:
            self._readers.popleft().set_result(message)
            return None
        self._queue.append(message)
        if len(self._queue) >= _QUEUE_MAX:
            self._space = asyncio.get_running_loop().create_future()
            return self._space
        return None

    def _on_close(self) -> None:
        self._closed = True
        if self._callback is not None:
            self._callback(None)
        while self._readers:
            fut = self._readers.popleft()
            if not fut.done():
                fut.set_result(None)
        if self._space is not None and not self._space.done():
            self._space.set_result(None)

    # -- the application's calls -------------------------------------------------------------

    def read_message(
        self, callback: Callable[[asyncio.Future[str | bytes | None]], Any] | None = None
    ) -> asyncio.Future[str | bytes | None]:
        """The next message (str or bytes), or None once the connection is closed.

        Args:
            callback: as in Tornado, called with the returned Future once it is done.

        With ``on_message_callback`` every message (and the None of the close) goes to it
        and the Future returned here never completes, as in Tornado.
        """
        if self.protocol is not None:
            fut: asyncio.Future[str | bytes | None] = self.protocol.create_future()
        else:
            fut = asyncio.get_running_loop().create_future()
        if callback is not None:
            fut.add_done_callback(callback)
        if self._callback is not None:
            return fut
        if self._queue:
            fut.set_result(self._queue.popleft())
            space = self._space
            if space is not None and len(self._queue) < _QUEUE_MAX // 2 and not space.done():
                self._space = None
                space.set_result(None)
        elif self._closed:
            fut.set_result(None)
        else:
            self._readers.append(fut)
        return fut

    def write_message(self, message: str | bytes, binary: bool = False) -> Awaitable[None]:
        """Send a message (str: text, bytes: binary when ``binary``); await for back-pressure.

        Raises:
            WebSocketClosedError: the connection is closed or closing.
        """
        if self.protocol is None:
            raise WebSocketClosedError("the WebSocket is closed")
        if isinstance(message, bytes) and not binary:
            message = message.decode("utf-8")
        return self.protocol.send_message(message, binary)

    def ping(self, data: str | bytes = b"") -> None:
        """Send a ping (at most 125 bytes of payload; a str is sent as UTF-8, as Tornado).

        Raises:
            WebSocketClosedError: the connection is closed or closing.
            ValueError: the payload is over 125 bytes.
        """
        if self.protocol is None:
            raise WebSocketClosedError("the WebSocket is closed")
        self.protocol.send_ping(data.encode("utf-8") if isinstance(data, str) else data)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the close handshake; ``read_message`` then returns None."""
        if self.protocol is not None:
            self.protocol.close(code, reason)

    @property
    def close_code(self) -> int | None:
        """The code of the server's close frame (None: none yet, or it had none)."""
        return self.protocol.close_code if self.protocol is not None else None

    @property
    def close_reason(self) -> str | None:
        """The reason of the server's close frame."""
        return self.protocol.close_reason if self.protocol is not None else None


class _Handshake(asyncio.Protocol):
    """Writes the upgrade request, reads the answer, then hands over (module docstring)."""

    def __init__(self, request: bytes, done: asyncio.Future[tuple[bytes, bytes]]) -> None:
        self._request = request
        self._done = done
        self._buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self._request)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:  # noqa: D102
        if self._done.done():
            return
        self._buf += data
        end = self._buf.find(b"\r\n\r\n")
        if end >= 0:
            # Reading stops here: what follows belongs to the WebSocket protocol.
            assert self.transport is not None
            self.transport.pause_reading()
            self._done.set_result((bytes(self._buf[:end]), bytes(self._buf[end + 4 :])))
        elif len(self._buf) > _HEAD_MAX:
            self._done.set_exception(HandshakeError("handshake answer head too large"))

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        if not self._done.done():
            self._done.set_exception(
                HandshakeError("connection closed during the WebSocket handshake")
            )


def _parse_head(head: bytes) -> tuple[int, dict[str, list[str]]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HandshakeError(f"not an HTTP answer: {lines[0][:80]!r}")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise HandshakeError(f"malformed header line {line[:80]!r}")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(parts[1]), headers


def websocket_connect(
    url: str | Any,
    callback: Callable[[asyncio.Future[WebSocketClientConnection]], Any] | None = None,
    *,
    on_message_callback: Callable[[str | bytes | None], Any] | None = None,
    compression_options: Mapping[str, Any] | None = None,
    subprotocols: Sequence[str] | None = None,
    ping_interval: float | None = None,
    ping_timeout: float | None = None,
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    connect_timeout: float | None = 20.0,
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    ssl: _ssl.SSLContext | bool | None = None,
) -> Awaitable[WebSocketClientConnection]:
    """Open a WebSocket to ``url`` (``ws://``, ``wss://``; ``http(s)://`` also accepted).

    Called while an event loop runs (in a coroutine, a callback, a test), it returns a
    Future (an asyncio Task) of the connection, as Tornado's does: await it, ``yield`` it
    in a ``gen.coroutine``, or give it to ``IOLoop.add_future``. Called where no loop
    runs but an IOLoop is current (a unittest method of ``AsyncTestCase`` before
    ``self.wait()``), the Future belongs to that IOLoop and completes once it runs.
    Called where no loop runs and none is current, it returns the coroutine that
    connects, for ``asyncio.run`` or ``IOLoop.run_sync`` to run.

    Args:
        url: where to connect; or, as in Tornado, an ``HTTPRequest`` (squall's or
            Tornado's): its ``url``, ``headers``, ``connect_timeout``, ``validate_cert``,
            ``ca_certs`` and ``user_agent`` are honoured, another field that is set is
            refused (``UnsupportedRequestField``).
        on_message_callback: called with each message, then with None at the close,
            instead of queueing them for ``read_message``.
        compression_options: a dict (even empty) to offer permessage-deflate; keys as
            ``WebSocketHandler.get_compression_options``.
        subprotocols: offered in ``Sec-WebSocket-Protocol``, in order of preference.
        ping_interval / ping_timeout: as the handler's settings (None: no pings).
        max_message_size: the largest message accepted (1009 above).
        connect_timeout: seconds for the TCP (and TLS) connection and the handshake.
        headers: extra request headers (cookies, ``Origin``, authorization).
        ssl: for ``wss://``, an SSLContext (default: the system's verified one).
        callback: as in Tornado, called with the Future once it is done (needs a running
            event loop or a current IOLoop: without one there is no Future to call it with).

    Raises:
        HandshakeError: the server refused (its status in ``.status``) or did not speak
            WebSocket.
        TimeoutError: ``connect_timeout`` passed.
        OSError: the connection failed.
        RuntimeError: ``callback`` given where no event loop runs and no IOLoop is current.
    """
    starter: list[Callable[[], None]] = []
    coro = _connect(
        starter,
        url,
        on_message_callback,
        compression_options,
        subprotocols,
        ping_interval,
        ping_timeout,
        max_message_size,
        connect_timeout,
        headers,
        ssl,
    )
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        # A unittest suite calls websocket_connect(url, callback=self.stop) in a plain test
        # method and then runs the test's IOLoop with self.wait(): as in Tornado, the
        # Future belongs to the current IOLoop even while that loop is not running yet.
        current = _current_loop()
        if current is not None:
            return _start_task(current, coro, callback, starter)
        starter.append(_NOW)  # no Task to wait for: _connect starts reading itself
        if callback is not None:
            coro.close()
            raise RuntimeError(
                "websocket_connect(callback=...) needs a running event loop: call it from a "
                "coroutine or a loop callback, or await it and drop the callback"
            ) from None
        return coro
    return _start_task(loop, coro, callback, starter)


def _current_loop() -> asyncio.AbstractEventLoop | None:
    """The open asyncio loop of this thread's current IOLoop, when one was made current."""
    from squall.loop import IOLoop  # only where no loop runs: off the usual path

    current = IOLoop.current(instance=False)
    if current is None or current.asyncio_loop.is_closed():
        return None
    return current.asyncio_loop


def _start_task(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, WebSocketClientConnection],
    callback: Callable[[asyncio.Future[WebSocketClientConnection]], Any] | None,
    starter: list[Callable[[], None]],
) -> asyncio.Task[WebSocketClientConnection]:
    task = loop.create_task(coro)
    if callback is not None:
        task.add_done_callback(callback)
    # Added after every callback that wants the connection (the one above; an `await`
    # registers later still, hence the extra call_soon hop): no message reaches
    # on_message_callback or read_message before the caller holds the connection, as in
    # Tornado. A server that speaks first would otherwise race the connect callback.
    task.add_done_callback(lambda _: loop.call_soon(_start_reading, starter))
    return task


def _start_reading(starter: list[Callable[[], None]]) -> None:
    if starter:  # empty when the connection failed or was cancelled
        starter[0]()


def _NOW() -> None:
    """Marker in ``starter``: start reading as soon as the connection is made."""


async def _connect(
    starter: list[Callable[[], None]],
    url: str | Any,
    on_message_callback: Callable[[str | bytes | None], Any] | None,
    compression_options: Mapping[str, Any] | None,
    subprotocols: Sequence[str] | None,
    ping_interval: float | None,
    ping_timeout: float | None,
    max_message_size: int | None,
    connect_timeout: float | None,
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None,
    ssl: _ssl.SSLContext | bool | None,
) -> WebSocketClientConnection:
    """The work of ``websocket_connect``: TCP (and TLS), the opening handshake, the hand-over."""
    if not isinstance(url, str):
        url, headers, connect_timeout, ssl = from_request(url, headers, connect_timeout, ssl)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss", "http", "https"):
        raise ValueError(f"not a WebSocket URL: {url!r}")
    secure = scheme in ("wss", "https")
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    options = check_options(compression_options) if compression_options is not None else None
    key = client_key()
    default_port = 443 if secure else 80
    host_header = host if ":" not in host else f"[{host}]"
    if parts.port and parts.port != default_port:
        host_header += f":{parts.port}"
    extra = list(headers.items() if isinstance(headers, Mapping) else (headers or ()))
    for name, value in extra:
        if any(c in f"{name}{value}" for c in "\r\n\x00"):
            raise ValueError(f"header {name!r} holds CR, LF or NUL")
    # A Host given by the caller replaces the URL's (as Tornado: a test naming the host a
    # proxy or virtual host expects); the handshake's own fields are always ours.
    given_host = [value for name, value in extra if name.lower() == "host"]
    if given_host:
        host_header = given_host[-1]
    extra = [(n, v) for n, v in extra if n.lower() not in _HANDSHAKE_FIELDS]
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host_header}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocols:
        lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
    if options is not None:
        lines.append(f"Sec-WebSocket-Extensions: {client_offer(options)}")
    lines.extend(f"{name}: {value}" for name, value in extra)
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    ssl_ctx: _ssl.SSLContext | None = None
    if secure:
        ssl_ctx = ssl if isinstance(ssl, _ssl.SSLContext) else _ssl.create_default_context()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[bytes, bytes]] = loop.create_future()
    async with asyncio.timeout(connect_timeout):
        transport, _ = await loop.create_connection(
            lambda: _Handshake(request, done),
            host,
            port,
            ssl=ssl_ctx,
            server_hostname=host if ssl_ctx is not None else None,
        )
        try:
            head, rest = await done
        except BaseException:
            transport.close()
            raise
    try:
        status, answer = _parse_head(head)
        check_response(
            status,
            (answer.get("upgrade") or [""])[-1],
            answer.get("connection", []),
            (answer.get("sec-websocket-accept") or [""])[-1],
            key,
        )
        chosen_list = answer.get("sec-websocket-protocol")
        chosen = chosen_list[-1] if chosen_list else None
        if chosen is not None and chosen not in (subprotocols or ()):
            raise HandshakeError(f"the server chose subprotocol {chosen!r}, not offered", 101)
        deflate = None
        ext = split_header(answer.get("sec-websocket-extensions", []))
        if ext:
            if options is None:
                raise HandshakeError(f"the server answered extensions {ext!r}, not offered", 101)
            try:
                deflate = parse_response(", ".join(ext), options)
            except ProtocolError as exc:
                raise HandshakeError(str(exc), 101) from None
    except BaseException:
        transport.close()
        raise
    conn = WebSocketClientConnection(on_message_callback, chosen, answer)
    protocol = WebSocketProtocol(
        is_client=True,
        on_message=conn._on_message,
        on_close=conn._on_close,
        max_message_size=max_message_size,
        deflate=deflate,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
    )
    conn.protocol = protocol
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    if rest:
        protocol.data_received(rest)  # held in the parser until start()

    def start() -> None:
        protocol.start()
        transport.resume_reading()

    if starter and starter[0] is _NOW:
        start()
    else:
        starter.append(start)
    return conn
