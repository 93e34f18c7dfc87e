"""squall.websocket: Tornado's ``WebSocketHandler`` and ``websocket_connect`` for squall.

A squall.web plugin (it declares the ``websocket_*`` settings): installed, it is found
through the ``squall.web`` entry-point group; otherwise pass
``Application(..., plugins=[squall.websocket.plugin])``. The frame parser and writer are
sans-I/O (``squall.websocket.frames``), the handshake goes through squall.http's
``HTTPConnection.upgrade``. Masking runs in an optional C accelerator when it was built
(``speedups_enabled()``; ``SQUALL_WEBSOCKET_PURE=1`` turns it off).

Every public name except ``plugin`` is loaded on first access (PEP 562 ``__getattr__``):
the handler, the connection, the frame codec and the client cost ≈ 6 ms to import, and
this package is imported at every ``Application()`` through the plugin's entry point,
WebSocket routes or not.
"""

from __future__ import annotations

# Imported under private names: ``dir(squall.websocket)`` lists the public names only.
import importlib as _importlib
import typing as _typing

from squall.websocket import _plugin as plugin

if _typing.TYPE_CHECKING:
    from squall.websocket import _frames as frames
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

# Public name -> (module, attribute; None: the module itself), imported on first access.
_LAZY: dict[str, tuple[str, str | None]] = {
    "frames": ("squall.websocket._frames", None),
    "WebSocketClientConnection": ("squall.websocket._client", "WebSocketClientConnection"),
    "websocket_connect": ("squall.websocket._client", "websocket_connect"),
    "WebSocketProtocol": ("squall.websocket._connection", "WebSocketProtocol"),
    "HandshakeError": ("squall.websocket._errors", "HandshakeError"),
    "ProtocolError": ("squall.websocket._errors", "ProtocolError"),
    "WebSocketClosedError": ("squall.websocket._errors", "WebSocketClosedError"),
    "WebSocketError": ("squall.websocket._errors", "WebSocketError"),
    "speedups_enabled": ("squall.websocket._frames", "speedups_enabled"),
    "UnsupportedRequestField": ("squall.websocket._fromrequest", "UnsupportedRequestField"),
    "WebSocketHandler": ("squall.websocket._handler", "WebSocketHandler"),
    "__version__": ("squall.websocket._version", "__version__"),  # one module fewer at startup
}


def __getattr__(name: str) -> _typing.Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'squall.websocket' has no attribute {name!r}")
    module_name, attr = where
    module = _importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value  # later accesses are plain attribute lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
