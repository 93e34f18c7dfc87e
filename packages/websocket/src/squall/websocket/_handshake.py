"""The opening handshake (RFC 6455 §4), sans-I/O: header values in, header values out.

Server side: ``check_request`` says what is wrong with an upgrade request (the handler
answers 400 or 426); ``accept_key`` computes ``Sec-WebSocket-Accept``. Client side:
``client_key`` and ``check_response``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from typing import Final

from squall.websocket._errors import HandshakeError

__all__ = ["GUID", "accept_key", "check_response", "client_key", "split_header"]

GUID: Final = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def key_is_valid(key: str) -> bool:
    """Whether ``key`` is base64 of 16 bytes (RFC 6455 §4.2.1 item 5)."""
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (binascii.Error, UnicodeEncodeError):
        return False


def client_key() -> str:
    """A fresh random ``Sec-WebSocket-Key``."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def split_header(values: Sequence[str]) -> list[str]:
    """The comma-separated tokens of every occurrence of a header, stripped, non-empty."""
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def check_response(
    status: int, upgrade: str, connection: Sequence[str], accept: str, key: str
) -> None:
    """Check a server's answer to our handshake.

    Raises:
        HandshakeError: not a 101, or a wrong Upgrade/Connection/Sec-WebSocket-Accept.
    """
    if status != 101:
        raise HandshakeError(f"the server answered {status}, not 101", status)
    if upgrade.strip().lower() != "websocket":
        raise HandshakeError(f"the server upgraded to {upgrade!r}, not websocket", status)
    if "upgrade" not in [t.lower() for t in split_header(connection)]:
        raise HandshakeError("the server's Connection header lacks 'upgrade'", status)
    if accept.strip() != accept_key(key):
        raise HandshakeError("wrong Sec-WebSocket-Accept from the server", status)
