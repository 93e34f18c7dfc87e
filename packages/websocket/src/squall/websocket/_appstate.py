"""What the web plugin and ``WebSocketHandler`` share: the message-size default and the key
of an application's open WebSockets.

A module of its own, importing nothing of the protocol: the plugin is imported at every
``Application()`` (entry points) and needs only these two names, while the handler and the
connection cost ≈ 4 ms of imports (``python -X importtime``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from squall.web import StashKey

if TYPE_CHECKING:
    from squall.websocket._connection import WebSocketProtocol

DEFAULT_MAX_MESSAGE_SIZE: Final = 10 * 1024 * 1024  # Tornado's 10 MiB
"""The default of ``websocket_max_message_size`` and of ``websocket_connect``'s limit."""

OPEN_SOCKETS: StashKey[set[WebSocketProtocol]] = StashKey()
"""The open WebSockets of an Application (closed with 1001 by the plugin at shutdown)."""
