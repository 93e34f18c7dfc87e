"""Coordination between coroutines: Tornado's ``tornado.locks`` in squall form.

Like Tornado's (and unlike asyncio's) every blocking method returns a Future at once and
takes ``timeout=``: an absolute deadline on the ``IOLoop.time()`` clock or a
``datetime.timedelta``. Waiters are served first come, first served; a waiter that timed
out or was cancelled is skipped (and dropped from the queue lazily, when it reaches the
front or when many have piled up). None of these classes is thread-safe: use them from the
loop's thread, as Tornado's.
"""

from __future__ import annotations

import asyncio
import collections
import types
from collections.abc import Callable
from typing import Any

from squall.loop._deadline import Timeout, expire_at, new_future

__all__ = ["BoundedSemaphore", "Condition", "Event", "Lock", "Semaphore"]

# Dropping finished waiters from the middle of the queue costs a pass over it; do it once
# this many have timed out, so a primitive waited on with short timeouts stays small.
_PURGE_EVERY = 100


class _Waiters:
    """A FIFO of waiter Futures that drops finished (timed out, cancelled) ones lazily."""

    __slots__ = ("_expired", "queue")

    def __init__(self) -> None:
        self.queue: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._expired = 0

    def note_expired(self) -> None:
        self._expired += 1
        if self._expired >= _PURGE_EVERY:
            self._expired = 0
            self.queue = collections.deque(w for w in self.queue if not w.done())

    def pop_live(self) -> asyncio.Future[Any] | None:
        """The oldest waiter still waiting, removed from the queue; None when there is none."""
        while self.queue:
            waiter = self.queue.popleft()
            if not waiter.done():
                return waiter
        return None

    def __len__(self) -> int:
        return sum(1 for w in self.queue if not w.done())


class Condition:
    """Lets coroutines wait until another one notifies them.

    ::

        condition = Condition()

        async def waiter():
            await condition.wait()          # True once notified

        async def notifier():
            condition.notify()
    """

    def __init__(self) -> None:
        self._waiters = _Waiters()

    def __repr__(self) -> str:
        waiting = len(self._waiters)
        return f"<{type(self).__name__}{f' waiters[{waiting}]' if waiting else ''}>"

    def wait(self, timeout: Timeout | None = None) -> asyncio.Future[bool]:
        """A Future that resolves to True when notified, or to False at ``timeout``."""
        waiter: asyncio.Future[bool] = new_future()
        self._waiters.queue.append(waiter)
        if timeout is not None:

            def expire() -> None:
                waiter.set_result(False)
                self._waiters.note_expired()

            expire_at(waiter, timeout, expire)
        return waiter

    def notify(self, n: int = 1) -> None:
        """Wake up the ``n`` longest-waiting coroutines (fewer if fewer are waiting)."""
        woken: list[asyncio.Future[Any]] = []
        while len(woken) < n:
            waiter = self._waiters.pop_live()
            if waiter is None:
                break
            woken.append(waiter)
        for waiter in woken:
            waiter.set_result(True)

    def notify_all(self) -> None:
        """Wake up every waiting coroutine."""
        self.notify(len(self._waiters.queue))


class Event:
    """A flag coroutines can wait for: ``wait()`` blocks until ``set()`` is called.

    Starts cleared; ``clear()`` makes later ``wait()`` calls block again.
    """

    def __init__(self) -> None:
        self._value = False
        self._waiters: set[asyncio.Future[None]] = set()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'set' if self._value else 'clear'}>"

    def is_set(self) -> bool:
        """True if the flag is set."""
        return self._value

    def set(self) -> None:
        """Set the flag: every waiter wakes up, and ``wait()`` returns at once until cleared."""
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        """Reset the flag: later ``wait()`` calls block until the next ``set()``."""
        self._value = False

    def wait(self, timeout: Timeout | None = None) -> asyncio.Future[None]:
        """A Future that resolves once the flag is set.

        Raises (through the Future):
            TimeoutError: ``timeout`` passed first.
        """
        waiter: asyncio.Future[None] = new_future()
        if self._value:
            waiter.set_result(None)
            return waiter
        self._waiters.add(waiter)
        waiter.add_done_callback(self._waiters.discard)
        if timeout is not None:
            expire_at(
                waiter, timeout, lambda: waiter.set_exception(TimeoutError("Event.wait timed out"))
            )
        return waiter


