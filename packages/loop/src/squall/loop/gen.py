"""Coroutine helpers: Tornado's ``tornado.gen`` in squall form, on asyncio.

Theory of operation:

* ``async def`` is the way to write coroutines; everything here also accepts them. The
  ``@coroutine`` decorator keeps generator-based code running: the decorated function
  returns an ``asyncio.Future`` and its generator is driven by :class:`Runner`, which turns
  every yielded object into a future (:func:`convert_yielded`: futures, awaitables, lists
  and dicts of them, ``None``/:data:`moment` for "one loop iteration") and sends the result
  back in, or throws the exception in.
* As in Tornado, the generator runs synchronously up to its first yield when the decorated
  function is called, and a yield of an already finished future continues without a trip
  through the loop; so a coroutine that never waits costs no loop iteration.
* Each decorated call runs in its own copy of the caller's ``contextvars`` context, like an
  asyncio Task.
* :func:`multi` waits for every child even after one fails; the first failure (in the
  children's order) is raised and later ones are logged on ``squall.application`` (Tornado's
  ``app_log``) unless their type is in ``quiet_exceptions``.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextvars
import datetime
import functools
import inspect
import logging
import numbers
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any, TypeVar

from squall.loop._deadline import new_future as _new_future
from squall.loop._ioloop import IOLoop

# Future is re-exported, as tornado.gen does (`from tornado.gen import Future`, renamed).
from squall.loop.concurrent import Future, chain_future, future_set_result_unless_cancelled

__all__ = [
    "BadYieldError",
    "Future",
    "Multi",
    "Return",
    "Runner",
    "TimeoutError",
    "WaitIterator",
    "convert_yielded",
    "coroutine",
    "is_coroutine_function",
    "maybe_future",
    "moment",
    "multi",
    "multi_future",
    "sleep",
    "with_timeout",
]

app_log = logging.getLogger("squall.application")

_T = TypeVar("_T")

TimeoutError = builtins.TimeoutError
"""Raised by :func:`with_timeout` (the builtin ``TimeoutError``, as in Tornado 6.2+)."""

QuietExceptions = type[Exception] | tuple[type[Exception], ...]


class BadYieldError(Exception):
    """A ``@coroutine`` generator yielded something that is not a future or an awaitable.

    It is thrown into the generator at the ``yield``, so the coroutine can catch it.
    """


class Return(Exception):  # noqa: N818 - Tornado's name
    """``raise Return(value)`` ends a ``@coroutine`` generator with ``value``.

    Kept for old generator code; ``return value`` does the same.

    Attributes:
        value: the coroutine's result.
    """

    def __init__(self, value: Any = None) -> None:
        super().__init__()
        self.value = value
        self.args = (value,)


class _Moment:
    """The type of :data:`moment`: awaiting or yielding it gives the loop one iteration."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        # A bare yield is what asyncio.sleep(0) does: the Task reschedules itself at once.
        yield

    def __repr__(self) -> str:
        return "squall.loop.gen.moment"


moment = _Moment()
"""``yield moment`` (in ``@coroutine`` code) or ``await moment`` lets the loop run one
iteration before going on; for long computations that would otherwise hog the loop."""


def _convert_yielded(yielded: Any) -> asyncio.Future[Any]:
    """Turn what a coroutine may yield into an asyncio Future (see module docstring).

    Raises:
        BadYieldError: ``yielded`` is none of the accepted kinds.
    """
    if yielded is None or yielded is moment:
        future = _new_future()
        future.get_loop().call_soon(future_set_result_unless_cancelled, future, None)
        return future
    if isinstance(yielded, list | dict):
        return multi(yielded)
    if isinstance(yielded, asyncio.Future):
        return yielded
    if isinstance(yielded, concurrent.futures.Future):
        return asyncio.wrap_future(yielded, loop=_new_future().get_loop())
    if inspect.isawaitable(yielded):
        return asyncio.ensure_future(yielded, loop=_new_future().get_loop())
    raise BadYieldError(f"yielded unknown object {yielded!r}")


