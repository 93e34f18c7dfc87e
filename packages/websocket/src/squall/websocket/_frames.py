"""The WebSocket frame parser and writer (RFC 6455 §5), sans-I/O: bytes in, events out.

No sockets, no asyncio, no logging: the connection module drives it. Events are whole
messages (as Tornado delivers them: ``on_message`` gets the assembled text or bytes), and
the control frames as they come.

Rules / theory of operation
---------------------------
Every rule of RFC 6455 a receiver checks, and the close code a violation earns (§7.4.1):

- frames from a client are masked, frames from a server are not (§5.1): else 1002;
- RSV2 and RSV3 are never set (no extension here defines them); RSV1 only on the first
  frame of a data message, and only when permessage-deflate was negotiated (RFC 7692 §6):
  else 1002;
- opcodes 3-7 and 11-15 are reserved: 1002;
- control frames (close, ping, pong) carry at most 125 bytes and have FIN set: else 1002;
- a continuation frame needs a message in progress, and a new text/binary frame needs none
  (control frames may come between the fragments): else 1002;
- a 64-bit length has its most significant bit clear: else 1002;
- text is UTF-8: validated incrementally as payload bytes arrive (across fragments, and
  before a frame is complete, so an invalid byte fails at once, not after megabytes): 1007;
- a close payload is empty or a code plus a UTF-8 reason; a 1-byte payload is 1002, a code
  that may not be sent (below 1000, 1004-1006, 1015, 1016-2999, 5000 and up) is 1002,
  a reason that is not UTF-8 is 1007;
- a message larger than ``max_message_size`` is 1009, refused from the frame's declared
  length before its payload is read or anything is allocated for it (and, when compressed,
  as the inflated output grows past the limit).

Payload bytes of data frames are consumed as they arrive (a large frame is never waited for
whole in the input buffer); a control frame is waited for whole (125 bytes at most).
After a violation the parser is dead: ``next_event`` raises the same error again.
After a close frame it returns ``NEED_DATA`` for ever (RFC 6455 §5.5.1: nothing follows).
"""

from __future__ import annotations

import codecs
import os
from typing import Final, Protocol

from squall.websocket._errors import ProtocolError

__all__ = [
    "BINARY",
    "BINARY_HEADS",
    "CLOSE",
    "CONTINUATION",
    "NEED_DATA",
    "PING",
    "PONG",
    "TEXT",
    "TEXT_HEADS",
    "Close",
    "FrameParser",
    "Message",
    "Ping",
    "Pong",
    "close_code_is_valid",
    "encode_close",
    "encode_frame",
    "encode_frame_parts",
    "PURE_ENV",
    "mask_bytes",
    "mask_bytes_pure",
    "speedups_enabled",
]

CONTINUATION: Final = 0x0
TEXT: Final = 0x1
BINARY: Final = 0x2
CLOSE: Final = 0x8
PING: Final = 0x9
PONG: Final = 0xA

_FIN: Final = 0x80
_RSV1: Final = 0x40
_RSV23: Final = 0x30
_MASK: Final = 0x80
_KNOWN_OPCODES: Final = frozenset((CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG))

_HEADER: Final = 0
_PAYLOAD: Final = 1
_CLOSED: Final = 2

_utf8_decoder = codecs.getincrementaldecoder("utf-8")


