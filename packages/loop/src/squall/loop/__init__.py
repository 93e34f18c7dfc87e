"""squall.loop: an IOLoop over asyncio (epoll on Linux), process and socket helpers.

The bottom layer of squall (Tornado's ``tornado.ioloop``, ``tornado.process`` and
``tornado.netutil`` in squall form)::

    import squall.loop

    loop = squall.loop.IOLoop.current()
    loop.call_later(1, loop.stop)
    loop.start()
"""

from __future__ import annotations

import asyncio
import importlib
import typing

from squall.loop._errors import (
    BindError,
    ForkAfterIOLoopError,
    ForkError,
    LoopClassError,
    LoopError,
    TooManyRestartsError,
    UvloopUnavailableError,
)
from squall.loop._ioloop import IOLoop
from squall.loop._netutil import bind_sockets, bind_unix_socket, bind_unused_port
from squall.loop._periodic import PeriodicCallback
from squall.loop._policy import install_loop_policy, new_event_loop
from squall.loop._process import cpu_count, forbid_fork, fork_processes, task_id
from squall.loop._streamclosed import StreamClosedError
from squall.loop._version import __version__

__all__ = [
    "BindError",
    "ForkAfterIOLoopError",
    "ForkError",
    "IOLoop",
    "LoopClassError",
    "LoopError",
    "PeriodicCallback",
    "StreamClosedError",
    "TooManyRestartsError",
    "UvloopUnavailableError",
    "__version__",
    "bind_sockets",
    "bind_unix_socket",
    "bind_unused_port",
    "cpu_count",
    "forbid_fork",
    "fork_processes",
    "install_loop_policy",
    "new_event_loop",
    "task_id",
]

# Tornado programs write `import tornado` and then use tornado.gen, tornado.locks, ...
# (loaded lazily by Tornado). After the renaming, `import squall.loop` then
# `squall.loop.locks.Condition()` works the same: these submodules load on first access
# (PEP 562), so a plain `import squall.loop` does not pay for them (gen costs ~20 ms).
_SUBMODULES = frozenset(("concurrent", "gen", "locks", "queues"))


def __getattr__(name: str) -> typing.Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"squall.loop.{name}")
    if name == "Future":
        # tornado.ioloop re-exports its Future (tutorials write
        # `from tornado.ioloop import Future, IOLoop`); squall's is asyncio's.
        return asyncio.Future
    if name == "TimeoutError":
        # Likewise the TimeoutError run_sync raises (`except tornado.ioloop.TimeoutError`,
        # pytest-tornado suites); Tornado's is asyncio's, the builtin one since 3.11.
        return TimeoutError
    raise AttributeError(f"module 'squall.loop' has no attribute {name!r}")