convert_yielded = functools.singledispatch(_convert_yielded)
"""Turn a yielded object into an asyncio Future: a future is returned as is, a
``concurrent.futures`` future wrapped, another awaitable scheduled (coroutines start), a list
or dict goes through :func:`multi`, ``None`` and :data:`moment` resolve after one loop
iteration. Extend with ``@convert_yielded.register(SomeType)``; anything else raises
:class:`BadYieldError`."""


def maybe_future(x: Any) -> asyncio.Future[Any]:
    """``x`` if it is a future, otherwise a future already holding ``x`` (Tornado's old helper)."""
    if isinstance(x, asyncio.Future):
        return x
    if isinstance(x, concurrent.futures.Future):
        return convert_yielded(x)
    future = _new_future()
    future.set_result(x)
    return future


# -- multi ------------------------------------------------------------------------------


def multi(
    children: Sequence[Any] | Mapping[Any, Any], quiet_exceptions: QuietExceptions = ()
) -> asyncio.Future[Any]:
    """Wait for every child (futures or awaitables) in parallel.

    Args:
        children: a list of yieldables (the result is the list of their results, in order)
            or a dict of them (the result is a dict with the same keys).
        quiet_exceptions: exception types not to log when they fail after the first failure.

    Returns:
        A Future. When children fail, it fails with the first failure in the children's
        order, once every child is done; each later failure is logged on
        ``squall.application`` ("Multiple exceptions in yield list") unless it is an instance
        of ``quiet_exceptions`` or a cancellation. Cancelling it does not cancel the children.
    """
    keys: list[Any] | None
    if isinstance(children, Mapping):
        keys = list(children.keys())
        futures = [convert_yielded(child) for child in children.values()]
    else:
        keys = None
        futures = [convert_yielded(child) for child in children]
    result = _new_future()
    if not futures:
        result.set_result({} if keys is not None else [])
        return result
    pending = set(futures)

    def child_done(child: asyncio.Future[Any]) -> None:
        pending.discard(child)
        if pending:
            return
        values: list[Any] = []
        failed = False
        for future in futures:
            if future.cancelled():
                error: BaseException | None = asyncio.CancelledError()
            else:
                error = future.exception()
            if error is None:
                values.append(future.result())
            elif not failed:
                failed = True
                if not result.done():
                    result.set_exception(error)
            elif not isinstance(error, asyncio.CancelledError) and not isinstance(
                error, quiet_exceptions
            ):
                app_log.error("Multiple exceptions in yield list", exc_info=error)
        if not failed:
            future_set_result_unless_cancelled(
                result, dict(zip(keys, values, strict=True)) if keys is not None else values
            )

    for future in set(futures):
        future.add_done_callback(child_done)
    return result


multi_future = multi
"""Tornado's older name of :func:`multi` (the same function)."""
Multi = multi
"""The capitalised alias of :func:`multi` that Tornado 6 keeps (the same function)."""


# -- timeouts and sleeping ---------------------------------------------------------------


