"""Tornado's ``timeout=`` arguments: an absolute deadline on the loop clock, or a timedelta.

Shared by ``locks`` and ``queues``: a waiter Future gets a timer that calls ``expire`` at the
deadline unless the waiter is done first (the timer is then cancelled, so a long-lived
primitive with many satisfied waits keeps no timers alive).
"""

from __future__ import annotations

import asyncio
import datetime
import numbers
import os
from collections.abc import Callable
from typing import Any

from squall.loop._ioloop import IOLoop

Timeout = float | datetime.timedelta
"""An absolute deadline (``IOLoop.time()`` seconds) or a ``datetime.timedelta`` from now."""


def expire_at(waiter: asyncio.Future[Any], timeout: Timeout, expire: Callable[[], None]) -> None:
    """Call ``expire()`` at ``timeout`` unless ``waiter`` is done first.

    Raises:
        TypeError: ``timeout`` is neither a number nor a timedelta.
    """
    loop = waiter.get_loop()
    if isinstance(timeout, datetime.timedelta):
        handle = loop.call_later(timeout.total_seconds(), _fire, waiter, expire)
    elif isinstance(timeout, numbers.Real) and not isinstance(timeout, bool):
        handle = loop.call_at(float(timeout), _fire, waiter, expire)
    else:
        raise TypeError(
            f"timeout must be a deadline (IOLoop.time() seconds) or a timedelta, got {timeout!r}"
        )
    waiter.add_done_callback(lambda _: handle.cancel())


def _fire(waiter: asyncio.Future[Any], expire: Callable[[], None]) -> None:
    if not waiter.done():
        expire()


def new_future() -> asyncio.Future[Any]:
    """A Future of the running loop, or of the current IOLoop's outside a running loop.

    In asyncio's debug mode a Future records where it was created (its repr says "created
    at", and so does a "never retrieved" warning): squall.loop's own frames are left out,
    so that is the caller's line, as with Tornado's futures.
    """
    try:
        future = asyncio.get_running_loop().create_future()
    except RuntimeError:
        io_loop = IOLoop.current()
        assert io_loop is not None  # current() with instance=True always gives one
        future = io_loop.asyncio_loop.create_future()
    created = getattr(future, "_source_traceback", None)  # only set in debug mode
    while created and os.path.dirname(created[-1][0]) in _NOT_THE_CALLER:
        del created[-1]
    return future


# squall.loop's folder, and asyncio's (its loop's create_future is Python code).
_NOT_THE_CALLER = frozenset(
    {os.path.dirname(os.path.abspath(__file__)), os.path.dirname(asyncio.__file__)}
)
