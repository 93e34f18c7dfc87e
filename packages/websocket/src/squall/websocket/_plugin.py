"""The squall.web plugin of squall-websocket, found through the ``squall.web`` entry points.

It declares Tornado's three WebSocket settings, so that ``Application(...,
websocket_ping_interval=30)`` is accepted (and type-checked) once squall-websocket is
installed; ``WebSocketHandler`` reads them. Runs once per Application, at construction.

At shutdown (``squall_web_shutdown``: a graceful ``HTTPServer.shutdown``, SIGTERM), every
WebSocket the application still has open gets a ``1001 Going Away`` close; the shutdown
waits up to ``SHUTDOWN_WAIT`` seconds for the close handshakes.

Pass it explicitly with ``Application(..., plugins=[squall.websocket.plugin])`` when
entry-point autoloading is off.

Start-up cost: this module is imported at every ``Application()`` (entry points), so it
imports only ``_appstate``, never the handler, the connection or the frame codec (≈ 4 ms,
``python -X importtime``); an application with WebSocket routes imports them with its
handlers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from squall.web import hookimpl
from squall.websocket._appstate import DEFAULT_MAX_MESSAGE_SIZE, OPEN_SOCKETS

if TYPE_CHECKING:
    from squall.web import Application
    from squall.web._settings import SettingsRegistry
    from squall.websocket._connection import WebSocketProtocol

SHUTDOWN_WAIT = 5.0  # seconds the clients get to answer the 1001 close

OWNER = "squall-websocket"


def _non_negative(value: object) -> bool:
    return value is None or (not isinstance(value, bool) and value >= 0)  # type: ignore[operator]


def _positive(value: object) -> bool:
    return value is None or (not isinstance(value, bool) and value > 0)  # type: ignore[operator]


@hookimpl
def squall_web_add_settings(registry: SettingsRegistry) -> None:
    """Declare ``websocket_ping_interval``, ``websocket_ping_timeout`` and
    ``websocket_max_message_size``."""
    add = registry.add
    add(
        "websocket_ping_interval",
        default=None,
        type=(int, float),
        owner=OWNER,
        validate=_non_negative,
        doc="seconds between pings to each open WebSocket (None or 0: no pings)",
    )
    add(
        "websocket_ping_timeout",
        default=None,
        type=(int, float),
        owner=OWNER,
        validate=_non_negative,
        doc="seconds to wait for a pong before closing (None: one ping interval; 0: never)",
    )
    add(
        "websocket_max_message_size",
        default=DEFAULT_MAX_MESSAGE_SIZE,
        type=int,
        owner=OWNER,
        validate=_positive,
        doc="largest WebSocket message accepted, in bytes (close 1009 above; 10 MiB)",
    )


@hookimpl
def squall_web_shutdown(app: Application) -> Awaitable[None] | None:
    """Close the application's open WebSockets with 1001 and wait for them (bounded)."""
    sockets = app.stash.get(OPEN_SOCKETS, set())
    if not sockets:
        return None
    return _close_all(list(sockets))


async def _close_all(sockets: list[WebSocketProtocol]) -> None:
    waits = []
    for ws in sockets:
        ws.close(1001, "server shutting down")
        waits.append(ws.wait_closed())
    try:
        await asyncio.wait_for(asyncio.gather(*waits), SHUTDOWN_WAIT)
    except TimeoutError:
        for ws in sockets:
            ws.abort()