def with_timeout(
    timeout: float | datetime.timedelta,
    future: Any,
    quiet_exceptions: QuietExceptions = (),
    *,
    message: str | Callable[[], str] | None = None,
) -> asyncio.Future[Any]:
    """Wrap ``future`` (any yieldable) in a timeout.

    Args:
        timeout: an absolute deadline on the ``IOLoop.time()`` clock, or a
            ``datetime.timedelta`` from now.
        future: what to wait for; it is *not* cancelled at the timeout (others may still
            wait on it), unlike ``asyncio.wait_for``.
        quiet_exceptions: if ``future`` fails after the timeout, its exception is logged on
            ``squall.application`` unless it is one of these types (cancellation never is).
        message: the message of the ``TimeoutError``, or a callable making it (called only
            on timeout). Default ``"Timeout"``.

    Returns:
        A Future with ``future``'s outcome, or failing with ``TimeoutError`` at the deadline.
    """
    if not isinstance(timeout, datetime.timedelta | numbers.Real) or isinstance(timeout, bool):
        raise TypeError(f"with_timeout: the deadline must be a number or a timedelta: {timeout!r}")
    inner = convert_yielded(future)
    result = _new_future()
    chain_future(inner, result)
    io_loop = IOLoop.current()
    assert io_loop is not None

    def log_late_failure(done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            return
        exc = done.exception()
        if exc is not None and not isinstance(exc, quiet_exceptions):
            app_log.error("Exception in Future %r after timeout", done, exc_info=exc)

    def expire() -> None:
        if not result.done():
            text = message() if callable(message) else (message or "Timeout")
            result.set_exception(TimeoutError(text))
        inner.add_done_callback(log_late_failure)

    handle = io_loop.add_timeout(timeout, expire)
    inner.add_done_callback(lambda _: handle.cancel())
    return result


def sleep(duration: float) -> asyncio.Future[None]:
    """A Future that resolves (to None) after ``duration`` seconds: ``await gen.sleep(0.5)``."""
    future: asyncio.Future[None] = _new_future()
    handle = future.get_loop().call_later(
        duration, future_set_result_unless_cancelled, future, None
    )
    future.add_done_callback(lambda _: handle.cancel())
    return future


# -- the @coroutine decorator --------------------------------------------------------------


class Runner:
    """Drives one ``@coroutine`` generator: resumes it each time what it yielded is done.

    Not created by user code (the decorator makes one per call that yields); public because
    Tornado's was.
    """

    __slots__ = ("_context", "_gen", "_result", "_waiting")

    def __init__(
        self,
        gen: Generator[Any, Any, Any],
        result: asyncio.Future[Any],
        context: contextvars.Context,
    ) -> None:
        self._gen = gen
        self._result: asyncio.Future[Any] | None = result  # None once the generator ended
        self._context = context
        self._waiting: asyncio.Future[Any] | None = None
        # Cancelling the coroutine's Future cancels what it waits on, which throws
        # CancelledError in at the yield (as asyncio.Task.cancel does). This callback also
        # keeps the Runner alive as long as its result Future is.
        result.add_done_callback(self._result_done)

    def _result_done(self, result: asyncio.Future[Any]) -> None:
        if result.cancelled() and self._waiting is not None:
            self._waiting.cancel()

    def _resume(self, done: asyncio.Future[Any] | None) -> None:
        self._waiting = None
        exc: BaseException | None = None
        try:
            assert done is not None
            if done.cancelled():
                self.run(None, asyncio.CancelledError())
            else:
                exc = done.exception()
                self.run(None if exc is not None else done.result(), exc)
        finally:
            done = exc = None  # see run()

    def run(self, value: Any = None, exc: BaseException | None = None) -> None:
        """Send ``value`` (or throw ``exc``) in and run until a yield that is not ready."""
        result = self._result
        if result is None:
            return
        future: asyncio.Future[Any] | None = None
        yielded: Any = None
        try:
            while True:
                try:
                    if exc is not None:
                        yielded = self._context.run(self._gen.throw, exc)
                    else:
                        yielded = self._context.run(self._gen.send, value)
                except (StopIteration, Return) as stop:
                    future_set_result_unless_cancelled(result, stop.value)
                    break
                except asyncio.CancelledError:
                    result.cancel()
                    break
                except Exception as error:
                    if not result.done():
                        result.set_exception(error)
                    break
                value, exc = None, None
                try:
                    # In the coroutine's context: a yielded ``async def`` coroutine becomes
                    # a Task there, and a Task runs in the context current when it is made.
                    future = self._context.run(convert_yielded, yielded)
                except BadYieldError as error:
                    exc = error
                    continue
                if future.done() and yielded is not None and yielded is not moment:
                    if future.cancelled():
                        exc = asyncio.CancelledError()
                    else:
                        exc = future.exception()
                        value = None if exc is not None else future.result()
                    continue
                self._waiting = future
                future.add_done_callback(self._resume)
                return
            self._result = None
        finally:
            # A failure's traceback keeps the frame that caught it, and through f_back its
            # callers' (_resume, the decorator's wrapper): holding the coroutine's Future
            # (which holds the failure) or the failure itself there would make a cycle
            # that only the cyclic collector frees, with the failed coroutine's locals in
            # it. Dropped, they are freed at once, as in Tornado.
            value = exc = result = future = yielded = None


def coroutine(func: Callable[..., Any]) -> Callable[..., asyncio.Future[Any]]:
    """Make a generator function (or a plain function) a coroutine returning a Future.

    ::

        @gen.coroutine
        def fetch_both(a, b):
            x, y = yield [fetch(a), fetch(b)]     # lists and dicts wait in parallel
            raise gen.Return(x + y)               # or: return x + y

    The generator may yield futures, awaitables, lists or dicts of them, ``None`` or
    :data:`moment`; the returned Future is awaitable from ``async def`` code. A function
    that is not a generator gets its return value (or exception) in the Future. Prefer
    ``async def`` in new code.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] | None = _new_future()
        assert future is not None
        context = contextvars.copy_context()
        try:
            try:
                result = context.run(func, *args, **kwargs)
            except (Return, StopIteration) as stop:
                future.set_result(stop.value)
                return future
            except asyncio.CancelledError:
                future.cancel()
                return future
            except Exception as error:
                future.set_exception(error)
                return future
            if isinstance(result, Generator):
                Runner(result, future, context).run()
            else:
                future.set_result(result)
            return future
        finally:
            future = result = None  # see Runner.run(): no cycle through this frame

    wrapper.__squall_coroutine__ = True  # type: ignore[attr-defined]
    return wrapper


def is_coroutine_function(func: Any) -> bool:
    """True for an ``async def`` function and for one decorated with :func:`coroutine`."""
    return bool(getattr(func, "__squall_coroutine__", False)) or inspect.iscoroutinefunction(func)


# -- WaitIterator ------------------------------------------------------------------------


class WaitIterator:
    """Get the results of several futures in the order they finish.

    ::

        waiter = gen.WaitIterator(a, b)           # or WaitIterator(name=a, other=b)
        async for result in waiter:
            print(waiter.current_index, result)   # index (or key) of the one just done

    Or with ``while not waiter.done(): result = await waiter.next()``. A failing future
    raises its exception from ``next()`` (or the ``async for``), and iteration may go on.

    Raises:
        ValueError: futures given both positionally and by keyword.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError("WaitIterator: give futures positionally or by keyword, not both")
        keyed: list[tuple[Any, Any]] = list(kwargs.items()) if kwargs else list(enumerate(args))
        # (index or keyword, future) in the order they finished, not yet handed out. Keyed
        # by position, not by future: the same future may be given twice.
        self._finished: list[tuple[Any, asyncio.Future[Any]]] = []
        self._waiter: asyncio.Future[Any] | None = None
        self._remaining = len(keyed)
        self.current_index: Any = None
        """The index (or keyword) of the future whose result ``next()`` gave last."""
        self.current_future: asyncio.Future[Any] | None = None
        """The future whose result ``next()`` gave last."""
        for key, child in keyed:
            future = convert_yielded(child)
            future.add_done_callback(functools.partial(self._child_done, key))

    def done(self) -> bool:
        """True once every future's result has been handed out.

        Then ``current_index`` and ``current_future`` are None again, as in Tornado.
        """
        if self._remaining:
            return False
        self.current_index = self.current_future = None
        return True

    def _child_done(self, key: Any, future: asyncio.Future[Any]) -> None:
        if self._waiter is not None and not self._waiter.done():
            waiter, self._waiter = self._waiter, None
            self._hand_out(key, future, waiter)
        else:
            self._finished.append((key, future))

    def _hand_out(self, key: Any, future: asyncio.Future[Any], target: asyncio.Future[Any]) -> None:
        self._remaining -= 1
        self.current_future = future
        self.current_index = key
        chain_future(future, target)

    def next(self) -> asyncio.Future[Any]:
        """A Future resolving to the outcome of the next future to finish.

        Raises:
            StopIteration: every result was already handed out.
        """
        if self.done():
            raise StopIteration
        target = _new_future()
        if self._finished:
            self._hand_out(*self._finished.pop(0), target)
        else:
            self._waiter = target
        return target

    def __aiter__(self) -> WaitIterator:
        return self

    def __anext__(self) -> Awaitable[Any]:
        if self.done():
            raise StopAsyncIteration
        return self.next()
