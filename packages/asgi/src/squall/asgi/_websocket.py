"""The ``websocket`` scope of ``to_asgi``: squall.websocket handlers behind an ASGI server.

Theory of operation
-------------------
squall.websocket's handler answers the handshake and calls
``request.connection.upgrade(headers, owner)``, then drives ``owner`` (an
``asyncio.Protocol`` speaking RFC 6455 frames) over a transport. Under ASGI the server
owns the socket and the framing, so the transport given to ``owner`` is a translator:

- frames ``owner`` writes (unmasked server frames) are parsed: text and binary messages
  (fragments joined) become ``websocket.send``; a close frame becomes ``websocket.close``
  with its code and reason and is answered back to ``owner`` (the ASGI server completes
  the close handshake with the client); a ping is answered with a pong at once (the ASGI
  server keeps the real connection alive itself);
- ``websocket.receive`` messages become masked client frames fed to
  ``owner.data_received``; ``websocket.disconnect`` becomes a close frame with its code
  (when it has one), then ``connection_lost``.

The handshake request is built from the scope with the headers of an HTTP/1.1 upgrade
(``Upgrade``, ``Connection``, ``Sec-WebSocket-Version``, a ``Sec-WebSocket-Key`` when the
transport had none, as over HTTP/2): the ASGI server already checked the client's.
``Sec-WebSocket-Extensions`` is removed: compression is the ASGI server's business.
A refused handshake is answered with ``websocket.http.response`` when the server offers
that extension, otherwise with ``websocket.close`` (servers then answer 403).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import struct
from typing import Any, Final

from squall.asgi._connection import encode_headers
from squall.asgi._types import Message, Receive, Scope, Send
from squall.http import HTTPHeaders, HTTPServerRequest

__all__ = ["serve_websocket"]

log: Final = logging.getLogger("squall.general")

_CONT, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_POLICY: Final = 1008
_HIGH: Final = 64 * 1024


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked frame as a client sends it (what the handler's parser expects)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    if not payload:
        return head + key
    # XOR with the repeated key, as one big integer operation
    repeated = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")
    return head + key + masked


def _close_payload(code: int | None, reason: str = "") -> bytes:
    if code is None or code in (1005, 1006):
        return b""
    return struct.pack("!H", code) + reason.encode()


class _ServerFrames:
    """Parses the frames the handler writes (unmasked), joining fragmented messages."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.opcode = 0
        self.parts: list[bytes] = []

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Whole messages and control frames completed by ``data``: (opcode, payload)."""
        buf = self.buf
        buf += data
        out = []
        while len(buf) >= 2:
            first, second = buf[0], buf[1]
            n = second & 0x7F
            pos = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n = struct.unpack_from("!H", buf, 2)[0]
                pos = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n = struct.unpack_from("!Q", buf, 2)[0]
                pos = 10
            if second & 0x80:
                pos += 4  # never from a server, but skip a key rather than misread
            if len(buf) < pos + n:
                break
            payload = bytes(buf[pos : pos + n])
            del buf[: pos + n]
            opcode = first & 0x0F
            fin = first & 0x80
            if opcode >= 0x8:
                out.append((opcode, payload))
                continue
            if opcode != _CONT:
                self.opcode = opcode
                self.parts = []
            self.parts.append(payload)
            if fin:
                out.append((self.opcode, b"".join(self.parts)))
                self.parts = []
        return out


class _ASGIWebSocketTransport(asyncio.Transport):
    """The transport handed to the handler's protocol (see the module docstring)."""

    def __init__(self, session: _Session) -> None:
        super().__init__()
        self._session = session
        self._frames = _ServerFrames()
        self._closing = False
        self._reading = True
        self._high = _HIGH
        self._low = _HIGH // 4

    # -- what the protocol writes ------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        session = self._session
        for opcode, payload in self._frames.feed(bytes(data)):
            if opcode == _TEXT:
                session.push({"type": "websocket.send", "text": payload.decode()})
            elif opcode == _BINARY:
                session.push({"type": "websocket.send", "bytes": payload})
            elif opcode == _PING:
                session.feed_soon(client_frame(_PONG, payload))
            elif opcode == _CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1000
                reason = payload[2:].decode(errors="replace")
                session.close_from_app(code, reason)
        if session.pending_bytes > self._high and not session.write_paused:
            session.write_paused = True
            session.owner.pause_writing()

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._session.transport_closed(1000)

    def abort(self) -> None:
        if not self._closing:
            self._closing = True
            self._session.transport_closed(1011)

    def is_closing(self) -> bool:
        return self._closing

    # -- flow control and information --------------------------------------------------------

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = _HIGH if high is None else high
        self._low = self._high // 4 if low is None else low

    def get_write_buffer_size(self) -> int:
        return self._session.pending_bytes

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        self._reading = True
        self._session.wake_reader()

    def is_reading(self) -> bool:
        return self._reading

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            client = self._session.scope.get("client")
            return tuple(client) if client else default
        return default


