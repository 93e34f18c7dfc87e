"""The errors of squall.http.

::

    HTTPError (Exception)                 base of every error this package raises
    ├── RemoteProtocolError               the peer sent something HTTP/1.1 forbids (sans-I/O parser)
    │     carries status_hint: 400, 413, 414, 431, 501, 505
    ├── HTTPInputError                    a well-formed request whose content is unacceptable
    │     (bad form body, too many fields, missing final boundary); status_hint 400 or 413
    ├── LocalProtocolError                this side was about to send something invalid
    │     (header with CR/LF, respond() twice, write() after finish()) — also a ValueError or
    │     RuntimeError so callers catching those keep working
    └── StreamClosedError                 the connection closed while a response was written
          (also squall.loop.StreamClosedError, which squall.tcp exports, and an OSError)

The Protocol turns RemoteProtocolError and HTTPInputError into an answer with their
``status_hint`` (or a closed connection when none is possible) and one warning log line; they
never reach a client as a traceback.
"""

from __future__ import annotations

from squall.loop import StreamClosedError as _StreamClosedError


class HTTPError(Exception):
    """Base class of every error raised by squall.http."""


class RemoteProtocolError(HTTPError):
    """The peer broke the HTTP/1.1 grammar or a limit; the connection cannot go on.

    Raised only by the sans-I/O parser. ``status_hint`` is the status to answer with.
    """

    def __init__(self, message: str, status_hint: int = 400) -> None:
        super().__init__(message)
        self.status_hint = status_hint


class HTTPInputError(HTTPError):
    """A syntactically valid request whose body or arguments cannot be accepted.

    Unlike RemoteProtocolError the framing is intact, so the connection may be kept after
    the 4xx answer.
    """

    def __init__(self, message: str, status_hint: int = 400) -> None:
        super().__init__(message)
        self.status_hint = status_hint


class LocalProtocolError(HTTPError):
    """This side tried to send something that is not valid HTTP (a programming error)."""


class InvalidHeaderError(LocalProtocolError, ValueError):
    """A response header name or value holds CR, LF or NUL, or a name is not a token."""


class ContentLengthMismatchError(LocalProtocolError, ValueError):
    """``respond`` got a body whose length is not the ``Content-Length`` header given."""


class ResponseStateError(LocalProtocolError, RuntimeError):
    """``respond``/``write_headers`` called twice, or ``write`` after ``finish``."""


class StreamClosedError(HTTPError, _StreamClosedError):
    """The connection was closed (by the peer or by a timeout) while we wrote to it.

    A ``squall.loop.StreamClosedError``, the class ``squall.tcp`` exports under this name
    (and an ``OSError``): ported Tornado code catching ``tornado.iostream``'s error, renamed
    ``squall.tcp.StreamClosedError``, catches this one too.
    """

    def __init__(
        self, message: str = "Stream is closed", real_error: BaseException | None = None
    ) -> None:
        OSError.__init__(self, message)  # not the base's: it takes real_error first
        self.real_error = real_error
