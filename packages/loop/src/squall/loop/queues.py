"""Queues between coroutines: Tornado's ``tornado.queues`` in squall form.

Rules:

* ``put``/``get`` return a Future at once and take Tornado's ``timeout=`` (an absolute
  deadline on the ``IOLoop.time()`` clock, or a ``datetime.timedelta``); at the deadline the
  Future fails with ``TimeoutError`` and nothing was put or taken.
* Blocked getters and putters are served first come, first served. An item put while a
  getter waits goes straight to that getter (through the queue, so ``PriorityQueue`` and
  ``LifoQueue`` keep their order); a slot freed while a putter waits is filled with its item.
* Every item put counts as an unfinished task until a ``task_done()`` call; ``join()``
  waits until none is left (the spider of Tornado's guide: ``await q.join()``).
* ``async for item in queue`` gets items forever (end it with ``break``).

Not thread-safe: use from the loop's thread.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

from squall.loop._deadline import Timeout, expire_at, new_future
from squall.loop.locks import Event

__all__ = ["LifoQueue", "PriorityQueue", "Queue", "QueueEmpty", "QueueFull"]

_T = TypeVar("_T")


class QueueEmpty(Exception):
    """``get_nowait()`` on a queue with no item."""


class QueueFull(Exception):
    """``put_nowait()`` on a queue already holding ``maxsize`` items."""


class _QueueIterator(AsyncIterator[_T]):
    __slots__ = ("_queue",)

    def __init__(self, queue: Queue[_T]) -> None:
        self._queue = queue

    def __anext__(self) -> asyncio.Future[_T]:
        return self._queue.get()


class Queue(Generic[_T]):
    """A FIFO queue for coroutines.

    ::

        q = Queue(maxsize=2)

        async def consumer():
            async for item in q:
                try:
                    print(item)
                finally:
                    q.task_done()

        async def producer():
            for item in range(5):
                await q.put(item)       # waits while the queue is full

    Args:
        maxsize: the most items the queue holds; 0 (default) means no limit.

    Raises:
        TypeError: ``maxsize`` is None.
        ValueError: ``maxsize`` is negative.
    """

    def __init__(self, maxsize: int = 0) -> None:
        if maxsize is None:
            raise TypeError("maxsize can't be None")
        if maxsize < 0:
            raise ValueError(f"maxsize can't be negative, got {maxsize}")
        self._maxsize = maxsize
        self._init()
        self._getters: collections.deque[asyncio.Future[_T]] = collections.deque()
        self._putters: collections.deque[tuple[_T, asyncio.Future[None]]] = collections.deque()
        self._unfinished_tasks = 0
        self._finished = Event()
        self._finished.set()

    # -- storage: overridden by PriorityQueue and LifoQueue ---------------------------------

    def _init(self) -> None:
        self._queue: Any = collections.deque()

    def _get(self) -> _T:
        item: _T = self._queue.popleft()
        return item

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    # -- sizes ----------------------------------------------------------------------------

    @property
    def maxsize(self) -> int:
        """The most items the queue holds (0: no limit)."""
        return self._maxsize

    def qsize(self) -> int:
        """How many items the queue holds now."""
        return len(self._queue)

    def empty(self) -> bool:
        """True when the queue holds no item."""
        return not self._queue

    def full(self) -> bool:
        """True when the queue holds ``maxsize`` items (never, without a maxsize)."""
        return self._maxsize > 0 and self.qsize() >= self._maxsize

    # -- put and get ----------------------------------------------------------------------

    def put(self, item: _T, timeout: Timeout | None = None) -> asyncio.Future[None]:
        """Put ``item``, waiting while the queue is full; returns a Future.

        Raises (through the Future):
            TimeoutError: still full at ``timeout``; the item was not put.
        """
        future: asyncio.Future[None] = new_future()
        try:
            self.put_nowait(item)
        except QueueFull:
            self._putters.append((item, future))
            if timeout is not None:
                expire_at(future, timeout, lambda: future.set_exception(self._timed_out("put")))
        else:
            future.set_result(None)
        return future

    def put_nowait(self, item: _T) -> None:
        """Put ``item`` now.

        Raises:
            QueueFull: the queue holds ``maxsize`` items.
        """
        self._drop_finished_waiters()
        if self._getters:
            # Only possible while the queue is empty: the item goes to the oldest getter.
            getter = self._getters.popleft()
            self._put_counted(item)
            getter.set_result(self._get())
        elif self.full():
            raise QueueFull(f"queue is full (maxsize={self._maxsize})")
        else:
            self._put_counted(item)

    def get(self, timeout: Timeout | None = None) -> asyncio.Future[_T]:
        """Take the next item, waiting while the queue is empty; returns a Future.

        Raises (through the Future):
            TimeoutError: still empty at ``timeout``; nothing was taken.
        """
        future: asyncio.Future[_T] = new_future()
        try:
            future.set_result(self.get_nowait())
        except QueueEmpty:
            self._getters.append(future)
            if timeout is not None:
                expire_at(future, timeout, lambda: future.set_exception(self._timed_out("get")))
        return future

    def get_nowait(self) -> _T:
        """Take the next item now.

        Raises:
            QueueEmpty: the queue holds no item.
        """
        self._drop_finished_waiters()
        if self._putters:
            # Only possible while the queue is full: the oldest putter's item takes the slot.
            item, putter = self._putters.popleft()
            self._put_counted(item)
            putter.set_result(None)
            return self._get()
        if self.qsize():
            return self._get()
        raise QueueEmpty("queue is empty")

    # -- tasks ----------------------------------------------------------------------------

    def task_done(self) -> None:
        """Say that an item taken from the queue has been dealt with (for :meth:`join`).

        Raises:
            ValueError: called more times than items were put.
        """
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if self._unfinished_tasks == 0:
            self._finished.set()

    def join(self, timeout: Timeout | None = None) -> asyncio.Future[None]:
        """A Future that resolves once every item put has had its ``task_done()``.

        Raises (through the Future):
            TimeoutError: items are still unfinished at ``timeout``.
        """
        return self._finished.wait(timeout)

    def __aiter__(self) -> AsyncIterator[_T]:
        return _QueueIterator(self)

    # -- internals --------------------------------------------------------------------------

    def _put_counted(self, item: _T) -> None:
        self._unfinished_tasks += 1
        self._finished.clear()
        self._put(item)

    def _drop_finished_waiters(self) -> None:
        # Getters and putters that timed out or were cancelled stay in their deque until
        # they reach the front; drop them before serving anyone.
        while self._putters and self._putters[0][1].done():
            self._putters.popleft()
        while self._getters and self._getters[0].done():
            self._getters.popleft()

    def _timed_out(self, what: str) -> TimeoutError:
        return TimeoutError(f"{type(self).__name__}.{what} timed out")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {hex(id(self))} {self._describe()}>"

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self._describe()}>"

    def _describe(self) -> str:
        # Tornado's form: the items only when there are some, counts of what waits.
        parts = [f"maxsize={self._maxsize!r}"]
        if self._queue:
            parts.append(f"queue={self._queue!r}")
        if self._getters:
            parts.append(f"getters[{len(self._getters)}]")
        if self._putters:
            parts.append(f"putters[{len(self._putters)}]")
        if self._unfinished_tasks:
            parts.append(f"tasks={self._unfinished_tasks}")
        return " ".join(parts)


class PriorityQueue(Queue[_T]):
    """A :class:`Queue` that hands out the lowest item first (often ``(priority, item)``)."""

    def _init(self) -> None:
        self._queue = []

    def _put(self, item: _T) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> _T:
        item: _T = heapq.heappop(self._queue)
        return item


class LifoQueue(Queue[_T]):
    """A :class:`Queue` that hands out the most recently put item first."""

    def _init(self) -> None:
        self._queue = []

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def _get(self) -> _T:
        item: _T = self._queue.pop()
        return item