class _Session:
    """One ASGI WebSocket call after the handler upgraded: the two pumps and their state."""

    def __init__(self, scope: Scope, send: Send, owner: Any) -> None:
        self.scope = scope
        self.send = send
        self.owner = owner
        self.loop = asyncio.get_running_loop()
        self.out: list[Message] = []
        self.pending_bytes = 0
        self.wake: asyncio.Future[None] | None = None
        self.read_wake: asyncio.Future[None] | None = None
        self.write_paused = False
        self.close_sent = False
        self.lost = False
        self.transport = _ASGIWebSocketTransport(self)

    def push(self, message: Message) -> None:
        self.out.append(message)
        self.pending_bytes += len(message.get("bytes") or message.get("text") or "")
        self._wake_writer()

    def _wake_writer(self) -> None:
        wake = self.wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def wake_reader(self) -> None:
        wake = self.read_wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def feed_soon(self, frame: bytes) -> None:
        self.loop.call_soon(self._feed, frame)

    def _feed(self, frame: bytes) -> None:
        if not self.lost:
            self.owner.data_received(frame)

    def close_from_app(self, code: int, reason: str) -> None:
        """The handler sent a close frame: tell the server, and answer it to the handler."""
        if not self.close_sent:
            self.close_sent = True
            self.push({"type": "websocket.close", "code": code, "reason": reason})
        self.feed_soon(client_frame(_CLOSE, _close_payload(code)))

    def transport_closed(self, code: int) -> None:
        if not self.close_sent:
            self.close_sent = True
            self.push({"type": "websocket.close", "code": code})
        self.loop.call_soon(self.connection_lost)

    def connection_lost(self) -> None:
        if not self.lost:
            self.lost = True
            self.wake_reader()
            self._wake_writer()
            self.owner.connection_lost(None)

    async def run(self, receive: Receive) -> None:
        """Pump both ways until the connection is gone and every message was sent."""
        reader = asyncio.ensure_future(self._read(receive))
        try:
            await self._write()
        finally:
            if not reader.done():
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    async def _write(self) -> None:
        while True:
            out = self.out
            if out:
                self.out = []
                for message in out:
                    try:
                        await self.send(message)
                    except (OSError, RuntimeError):
                        self.connection_lost()  # the server refuses: the client is gone
                        return
                self.pending_bytes = 0
                if self.write_paused:
                    self.write_paused = False
                    self.owner.resume_writing()
                continue
            if self.lost:
                return
            self.wake = self.loop.create_future()
            await self.wake
            self.wake = None

    async def _read(self, receive: Receive) -> None:
        while not self.lost:
            if not self.transport.is_reading():
                self.read_wake = self.loop.create_future()
                await self.read_wake
                self.read_wake = None
                continue
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                if text is not None:
                    self._feed(client_frame(_TEXT, text.encode()))
                else:
                    self._feed(client_frame(_BINARY, message.get("bytes") or b""))
            elif kind == "websocket.disconnect":
                if not self.close_sent:
                    self.close_sent = True  # nothing more can reach the client
                    code = message.get("code", 1005)
                    self._feed(client_frame(_CLOSE, _close_payload(code)))
                self.connection_lost()
                return


