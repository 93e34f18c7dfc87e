"""permessage-deflate (RFC 7692): negotiation and the per-connection (de)compressors.

Sans-I/O: header strings and bytes in and out.

Negotiation (RFC 7692 §5-7):

- The client offers ``permessage-deflate`` with optional parameters; each offer in the
  ``Sec-WebSocket-Extensions`` header is tried in order. An offer with an unknown
  parameter, a parameter twice, or a bad value is declined (§5.1), as is one asking for a
  server window of 8 bits (zlib cannot compress with a 256-byte window; it would silently
  use 512), and the next offer is tried.
- ``server_no_context_takeover``: the server resets its compressor after each message;
  ``client_no_context_takeover``: the client does (the server may ask it even unoffered).
- ``server_max_window_bits=N``: the server compresses with at most 2**N bytes of window;
  ``client_max_window_bits[=N]``: the client may be told to use a smaller window, only if
  it offered the parameter.

Compression options (``WebSocketHandler.get_compression_options()``, the client's
``compression_options=``): ``compression_level`` (zlib 0-9, default 6) and ``mem_level``
(1-9, default 8) as in Tornado, plus the four negotiation parameters above, as what this
side asks for (``*_no_context_takeover``: bool, ``*_max_window_bits``: 9-15). Any other
key is refused by name (ValueError) rather than ignored.

The decompressor always inflates with a 32 KiB window: any smaller window the peer uses
decodes with it, and ``max_message_size`` bounds the output as it grows (1009).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any, Final

from squall.websocket._errors import ProtocolError

__all__ = [
    "Deflater",
    "InflaterImpl",
    "accept_offer",
    "check_options",
    "client_offer",
    "parse_extensions",
    "parse_response",
]

NAME: Final = "permessage-deflate"
_TAIL: Final = b"\x00\x00\xff\xff"
_PARAMS: Final = frozenset(
    (
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
    )
)
_OPTIONS: Final = _PARAMS | {"compression_level", "mem_level"}


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate compression options (module docstring); return them with defaults.

    Raises:
        ValueError: an unknown key or a value out of range, named.
    """
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ValueError(
            f"unknown compression option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_OPTIONS))}"
        )
    out: dict[str, Any] = {
        "compression_level": 6,
        "mem_level": 8,
        "server_no_context_takeover": False,
        "client_no_context_takeover": False,
        "server_max_window_bits": None,
        "client_max_window_bits": None,
    }
    out.update(options)
    level = out["compression_level"]
    if not (isinstance(level, int) and -1 <= level <= 9):
        raise ValueError(f"compression_level must be an int from -1 to 9, not {level!r}")
    mem = out["mem_level"]
    if not (isinstance(mem, int) and 1 <= mem <= 9):
        raise ValueError(f"mem_level must be an int from 1 to 9, not {mem!r}")
    for key in ("server_max_window_bits", "client_max_window_bits"):
        bits = out[key]
        if bits is not None and not (isinstance(bits, int) and 9 <= bits <= 15):
            raise ValueError(f"{key} must be an int from 9 to 15 (or None), not {bits!r}")
    return out


