"""squall.websocket: Tornado's ``WebSocketHandler`` and ``websocket_connect`` for squall.

A squall.web plugin (it declares the ``websocket_*`` settings): installed, it is found
through the ``squall.web`` entry-point group; otherwise pass
``Application(..., plugins=[squall.websocket.plugin])``. The frame parser and writer are
sans-I/O (``squall.websocket.frames``), the handshake goes through squall.http's
``HTTPConnection.upgrade``. Masking runs in an optional C accelerator when it was built
(``speedups_enabled()``; ``SQUALL_WEBSOCKET_PURE=1`` turns it off).
"""

from __future__ import annotations

from squall.websocket import _frames as frames
from squall.websocket import _plugin as plugin
from squall.websocket._client import WebSocketClientConnection, websocket_connect
from squall.websocket._connection import WebSocketProtocol
from squall.websocket._errors import (
    HandshakeError,
    ProtocolError,
    WebSocketClosedError,
    WebSocketError,
)
from squall.websocket._frames import speedups_enabled
from squall.websocket._fromrequest import UnsupportedRequestField
from squall.websocket._handler import WebSocketHandler
from squall.websocket._version import __version__

__all__ = [
    "HandshakeError",
    "ProtocolError",
    "UnsupportedRequestField",
    "WebSocketClientConnection",
    "WebSocketClosedError",
    "WebSocketError",
    "WebSocketHandler",
    "WebSocketProtocol",
    "__version__",
    "frames",
    "plugin",
    "speedups_enabled",
    "websocket_connect",
]
