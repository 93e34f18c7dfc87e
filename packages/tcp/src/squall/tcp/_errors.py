"""The errors of squall.tcp.

::

    TCPError (Exception)                    base of every error this package raises
    ├── StreamClosedError (also OSError)    the stream is closed: a read or write cannot be
    │                                       done; ``real_error`` is why it closed, if known
    ├── UnsatisfiableReadError              read_until/read_until_regex: no match within
    │                                       max_bytes (the stream is closed; the read
    │                                       fails with StreamClosedError, this real_error)
    └── StreamBufferFullError               the read buffer reached max_buffer_size (the
                                            read fails with StreamClosedError, this
                                            real_error), or a write would pass
                                            max_write_buffer_size (raised by write())

``StreamClosedError`` also derives from ``OSError`` (Tornado's derives from ``IOError``),
so code catching either keeps working.
"""

from __future__ import annotations


class TCPError(Exception):
    """Base class of every error raised by squall.tcp."""


class StreamClosedError(TCPError, OSError):
    """A read or write on a stream that is closed (by either side).

    Attributes:
        real_error: the exception that closed the stream (a reset, a TLS failure...), or
            None when it was closed normally.
    """

    def __init__(self, real_error: BaseException | None = None) -> None:
        super().__init__("Stream is closed")
        self.real_error = real_error


class UnsatisfiableReadError(TCPError):
    """``read_until``/``read_until_regex`` found no match within ``max_bytes``.

    The stream is closed (the data that was read cannot be handed out) and, as in Tornado,
    the read fails with :class:`StreamClosedError` whose ``real_error`` is this error.
    """


class StreamBufferFullError(TCPError):
    """The read buffer reached ``max_buffer_size`` before a read could be satisfied (the
    stream is closed and the read fails with :class:`StreamClosedError` whose
    ``real_error`` is this error, as in Tornado), or a write would pass
    ``max_write_buffer_size`` (raised by ``write()``)."""