def parse_extensions(header: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Split a ``Sec-WebSocket-Extensions`` value into ``(name, [(param, value)])`` offers.

    Parameters stay a list (duplicates are visible to the caller); quoted values are
    unquoted (RFC 6455 §9.1).
    """
    offers: list[tuple[str, list[tuple[str, str | None]]]] = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        params: list[tuple[str, str | None]] = []
        for p in parts[1:]:
            if not p:
                continue
            name, eq, value = p.partition("=")
            v = value.strip()
            if len(v) >= 2 and v[0] == v[-1] == '"':
                v = v[1:-1]
            params.append((name.strip().lower(), v if eq else None))
        offers.append((parts[0].lower(), params))
    return offers


def _bits(value: str | None) -> int | None:
    """A window-bits value 8-15 (digits only), or None when invalid."""
    if value is None or not value.isdigit() or len(value) > 2:
        return None
    n = int(value)
    return n if 8 <= n <= 15 else None


class Deflater:
    """Compresses one side's messages (RFC 7692 §7.2.1)."""

    __slots__ = ("_level", "_mem", "_bits", "_reset", "_obj")

    def __init__(self, level: int, mem_level: int, max_window_bits: int, no_context: bool) -> None:
        self._level = level
        self._mem = mem_level
        self._bits = max_window_bits
        self._reset = no_context
        self._obj: Any = None

    def compress(self, data: bytes) -> bytes:
        """The compressed payload of one message (the 00 00 ff ff tail removed)."""
        obj = self._obj
        if obj is None:
            obj = zlib.compressobj(self._level, zlib.DEFLATED, -self._bits, self._mem)
            if not self._reset:
                self._obj = obj
        out: bytes = obj.compress(data) + obj.flush(zlib.Z_SYNC_FLUSH)
        if out.endswith(_TAIL):
            out = out[:-4]
        return out


class InflaterImpl:
    """Decompresses the peer's messages, bounded by a size limit (RFC 7692 §7.2.2)."""

    __slots__ = ("_reset", "_obj")

    def __init__(self, no_context: bool) -> None:
        self._reset = no_context
        self._obj: Any = zlib.decompressobj(-zlib.MAX_WBITS)

    def inflate(self, data: bytes, limit: int | None) -> bytes:
        """Decompress a piece; more than ``limit`` bytes of output is a 1009."""
        try:
            if limit is None:
                out: bytes = self._obj.decompress(data)
                return out
            out = self._obj.decompress(data, limit + 1)
        except zlib.error as exc:
            raise ProtocolError(1007, f"invalid compressed data: {exc}") from None
        if len(out) > limit or self._obj.unconsumed_tail:
            raise ProtocolError(1009, "message larger than the limit once inflated")
        return bytes(out)

    def finish(self, limit: int | None) -> bytes:
        """End a message: feed the stripped tail; reset when there is no context takeover."""
        out = self.inflate(_TAIL, limit)
        if self._reset:
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return out


def accept_offer(
    header: str, options: Mapping[str, Any]
) -> tuple[str, Deflater, InflaterImpl] | None:
    """Server side: the response header value and the (de)compressors, or None (declined).

    ``options`` are checked compression options (``check_options``).
    """
    for name, params in parse_extensions(header):
        if name != NAME:
            continue
        names = [p for p, _ in params]
        if len(set(names)) != len(names) or not set(names) <= _PARAMS:
            continue  # RFC 7692 §5.1: unknown or repeated parameter, decline this offer
        given = dict(params)
        ok = True
        server_bits = options["server_max_window_bits"]
        if "server_max_window_bits" in given:
            asked = _bits(given["server_max_window_bits"])
            if asked is None or asked == 8:
                ok = False  # invalid, or a window zlib cannot compress with
            else:
                server_bits = asked if server_bits is None else min(asked, server_bits)
        client_bits = options["client_max_window_bits"]
        if "client_max_window_bits" in given:
            value = given["client_max_window_bits"]
            if value is not None:
                asked = _bits(value)
                if asked is None:
                    ok = False
                elif client_bits is None or asked < client_bits:
                    client_bits = asked
        elif client_bits is not None:
            client_bits = None  # RFC 7692 §7.1.2.2: only when the client offered it
        for flag in ("server_no_context_takeover", "client_no_context_takeover"):
            if flag in given and given[flag] is not None:
                ok = False
        if not ok:
            continue
        server_reset = bool(
            "server_no_context_takeover" in given or options["server_no_context_takeover"]
        )
        client_reset = bool(
            "client_no_context_takeover" in given or options["client_no_context_takeover"]
        )
        answer = [NAME]
        if server_reset:
            answer.append("server_no_context_takeover")
        if client_reset:
            answer.append("client_no_context_takeover")
        if server_bits is not None:
            answer.append(f"server_max_window_bits={server_bits}")
        if client_bits is not None:
            answer.append(f"client_max_window_bits={client_bits}")
        deflater = Deflater(
            options["compression_level"],
            options["mem_level"],
            server_bits or zlib.MAX_WBITS,
            server_reset,
        )
        return "; ".join(answer), deflater, InflaterImpl(client_reset)
    return None


def client_offer(options: Mapping[str, Any]) -> str:
    """Client side: the ``Sec-WebSocket-Extensions`` offer for checked ``options``."""
    offer = [NAME]
    if options["server_no_context_takeover"]:
        offer.append("server_no_context_takeover")
    if options["client_no_context_takeover"]:
        offer.append("client_no_context_takeover")
    if options["server_max_window_bits"] is not None:
        offer.append(f"server_max_window_bits={options['server_max_window_bits']}")
    bits = options["client_max_window_bits"]
    # Always offered: a server may then pick our window (RFC 7692 §7.1.2.2).
    offer.append(f"client_max_window_bits={bits}" if bits else "client_max_window_bits")
    return "; ".join(offer)


def parse_response(header: str, options: Mapping[str, Any]) -> tuple[Deflater, InflaterImpl]:
    """Client side: the (de)compressors the server's answer agreed on.

    Raises:
        ProtocolError: the server answered an extension or a parameter we did not offer
            or cannot honour (the client fails the connection, RFC 7692 §5.1).
    """
    offers = parse_extensions(header)
    if len(offers) != 1 or offers[0][0] != NAME:
        raise ProtocolError(1010, f"unexpected Sec-WebSocket-Extensions {header!r}")
    params = offers[0][1]
    names = [p for p, _ in params]
    if len(set(names)) != len(names) or not set(names) <= _PARAMS:
        raise ProtocolError(1010, f"bad permessage-deflate parameters in {header!r}")
    given = dict(params)
    client_bits = options["client_max_window_bits"] or zlib.MAX_WBITS
    if "client_max_window_bits" in given:
        bits = _bits(given["client_max_window_bits"])
        if bits is None or bits == 8:
            raise ProtocolError(1010, f"client_max_window_bits we cannot use in {header!r}")
        client_bits = bits
    if "server_max_window_bits" in given and _bits(given["server_max_window_bits"]) is None:
        raise ProtocolError(1010, f"bad server_max_window_bits in {header!r}")
    if options["server_no_context_takeover"] and "server_no_context_takeover" not in given:
        raise ProtocolError(1010, "the server did not accept server_no_context_takeover")
    client_reset = "client_no_context_takeover" in given or options["client_no_context_takeover"]
    deflater = Deflater(
        options["compression_level"], options["mem_level"], client_bits, client_reset
    )
    return deflater, InflaterImpl("server_no_context_takeover" in given)
