"""The errors of squall.tcp.

::

    StreamClosedError (OSError)             the stream is closed: a read or write cannot be
                                            done; ``real_error`` is why it closed, if known
                                            (squall.loop's class, shared with squall.http)
    TCPError (Exception)                    base of the other errors this package raises
    ├── UnsatisfiableReadError              read_until/read_until_regex: no match within
    │                                       max_bytes (the stream is closed; the read
    │                                       fails with StreamClosedError, this real_error)
    └── StreamBufferFullError               the read buffer reached max_buffer_size (the
                                            read fails with StreamClosedError, this
                                            real_error), or a write would pass
                                            max_write_buffer_size (raised by write())

``StreamClosedError`` is ``squall.loop.StreamClosedError``, also the base of
``squall.http.StreamClosedError``: ported Tornado code that catches
``squall.tcp.StreamClosedError`` around ``flush()`` catches a client that left. It derives
from ``OSError`` (Tornado's derives from ``IOError``), so code catching either keeps
working.
"""

from __future__ import annotations

from squall.loop import StreamClosedError

__all__ = ["StreamBufferFullError", "StreamClosedError", "TCPError", "UnsatisfiableReadError"]


class TCPError(Exception):
    """Base class of the errors squall.tcp raises, but for ``StreamClosedError``."""


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
