"""``StreamClosedError``: the one error every squall stream raises once its peer is gone.

squall.loop itself never raises it. It lives here, below squall.tcp and squall.http, so
that both raise the same class: ``squall.tcp.StreamClosedError`` is this class, and
``squall.http.StreamClosedError`` (what ``flush()`` raises to a client that left) derives
from it. Code ported from Tornado catches a client that left with ``except
tornado.iostream.StreamClosedError``, renamed ``squall.tcp.StreamClosedError``; with two
unrelated classes that ``except`` would silently never match an HTTP write.
"""

from __future__ import annotations


class StreamClosedError(OSError):
    """A read or write on a stream that is closed (by either side).

    Also an ``OSError`` (Tornado's derives from ``IOError``), so code catching either keeps
    working.

    Attributes:
        real_error: the exception that closed the stream (a reset, a TLS failure...), or
            None when it was closed normally or the reason is not known.
    """

    def __init__(self, real_error: BaseException | None = None) -> None:
        super().__init__("Stream is closed")
        self.real_error = real_error