class Message:
    """A whole data message: ``data`` is ``str`` for text, ``bytes`` for binary."""

    __slots__ = ("data",)

    def __init__(self, data: str | bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Message({self.data!r})"


class Ping:
    """A ping frame and its payload (at most 125 bytes)."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


class Pong:
    """A pong frame and its payload."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


class Close:
    """A close frame: ``code`` (None when the payload was empty) and ``reason``."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int | None, reason: str) -> None:
        self.code = code
        self.reason = reason


class _NeedData:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()
"""Returned by ``next_event`` when more bytes are needed."""

Event = Message | Ping | Pong | Close


class Inflater(Protocol):
    """What the parser needs of a permessage-deflate decompressor (see ``_deflate``)."""

    def inflate(self, data: bytes, limit: int | None) -> bytes:
        """Decompress a piece of a message; more than ``limit`` bytes of output is 1009."""

    def finish(self, limit: int | None) -> bytes:
        """End the message (RFC 7692 §7.2.2: the 00 00 ff ff tail) and return the rest."""


def close_code_is_valid(code: int) -> bool:
    """Whether ``code`` may travel in a close frame (RFC 6455 §7.4, IANA registry).

    1000-1003, 1007-1014 (1012-1014 were registered after the RFC) and 3000-4999 may;
    1004-1006 and 1015 are reserved for "no code"/"abnormal"/"TLS" and never sent.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


_XOR_TABLES: list[bytes] = []  # _XOR_TABLES[k][b] == b ^ k, built on first use (64 KiB)
_TRANSLATE_FROM: Final = 8192  # measured: below it one big-integer XOR is faster


def mask_bytes_pure(mask: bytes | bytearray, data: bytes | bytearray | memoryview) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` repeated (RFC 6455 §5.3); its own inverse.

    The pure-Python implementation, used when the C accelerator is missing or turned off
    (``SQUALL_WEBSOCKET_PURE``). No Python loop per byte: a short payload is one
    big-integer XOR; a long one is four ``bytes.translate`` calls over the strided slices
    that share a mask byte (both run in C; the crossover was measured on CPython 3.11).
    """
    n = len(data)
    if not n:
        return b""
    if n < _TRANSLATE_FROM:
        key = (mask * ((n + 3) >> 2))[:n]
        value = int.from_bytes(data, "little") ^ int.from_bytes(key, "little")
        return value.to_bytes(n, "little")
    if not _XOR_TABLES:
        _XOR_TABLES.extend(bytes(b ^ k for b in range(256)) for k in range(256))
    out = bytearray(data)
    for i in range(4):
        out[i::4] = out[i::4].translate(_XOR_TABLES[mask[i]])
    return bytes(out)


PURE_ENV: Final = "SQUALL_WEBSOCKET_PURE"
"""Set it (to anything but ``0``) before the import to use the pure-Python masking."""

if os.environ.get(PURE_ENV, "") in ("", "0"):
    try:
        from squall.websocket import _speedups
    except ImportError:  # built without a C compiler: the pure code does the same work
        _speedups = None  # type: ignore[assignment]
else:
    _speedups = None  # type: ignore[assignment]

mask_bytes: Final = mask_bytes_pure if _speedups is None else _speedups.mask_bytes
"""XOR ``data`` with the 4-byte ``mask`` repeated (RFC 6455 §5.3): ``mask_bytes(mask, data)``.

The C accelerator when it is in use (``speedups_enabled()``), else ``mask_bytes_pure``; both
take any bytes-like ``data`` (bytes, bytearray, memoryview) and return the same ``bytes``.
"""


def speedups_enabled() -> bool:
    """Whether masking runs in the C accelerator ``squall.websocket._speedups``.

    False when the package was installed without a C compiler, or ``SQUALL_WEBSOCKET_PURE``
    was set when squall.websocket was imported.
    """
    return mask_bytes is not mask_bytes_pure


def encode_frame_parts(
    opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False, mask: bool = False
) -> tuple[bytes, bytes]:
    """One frame as (header, payload): the payload masked with a fresh random key (which
    ends the header) when ``mask``, else ``payload`` itself, not copied.

    A big payload can go out with ``transport.writelines`` without being joined to its
    header first; ``encode_frame`` joins them.

    Raises:
        ValueError: a control frame longer than 125 bytes or not final.
    """
    n = len(payload)
    if opcode & 0x8 and (n > 125 or not fin):
        raise ValueError("a control frame carries at most 125 bytes and is never fragmented")
    b0 = opcode | (_FIN if fin else 0) | (_RSV1 if rsv1 else 0)
    if not mask:
        if n < 126:
            if b0 == 0x81:
                return TEXT_HEADS[n], payload
            if b0 == 0x82:
                return BINARY_HEADS[n], payload
            return bytes((b0, n)), payload
        if n < 65536:
            return bytes((b0, 126)) + n.to_bytes(2, "big"), payload
        return bytes((b0, 127)) + n.to_bytes(8, "big"), payload
    if n < 126:
        head = bytes((b0, n | _MASK))
    elif n < 65536:
        head = bytes((b0, 126 | _MASK)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, 127 | _MASK)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return head + key, mask_bytes(key, payload)


TEXT_HEADS: Final = tuple(bytes((_FIN | TEXT, n)) for n in range(126))
"""``TEXT_HEADS[n]``: the header of a final, unmasked text frame of ``n`` < 126 bytes."""
BINARY_HEADS: Final = tuple(bytes((_FIN | BINARY, n)) for n in range(126))
"""``BINARY_HEADS[n]``: the same for binary (both made once: the commonest frames)."""


def encode_frame(
    opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False, mask: bool = False
) -> bytes:
    """One frame: header, then the payload (masked with a fresh random key when ``mask``).

    Raises:
        ValueError: a control frame longer than 125 bytes or not final.
    """
    head, body = encode_frame_parts(opcode, payload, fin=fin, rsv1=rsv1, mask=mask)
    return head + body


def encode_close(code: int | None = None, reason: str | None = None) -> bytes:
    """The payload of a close frame (empty, or the code and a UTF-8 reason ≤ 123 bytes).

    Raises:
        ValueError: an invalid code, or a reason too long for a control frame.
    """
    if code is None:
        if reason:
            code = 1000  # a reason needs a code in front of it (Tornado does the same)
        else:
            return b""
    if not close_code_is_valid(code):
        raise ValueError(f"invalid WebSocket close code {code}")
    data = code.to_bytes(2, "big") + (reason or "").encode("utf-8")
    if len(data) > 125:
        raise ValueError("a close reason is at most 123 bytes of UTF-8")
    return data


class FrameParser:
    """Bytes in, ``Message``/``Ping``/``Pong``/``Close`` events out (module docstring).

    Args:
        mask_required: True on a server (client frames are masked), False on a client
            (server frames must not be).
        max_message_size: the largest message accepted, in bytes (None: no limit).
        inflater: the permessage-deflate decompressor when the extension was negotiated.
    """

    __slots__ = (
        "_buf", "_pos", "_mask_required", "_max", "_inflater", "_state", "_opcode", "_fin",
        "_key", "_key_pos", "_remaining", "_msg_opcode", "_msg_compressed", "_parts",
        "_msg_len", "_wire_len", "_decoder", "_error",
    )  # fmt: skip

    def __init__(
        self,
        *,
        mask_required: bool = True,
        max_message_size: int | None = None,
        inflater: Inflater | None = None,
    ) -> None:
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._mask_required = mask_required
        self._max = max_message_size
        self._inflater = inflater
        self._state = _HEADER
        self._opcode = 0
        self._fin = False
        self._key: bytes | None = None
        self._key_pos = 0
        self._remaining = 0
        self._msg_opcode: int | None = None  # TEXT or BINARY while a message is in progress
        self._msg_compressed = False
        self._parts: list[bytes] | list[str] = []
        self._msg_len = 0  # bytes of the message's data so far (inflated when compressed)
        self._wire_len = 0  # payload bytes of the message's frames so far
        self._decoder: codecs.IncrementalDecoder | None = None
        self._error: tuple[int, str] | None = None

    def receive_data(self, data: bytes) -> None:
        """Append bytes received from the peer."""
        if self._state == _CLOSED:
            return
        buf = self._buf
        pos = self._pos
        if pos >= len(buf):
            self._buf = data
        elif type(buf) is bytearray:
            del buf[:pos]
            buf += data
        else:
            nb = bytearray(memoryview(buf)[pos:])
            nb += data
            self._buf = nb
        self._pos = 0

    @property
    def buffered(self) -> int:
        """Bytes received and not consumed yet."""
        return len(self._buf) - self._pos

    def next_event(self) -> Event | _NeedData:
        """Return the next event, or ``NEED_DATA``.

        Raises:
            ProtocolError: the input breaks the protocol; its ``code`` is the close code.
        """
        if self._error is not None:
            raise ProtocolError(*self._error)
        try:
            if self._state == _HEADER:
                buf = self._buf
                pos = self._pos
                size = len(buf)
                if size - pos < 2:
                    return NEED_DATA
                b0 = buf[pos]
                b1 = buf[pos + 1]
                # The commonest frame of all, inline: a client's whole masked text or binary
                # message under 126 bytes (_whole_frame has the rules this relies on).
                if (
                    (b0 == 0x81 or b0 == 0x82)
                    and 0x80 <= b1 < 0xFE
                    and self._mask_required
                    and self._msg_opcode is None
                ):
                    n = b1 - 0x80
                    end = pos + 6 + n
                    if end <= size and (self._max is None or n <= self._max):
                        payload = mask_bytes(buf[pos + 2 : pos + 6], buf[pos + 6 : end])
                        return self._deliver(b0 == 0x82, payload, end, size)
                message = self._whole_frame()
                if message is not None:
                    return message
            while True:
                state = self._state
                if state == _HEADER:
                    if not self._header():
                        return NEED_DATA
                elif state == _PAYLOAD:
                    event = self._payload()
                    if event is not None:
                        return event
                    if self._state == _PAYLOAD:
                        return NEED_DATA
                else:
                    return NEED_DATA
        except ProtocolError as exc:
            # Kept as (code, message), not the exception: its traceback's frames hold this
            # parser (and the caller), a cycle only the cyclic garbage collector would free.
            self._error = (exc.code, str(exc))
            self._buf = b""
            self._pos = 0
            raise

    # -- the fast path -----------------------------------------------------------------------

    def _whole_frame(self) -> Message | None:
        """A whole message in one buffered frame, taken at once; None: use the general path.

        Most messages are one frame that arrives whole: final, no RSV bit (so not
        compressed), text or binary, no message in progress, masked as this side requires,
        within ``max_message_size``. Such a frame is sliced, unmasked and decoded in one go
        (text with a plain strict ``decode``: same verdict as the incremental decoder on a
        whole message). Anything else, including every violation, is left to the general
        path, which checks each rule and raises.
        """
        buf = self._buf
        pos = self._pos
        avail = len(buf) - pos  # at least 2 (next_event checked)
        if self._msg_opcode is not None:
            return None
        b0 = buf[pos]
        if b0 != 0x81 and b0 != 0x82:  # FIN + TEXT or FIN + BINARY, RSV clear
            return None
        b1 = buf[pos + 1]
        if bool(b1 & _MASK) != self._mask_required:
            return None
        n = b1 & 0x7F
        start = pos + 2
        if n == 126:
            if avail < 4:
                return None
            n = int.from_bytes(buf[start : start + 2], "big")
            start += 2
        elif n == 127:
            if avail < 10:
                return None
            n = int.from_bytes(buf[start : start + 8], "big")
            if n >> 63:
                return None
            start += 8
        limit = self._max
        if limit is not None and n > limit:
            return None
        key = None
        if b1 & _MASK:
            key = buf[start : start + 4]
            start += 4
        end = start + n
        if end > len(buf):
            return None
        # A big payload is read through a view (no copy before the unmasking one).
        raw = buf[start:end] if n < 4096 else memoryview(buf)[start:end]
        payload = bytes(raw) if key is None else mask_bytes(key, raw)
        del raw  # a live view would pin a bytearray buffer (receive_data resizes it)
        return self._deliver(b0 == 0x82, payload, end, len(buf))

    def _deliver(self, binary: bool, payload: bytes, end: int, size: int) -> Message:
        """Consume a whole one-frame message ending at ``end`` of ``size`` buffered bytes."""
        if end == size:
            self._buf = b""
            self._pos = 0
        else:
            self._pos = end
        if binary:
            return Message(payload)
        try:
            return Message(payload.decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(1007, "text message is not valid UTF-8") from None

    # -- frame header ------------------------------------------------------------------------

    def _header(self) -> bool:
        """Parse a frame header if complete; False when more bytes are needed."""
        buf = self._buf
        pos = self._pos
        avail = len(buf) - pos
        if avail < 2:
            return False
        b0 = buf[pos]
        b1 = buf[pos + 1]
        opcode = b0 & 0x0F
        fin = bool(b0 & _FIN)
        rsv1 = bool(b0 & _RSV1)
        masked = bool(b1 & _MASK)
        n = b1 & 0x7F
        # Everything the first two bytes can break is checked before waiting for the rest.
        if b0 & _RSV23:
            raise ProtocolError(1002, "reserved bits RSV2/RSV3 set")
        if opcode not in _KNOWN_OPCODES:
            raise ProtocolError(1002, f"reserved opcode {opcode:#x}")
        if masked != self._mask_required:
            raise ProtocolError(
                1002,
                "unmasked frame from a client" if self._mask_required else "masked frame",
            )
        if opcode & 0x8:
            if not fin:
                raise ProtocolError(1002, "fragmented control frame")
            if n > 125:
                raise ProtocolError(1002, "control frame longer than 125 bytes")
            if rsv1:
                raise ProtocolError(1002, "RSV1 set on a control frame")
        elif opcode == CONTINUATION:
            if self._msg_opcode is None:
                raise ProtocolError(1002, "continuation frame without a message in progress")
            if rsv1:
                raise ProtocolError(1002, "RSV1 set on a continuation frame")
        else:
            if self._msg_opcode is not None:
                raise ProtocolError(1002, "new data frame before the last message ended")
            if rsv1 and self._inflater is None:
                raise ProtocolError(1002, "RSV1 set without permessage-deflate")
        ext = 2 if n == 126 else 8 if n == 127 else 0
        if avail < 2 + ext:
            return False
        if n == 126:
            length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
        elif n == 127:
            length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            if length >> 63:
                raise ProtocolError(1002, "64-bit frame length with its top bit set")
        else:
            length = n
        limit = self._max
        if opcode < 8 and limit is not None:
            so_far = self._wire_len if opcode == CONTINUATION else 0
            if so_far + length > limit:
                # Refused from the declared length: nothing of it is read or allocated.
                raise ProtocolError(1009, f"message larger than {limit} bytes")
        hlen = 2 + ext + (4 if masked else 0)
        if avail < hlen:
            return False
        if opcode < 8:
            if opcode != CONTINUATION:
                self._msg_opcode = opcode
                self._msg_compressed = rsv1
                self._parts = []
                self._msg_len = self._wire_len = 0
                self._decoder = _utf8_decoder() if opcode == TEXT else None
            self._wire_len += length
        self._key = bytes(buf[pos + hlen - 4 : pos + hlen]) if masked else None
        self._key_pos = 0
        self._pos = pos + hlen
        self._opcode = opcode
        self._fin = fin
        self._remaining = length
        self._state = _PAYLOAD
        return True

    # -- payload -----------------------------------------------------------------------------

    def _take(self, count: int) -> bytes:
        """Consume ``count`` buffered payload bytes, unmasked."""
        pos = self._pos
        end = pos + count
        # Big pieces through a view: the unmasking (or bytes()) below is then the only copy.
        raw = self._buf[pos:end] if count < 4096 else memoryview(self._buf)[pos:end]
        self._pos = end
        self._remaining -= count
        key = self._key
        if key is None:
            return bytes(raw)
        kp = self._key_pos
        if kp:
            key = key[kp:] + key[:kp]
        self._key_pos = (kp + count) & 3
        return mask_bytes(key, raw)

    def _payload(self) -> Event | None:
        avail = len(self._buf) - self._pos
        remaining = self._remaining
        opcode = self._opcode
        if opcode & 0x8:
            if avail < remaining:
                return None
            data = self._take(remaining)
            self._state = _HEADER
            return self._control(opcode, data)
        if remaining:
            if not avail:
                return None
            self._data(self._take(min(avail, remaining)))
            if self._remaining:
                return None
        self._state = _HEADER
        if self._fin:
            return self._end_message()
        return None

    def _data(self, chunk: bytes) -> None:
        """A piece of a data message's payload (unmasked)."""
        if self._msg_compressed:
            assert self._inflater is not None
            chunk = self._inflater.inflate(chunk, self._room())
        if not chunk:
            return
        self._msg_len += len(chunk)
        if self._max is not None and self._msg_len > self._max:
            raise ProtocolError(1009, f"message larger than {self._max} bytes")
        decoder = self._decoder
        if decoder is not None:
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                raise ProtocolError(1007, "text message is not valid UTF-8") from None
            self._parts.append(text)  # type: ignore[arg-type]
        else:
            self._parts.append(chunk)  # type: ignore[arg-type]

    def _room(self) -> int | None:
        return None if self._max is None else self._max - self._msg_len

    def _end_message(self) -> Message:
        if self._msg_compressed:
            assert self._inflater is not None
            tail = self._inflater.finish(self._room())
            if tail:
                self._data(tail)
        decoder = self._decoder
        parts = self._parts
        data: str | bytes
        if decoder is not None:
            try:
                last = decoder.decode(b"", True)
            except UnicodeDecodeError:
                raise ProtocolError(1007, "text message ends inside a UTF-8 sequence") from None
            data = "".join(parts) + last  # type: ignore[arg-type]
        else:
            data = parts[0] if len(parts) == 1 else b"".join(parts)  # type: ignore[arg-type]
        self._msg_opcode = None
        self._decoder = None
        self._parts = []
        return Message(data)

    def _control(self, opcode: int, data: bytes) -> Event:
        if opcode == PING:
            return Ping(data)
        if opcode == PONG:
            return Pong(data)
        # CLOSE: nothing after it is parsed (RFC 6455 §5.5.1).
        self._state = _CLOSED
        self._buf = b""
        self._pos = 0
        if not data:
            return Close(None, "")
        if len(data) == 1:
            raise ProtocolError(1002, "close frame with a 1-byte payload")
        code = int.from_bytes(data[:2], "big")
        if not close_code_is_valid(code):
            raise ProtocolError(1002, f"invalid close code {code}")
        try:
            reason = data[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(1007, "close reason is not valid UTF-8") from None
        return Close(code, reason)
