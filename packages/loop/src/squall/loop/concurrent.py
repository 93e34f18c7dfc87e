"""Futures helpers: Tornado's ``tornado.concurrent`` in squall form.

squall's ``Future`` *is* ``asyncio.Future`` (as Tornado's has been since 5.0): these helpers
only bridge asyncio futures and ``concurrent.futures`` ones (what executors return) and
spare the caller the "already cancelled?" checks. A ``concurrent.futures.Future`` may finish
on any thread, so anything that touches an asyncio future on its behalf is routed back to
the loop's thread (``IOLoop.add_future``); an asyncio future's callbacks already run there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import types
from collections.abc import Callable
from typing import Any, TypeVar, overload

from squall.loop._ioloop import IOLoop

__all__ = [
    "FUTURES",
    "DummyExecutor",
    "Future",
    "chain_future",
    "dummy_executor",
    "future_add_done_callback",
    "future_set_exc_info",
    "future_set_exception_unless_cancelled",
    "future_set_result_unless_cancelled",
    "is_future",
    "run_on_executor",
]

# Tornado logs these on its application logger; squall's name for that logger.
app_log = logging.getLogger("squall.application")

_T = TypeVar("_T")

Future = asyncio.Future
"""squall's Future: ``asyncio.Future`` itself (``await`` it, ``add_done_callback``...)."""

FUTURES = (concurrent.futures.Future, asyncio.Future)
"""The future classes squall accepts wherever a future is expected."""

AnyFuture = asyncio.Future[Any] | concurrent.futures.Future[Any]


def is_future(x: object) -> bool:
    """True when ``x`` is an asyncio or a ``concurrent.futures`` future."""
    return isinstance(x, FUTURES)


class DummyExecutor(concurrent.futures.Executor):
    """An executor that runs each function at once, in the calling thread.

    ``submit`` returns an already finished ``concurrent.futures.Future``; useful in tests and
    where ``run_on_executor`` code must not use threads.
    """

    def submit(
        self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[_T]:
        """Run ``fn(*args, **kwargs)`` now; its result or exception is in the future."""
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to shut down."""


dummy_executor = DummyExecutor()
"""The shared :class:`DummyExecutor`."""


def future_set_result_unless_cancelled(future: AnyFuture, value: Any) -> None:
    """``future.set_result(value)``, unless ``future`` was cancelled (then nothing happens)."""
    if not future.cancelled():
        future.set_result(value)


def future_set_exception_unless_cancelled(future: AnyFuture, exc: BaseException) -> None:
    """``future.set_exception(exc)``; if ``future`` was cancelled, ``exc`` is logged instead.

    Logged on ``squall.application``, so the error is never silently lost.
    """
    if not future.cancelled():
        future.set_exception(exc)
    else:
        app_log.error("Exception after Future was cancelled", exc_info=exc)


def future_set_exc_info(
    future: AnyFuture,
    exc_info: tuple[type[BaseException] | None, BaseException | None, types.TracebackType | None],
) -> None:
    """Set the exception of an ``sys.exc_info()`` triple on ``future`` (unless cancelled).

    Raises:
        ValueError: the triple holds no exception.
    """
    if exc_info[1] is None:
        raise ValueError("future_set_exc_info: exc_info holds no exception")
    future_set_exception_unless_cancelled(future, exc_info[1])


@overload
def future_add_done_callback(
    future: concurrent.futures.Future[_T],
    callback: Callable[[concurrent.futures.Future[_T]], None],
) -> None: ...


@overload
def future_add_done_callback(
    future: asyncio.Future[_T], callback: Callable[[asyncio.Future[_T]], None]
) -> None: ...


def future_add_done_callback(future: Any, callback: Callable[[Any], None]) -> None:
    """Call ``callback(future)`` once ``future`` is done.

    Unlike ``add_done_callback``, an asyncio future that is already done gets its callback
    at once, synchronously (Tornado's rule); a ``concurrent.futures`` one calls it in
    whichever thread finishes it.
    """
    if isinstance(future, concurrent.futures.Future):
        future.add_done_callback(callback)
    elif future.done():
        callback(future)
    else:
        future.add_done_callback(callback)


def _copy(source: AnyFuture, target: AnyFuture) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
        return
    exc = source.exception()
    if exc is not None:
        future_set_exception_unless_cancelled(target, exc)
    else:
        future_set_result_unless_cancelled(target, source.result())


def chain_future(a: AnyFuture, b: AnyFuture) -> None:
    """When ``a`` finishes, give ``b`` its result, exception or cancellation.

    Either may be an asyncio or a ``concurrent.futures`` future; ``b`` left done by someone
    else in the meantime is left alone. When ``a`` is a ``concurrent.futures`` future and
    ``b`` an asyncio one, the copy happens on ``b``'s loop (thread-safe).
    """
    if isinstance(a, concurrent.futures.Future) and isinstance(b, asyncio.Future):
        b_loop = b.get_loop()
        a.add_done_callback(lambda done: b_loop.call_soon_threadsafe(_copy, done, b))
    else:
        future_add_done_callback(a, lambda done: _copy(done, b))


_RUN_ON_EXECUTOR_KEYWORDS = frozenset({"executor", "io_loop"})


_Method = Callable[..., Any]
_Wrapped = Callable[..., "asyncio.Future[Any]"]


@overload
def run_on_executor(fn: _Method, /) -> _Wrapped: ...


@overload
def run_on_executor(
    *, executor: str = "executor", io_loop: str = "io_loop"
) -> Callable[[_Method], _Wrapped]: ...


def run_on_executor(*args: Any, **kwargs: str) -> Any:
    """Decorate a method so that calling it runs it on ``self.executor``; returns a Future.

    ::

        class Worker:
            executor = concurrent.futures.ThreadPoolExecutor(4)

            @run_on_executor
            def crunch(self, n): ...          # await worker.crunch(10)

            @run_on_executor(executor="_pool", io_loop="_loop")
            def other(self): ...

    Args (keywords of the decorator form):
        executor: the name of the attribute of ``self`` holding the executor (default
            ``"executor"``).
        io_loop: the name of the attribute of ``self`` holding the IOLoop whose loop the
            returned Future belongs to (default ``"io_loop"``; when ``self`` has no such
            attribute, the current IOLoop's).

    Raises:
        TypeError: an unknown keyword, or positional and keyword arguments mixed.
    """
    unknown = set(kwargs) - _RUN_ON_EXECUTOR_KEYWORDS
    if unknown:
        raise TypeError(f"run_on_executor: unknown keyword {sorted(unknown)[0]!r}")
    if args and kwargs:
        raise TypeError("run_on_executor: give the function or keywords, not both")
    if len(args) > 1:
        raise TypeError(f"run_on_executor: expected one function, got {len(args)} arguments")
    executor_attr = kwargs.get("executor", "executor")
    loop_attr = kwargs.get("io_loop", "io_loop")

    def decorate(fn: Callable[..., Any]) -> Callable[..., asyncio.Future[Any]]:
        @functools.wraps(fn)
        def wrapper(self: Any, *a: Any, **kw: Any) -> asyncio.Future[Any]:
            io_loop = getattr(self, loop_attr, None)
            if not isinstance(io_loop, IOLoop):
                io_loop = IOLoop.current()
                assert io_loop is not None
            result: asyncio.Future[Any] = io_loop.asyncio_loop.create_future()
            chain_future(getattr(self, executor_attr).submit(fn, self, *a, **kw), result)
            return result

        return wrapper

    if args:
        return decorate(args[0])
    return decorate
