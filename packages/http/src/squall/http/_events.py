"""The events of the sans-I/O request parser (``_parser.py``).

``Request`` (a head), ``Data`` (a piece of decoded body), ``EndOfMessage`` (with chunked
trailers, if any) and the ``NEED_DATA`` sentinel. Plain slotted classes: one is created per
event, so they carry no behaviour beyond a repr.
"""

from __future__ import annotations

from typing import Final

from squall.http._headers import HTTPHeaders

__all__ = ["NEED_DATA", "Data", "EndOfMessage", "Request"]


class NeedData:
    """Sentinel type of ``NEED_DATA``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData()
"""Returned by ``next_event`` when more bytes are needed to make progress."""


class Request:
    """A complete request head.

    Attributes:
        method: the method token, as sent (case-sensitive, RFC 9110 §9.1).
        target: the request-target (usually origin-form ``/path?query``).
        version: ``"HTTP/1.0"`` or ``"HTTP/1.1"``.
        headers: the header fields.
        keep_alive: whether the client allows the connection to be reused afterwards.
        expect_continue: the client waits for ``100 Continue`` before sending the body.
        content_length: the declared body length (0 when absent or chunked).
        chunked: the body uses chunked transfer coding.
    """

    __slots__ = (
        "method",
        "target",
        "version",
        "headers",
        "keep_alive",
        "expect_continue",
        "content_length",
        "chunked",
    )

    def __init__(
        self,
        method: str,
        target: str,
        version: str,
        headers: HTTPHeaders,
        keep_alive: bool,
        expect_continue: bool,
        content_length: int,
        chunked: bool,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.content_length = content_length
        self.chunked = chunked

    @property
    def has_body(self) -> bool:
        """Whether ``Data``/``EndOfMessage`` events follow this head."""
        return self.chunked or self.content_length > 0

    def __repr__(self) -> str:
        return f"Request({self.method} {self.target} {self.version})"


class Data:
    """A piece of the decoded request body."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Data({self.data[:40]!r}{'…' if len(self.data) > 40 else ''})"


class EndOfMessage:
    """The request body is complete; ``trailers`` are the chunked trailer fields, if any."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: HTTPHeaders | None = None) -> None:
        self.trailers = trailers

    def __repr__(self) -> str:
        return f"EndOfMessage({self.trailers!r})"


END_OF_MESSAGE: Final = EndOfMessage()
