"""The errors of squall.websocket.

::

    WebSocketError                  base of everything below
    ├── WebSocketClosedError        writing to (or pinging) a connection that is closed
    ├── ProtocolError               the peer broke RFC 6455 / RFC 7692: close with its code
    └── HandshakeError              the client's opening handshake failed (websocket_connect)
"""

from __future__ import annotations

__all__ = ["HandshakeError", "ProtocolError", "WebSocketClosedError", "WebSocketError"]


class WebSocketError(Exception):
    """Base class of every error raised by squall.websocket."""


class WebSocketClosedError(WebSocketError):
    """Raised by ``write_message``/``ping`` once the connection is closed or closing.

    Tornado's name: code catching ``tornado.websocket.WebSocketClosedError`` ports as is.
    """


class ProtocolError(WebSocketError):
    """The peer's bytes break the protocol; the connection must close with ``code``.

    Raised by the sans-I/O frame parser and never escapes the connection: it becomes a
    close frame with ``code`` (1002 protocol error, 1007 invalid data, 1009 too big) and
    one log line.

    Attributes:
        code: the close code to send.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class HandshakeError(WebSocketError):
    """The server did not accept the client's opening handshake.

    Where Tornado's ``websocket_connect`` raises ``HTTPClientError`` for a refused
    handshake (a 403 from ``check_origin``, a 404), squall raises this error; its ``code``
    is the status, as ``HTTPClientError.code``, so ``cm.exception.code == 403`` ports as is
    once the ``except`` names this class.

    Attributes:
        status: the HTTP status the server answered (0 when the answer was not HTTP).
    """

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status

    @property
    def code(self) -> int:
        """The HTTP status the server answered (Tornado's ``HTTPClientError.code``)."""
        return self.status