class _HandshakeConnection:
    """``request.connection`` of the handshake: ``upgrade`` accepts, an answer refuses."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.send = send
        self.decided: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.session: _Session | None = None
        self.accept: Message | None = None
        self.refusal: tuple[int, list[tuple[bytes, bytes]], list[bytes]] | None = None
        self._gone = False

    @property
    def closed(self) -> bool:
        return self._gone

    def set_close_callback(self, callback: Any) -> None:
        """No close notice before the handshake is answered."""

    def set_keep_alive(self, keep_alive: bool) -> None:
        """Not applicable to a WebSocket handshake."""

    def upgrade(self, headers: Any, owner: Any, **kwargs: Any) -> asyncio.Transport:
        """Accept: ``websocket.accept`` (subprotocol, extra headers), then run ``owner``."""
        accept: Message = {"type": "websocket.accept"}
        extra = []
        for name, value in encode_headers(list(headers)):
            if name == b"sec-websocket-protocol":
                accept["subprotocol"] = value.decode("latin-1")
            elif name not in (b"upgrade", b"sec-websocket-accept", b"sec-websocket-extensions"):
                extra.append((name, value))
        if extra:
            accept["headers"] = extra
        self.accept = accept
        session = self.session = _Session(self.scope, self.send, owner)
        owner.connection_made(session.transport)
        if not self.decided.done():
            self.decided.set_result(None)
        return session.transport

    def respond(self, status: int, headers: Any, body: bytes = b"", reason: Any = None) -> None:
        """The handler refused the handshake with a whole response."""
        self.refusal = (status, encode_headers(headers), [body])
        if not self.decided.done():
            self.decided.set_result(None)

    def write_headers(self, status: int, headers: Any, reason: Any = None) -> None:
        """The handler refused the handshake with a streamed response."""
        self.refusal = (status, encode_headers(headers), [])

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        if self.refusal is not None:
            self.refusal[2].append(chunk)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def finish(self) -> None:
        if not self.decided.done():
            self.decided.set_result(None)


def _handshake_request(scope: Scope, conn: _HandshakeConnection) -> HTTPServerRequest:
    headers = HTTPHeaders()
    for name, value in scope.get("headers", ()):
        key = name.decode("latin-1")
        if key.lower() != "sec-websocket-extensions":
            headers.add(key, value.decode("latin-1"))
    headers["Upgrade"] = "websocket"
    headers["Connection"] = "Upgrade"
    headers["Sec-WebSocket-Version"] = "13"
    if "Sec-WebSocket-Key" not in headers:  # HTTP/2 (RFC 8441) has no key
        headers["Sec-WebSocket-Key"] = base64.b64encode(os.urandom(16)).decode()
    if "Host" not in headers:
        server = scope.get("server")
        if server and server[1] is not None:
            headers["Host"] = f"{server[0]}:{server[1]}"
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    query = scope.get("query_string") or b""
    client = scope.get("client")
    scheme = scope.get("scheme", "ws")
    return HTTPServerRequest(
        method="GET",
        uri=f"{path}?{query.decode('latin-1')}" if query else path,
        version="HTTP/1.1",
        headers=headers,
        connection=conn,  # type: ignore[arg-type]
        remote_ip=client[0] if client else None,
        protocol="https" if scheme == "wss" else "http",
    )


async def serve_websocket(app: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """Run one ASGI ``websocket`` call through ``app``'s WebSocket handler."""
    first = await receive()
    if first["type"] != "websocket.connect":
        return
    conn = _HandshakeConnection(scope, send)
    request = _handshake_request(scope, conn)
    delegate = app.start_request(conn)
    delegate.headers_received(request)
    if not conn.decided.done():
        delegate.finish()
    await conn.decided
    if conn.session is not None and conn.accept is not None:
        await send(conn.accept)
        await conn.session.run(receive)
        return
    status, headers, body = conn.refusal or (403, [], [])
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": headers})  # fmt: skip
        await send({"type": "websocket.http.response.body", "body": b"".join(body)})
    else:
        log.debug("WebSocket handshake refused (%d) for %s", status, request.uri)
        await send({"type": "websocket.close", "code": _POLICY})
