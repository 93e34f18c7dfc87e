"""``PeriodicCallback``: call a function every N milliseconds on the IOLoop.

Scheduling rule (why missed runs are skipped): runs are aimed at ``start + k * period``. When
a run ends and the next target is still ahead, it is kept. When the loop was blocked and one
or more targets are already past, they are not run late one after another ("bunching", which
would hammer whatever the callback talks to); the next run goes to the first multiple of the
period after now. Jitter, when asked for, scales each period by a random factor in
``[1 - jitter/2, 1 + jitter/2]`` so that many processes with the same period drift apart.

A callback that returns an awaitable (``async def``) is awaited before the next run is
scheduled, so two runs never overlap. Exceptions are logged on ``squall.loop`` and the
callback keeps running.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import logging
import math
import random
from collections.abc import Callable
from typing import Any

from squall.loop._ioloop import IOLoop

# As Tornado's PeriodicCallback: a failing callback is logged on the application logger.
logger = logging.getLogger("squall.application")


def next_run_time(scheduled: float, now: float, period: float, jitter: float = 0.0) -> float:
    """The time of the run after the one aimed at ``scheduled``, seen at ``now``.

    ``scheduled + period`` when that is still ahead of ``now``; otherwise the first
    ``scheduled + k * period`` strictly after ``now`` (missed runs skipped).
    """
    if jitter:
        period *= 1 + jitter * (random.random() - 0.5)
    if scheduled <= now:
        return scheduled + (math.floor((now - scheduled) / period) + 1) * period
    # The clock is behind the schedule (a run fired early, or the clock stepped back).
    return scheduled + period


class PeriodicCallback:
    """Call ``callback`` every ``callback_time`` on the current IOLoop.

    Args:
        callback: a function of no arguments; may be ``async``.
        callback_time: the period, in milliseconds (a number) or as a ``timedelta``.
        jitter: 0 (default) for a fixed period; e.g. 0.1 varies each period by +-5%.

    Raises:
        ValueError: the period is not positive.
    """

    def __init__(
        self,
        callback: Callable[[], Any],
        callback_time: float | datetime.timedelta,
        jitter: float = 0,
    ) -> None:
        if isinstance(callback_time, datetime.timedelta):
            milliseconds = callback_time / datetime.timedelta(milliseconds=1)
        else:
            milliseconds = float(callback_time)
        if not milliseconds > 0:
            raise ValueError(f"callback_time must be positive, got {callback_time!r}")
        self.callback = callback
        self.callback_time = milliseconds
        self.jitter = jitter
        self._running = False
        self._loop: IOLoop | None = None
        self._timeout: asyncio.Handle | None = None
        self._next_timeout = 0.0

    def start(self) -> None:
        """Start calling (the first run is one period from now) on ``IOLoop.current()``."""
        if self._running:
            return
        loop = IOLoop.current()
        assert loop is not None
        self._loop = loop
        self._running = True
        self._next_timeout = loop.time()
        self._schedule_next()

    def stop(self) -> None:
        """Stop calling; a run in progress finishes but no other follows."""
        self._running = False
        if self._timeout is not None and self._loop is not None:
            self._loop.remove_timeout(self._timeout)
        self._timeout = None

    def is_running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._running

    def _schedule_next(self) -> None:
        if not self._running or self._loop is None:
            return
        self._next_timeout = next_run_time(
            self._next_timeout, self._loop.time(), self.callback_time / 1000.0, self.jitter
        )
        # Straight on the asyncio loop: _run does its own error handling.
        self._timeout = self._loop.asyncio_loop.call_at(self._next_timeout, self._run)

    def _run(self) -> None:
        self._timeout = None
        if not self._running:
            return
        try:
            result = self.callback()
        except Exception:
            logger.exception("Exception in periodic callback %r", self.callback)
        else:
            if result is not None and inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                task.add_done_callback(self._after_async_run)
                return
        self._schedule_next()

    def _after_async_run(self, task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "Exception in periodic callback %r", self.callback, exc_info=task.exception()
            )
        self._schedule_next()