def _EVENT_TIMEOUT() -> TimeoutError:  # noqa: N802 - reads as a constant at the call site
    return TimeoutError("Event.wait timed out")


class _ReleasingContextManager:
    """What ``acquire()`` resolves to: ``with (yield sem.acquire()):`` releases on exit."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Semaphore | Lock) -> None:
        self._obj = obj

    def __enter__(self) -> None:
        pass

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self._obj.release()


async def _acquire_or_give_back(
    waiter: asyncio.Future[_ReleasingContextManager], release: Callable[[], None]
) -> None:
    # A task cancelled after its waiter was granted, but before it resumed, would keep the
    # unit forever: hand it back.
    try:
        await waiter
    except asyncio.CancelledError:
        if waiter.done() and not waiter.cancelled():
            release()
        raise


class Semaphore:
    """A counter: ``acquire()`` takes one unit (waiting while there is none), ``release()``
    gives one back. ``async with semaphore:`` holds one unit for the block.

    Args:
        value: the initial number of units.

    Raises:
        ValueError: ``value`` is negative.
    """

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError(f"semaphore initial value must be >= 0, got {value}")
        self._value = value
        self._waiters = _Waiters()

    def __repr__(self) -> str:
        state = "locked" if self._value == 0 else f"unlocked,value:{self._value}"
        if waiting := len(self._waiters):
            state += f",waiters:{waiting}"
        return f"<{type(self).__name__} [{state}]>"

    def release(self) -> None:
        """Give a unit back; the longest-waiting ``acquire()`` (if any) gets it."""
        waiter = self._waiters.pop_live()
        if waiter is not None:
            waiter.set_result(_ReleasingContextManager(self))
        else:
            self._value += 1

    def acquire(self, timeout: Timeout | None = None) -> asyncio.Future[_ReleasingContextManager]:
        """A Future that resolves once a unit is taken (at once if one is free).

        Raises (through the Future):
            TimeoutError: ``timeout`` passed first (no unit was taken).
        """
        waiter: asyncio.Future[_ReleasingContextManager] = new_future()
        if self._value > 0:
            self._value -= 1
            waiter.set_result(_ReleasingContextManager(self))
            return waiter
        self._waiters.queue.append(waiter)
        if timeout is not None:

            def expire() -> None:
                waiter.set_exception(TimeoutError(f"{type(self).__name__}.acquire timed out"))
                self._waiters.note_expired()

            expire_at(waiter, timeout, expire)
        return waiter

    def __enter__(self) -> None:
        raise RuntimeError(f"use 'async with' on a {type(self).__name__}, not 'with'")

    def __exit__(self, *exc: object) -> None:
        raise RuntimeError(f"use 'async with' on a {type(self).__name__}, not 'with'")

    async def __aenter__(self) -> None:
        await _acquire_or_give_back(self.acquire(), self.release)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """A :class:`Semaphore` that refuses to be released above its initial value.

    Raises (from ``release``):
        ValueError: more releases than acquisitions.
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial = value

    def release(self) -> None:
        """Give a unit back; see :meth:`Semaphore.release`.

        Raises:
            ValueError: the semaphore would exceed its initial value.
        """
        if self._value >= self._initial:
            raise ValueError("Semaphore released too many times")
        super().release()


class Lock:
    """A mutual-exclusion lock for coroutines: ``async with lock:`` runs one block at a time.

    ``acquire(timeout)`` returns a Future; ``release()`` lets the longest waiter in.
    """

    def __init__(self) -> None:
        self._block = BoundedSemaphore(1)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} _block={self._block}>"

    def acquire(self, timeout: Timeout | None = None) -> asyncio.Future[_ReleasingContextManager]:
        """A Future that resolves once the lock is held.

        Raises (through the Future):
            TimeoutError: ``timeout`` passed first.
        """
        return self._block.acquire(timeout)

    def release(self) -> None:
        """Unlock; the longest-waiting ``acquire()`` (if any) gets the lock.

        Raises:
            RuntimeError: the lock is not held.
        """
        try:
            self._block.release()
        except ValueError:
            raise RuntimeError("release unlocked lock") from None

    def __enter__(self) -> None:
        raise RuntimeError("use 'async with' on a Lock, not 'with'")

    def __exit__(self, *exc: object) -> None:
        raise RuntimeError("use 'async with' on a Lock, not 'with'")

    async def __aenter__(self) -> None:
        await _acquire_or_give_back(self.acquire(), self.release)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.release()
