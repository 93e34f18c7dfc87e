"""BodyChannel: a request body handed from squall's side to an ASGI application's ``receive``.

squall pushes the decoded body in pieces (``feed``, then ``end``); the application pulls
it with ``receive()``, which joins whatever is waiting into one ``http.request`` message.
Past ``BUFFERED`` bytes not yet taken, ``feed`` returns a future that resolves when
``receive()`` takes them: squall.http (or web's ``data_received``) waits on it, which stops
reading the socket until the application catches up. Once the body was given, ``receive()``
waits for the end of the call and answers ``http.disconnect`` (at once if the client left).
"""

from __future__ import annotations

import asyncio
from typing import Final

from squall.asgi._types import Message

__all__ = ["BUFFERED", "BodyChannel"]

BUFFERED: Final = 64 * 1024


class BodyChannel:
    """One request body between a producer (squall) and ``receive()`` (the ASGI app)."""

    __slots__ = ("_chunks", "_buffered", "_body_done", "_body_sent", "_gone", "_complete",
                 "_waiter", "_drained")  # fmt: skip

    def __init__(self) -> None:
        # (ASGIServer's per-request delegate sets these same fields itself: keep in step)
        self._chunks: list[bytes] | None = None  # made on the first piece: most have none
        self._buffered = 0
        self._body_done = False
        self._body_sent = False
        self._gone = False
        self._complete = False
        self._waiter: asyncio.Future[None] | None = None  # receive() waiting for news
        self._drained: asyncio.Future[None] | None = None  # the producer waiting for receive()

    def feed(self, chunk: bytes) -> asyncio.Future[None] | None:
        """A piece of the body; a future to wait on when too much is waiting already."""
        chunks = self._chunks
        if chunks is None:
            self._chunks = [chunk]
        else:
            chunks.append(chunk)
        self._buffered += len(chunk)
        self._wake()
        if self._buffered > BUFFERED and not self._complete and not self._gone:
            drained = self._drained = asyncio.get_running_loop().create_future()
            return drained
        return None

    def end(self) -> None:
        """The body is complete."""
        self._body_done = True
        self._wake()

    def client_left(self) -> None:
        """The client went away: ``receive()`` answers ``http.disconnect`` from now on."""
        self._gone = True
        self._wake()
        self._release()

    def complete(self) -> None:
        """The response is complete: a ``receive()`` still waiting gets ``http.disconnect``."""
        self._complete = True
        self._release()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _release(self) -> None:
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    async def receive(self) -> Message:
        """ASGI ``receive``: the body's pieces, then ``http.disconnect`` once done or gone."""
        while True:
            if self._gone:
                return {"type": "http.disconnect"}
            chunks = self._chunks
            if chunks:
                body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                self._chunks = None
                self._buffered = 0
                self._release()
                more = not self._body_done
                self._body_sent = not more
                return {"type": "http.request", "body": body, "more_body": more}
            if self._body_done and not self._body_sent:
                self._body_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if self._complete:
                return {"type": "http.disconnect"}
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter
            self._waiter = None
