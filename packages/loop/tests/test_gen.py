"""squall.loop.gen: generator coroutines, multi, with_timeout, sleep, moment, WaitIterator."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import datetime
import gc
import inspect
import logging
import weakref
from collections.abc import Generator
from typing import Any

import pytest

from squall.loop import IOLoop, gen


async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def _app_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "squall.application"]


# -- @coroutine ---------------------------------------------------------------------------


def test_a_generator_coroutine_yields_futures_awaitables_lists_and_dicts(io_loop: IOLoop) -> None:
    @gen.coroutine
    def work(x: int) -> Generator[Any, Any, Any]:
        one = yield double(x)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, 7)
        two = yield future
        three, four = yield [double(1), double(2)]
        five = yield {"a": double(3), "b": double(4)}
        raise gen.Return((one, two, three, four, five))

    assert io_loop.run_sync(lambda: work(5)) == (10, 7, 2, 4, {"a": 6, "b": 8})


def test_a_generator_coroutine_may_return_its_value(io_loop: IOLoop) -> None:
    @gen.coroutine
    def work() -> Generator[Any, Any, int]:
        value: int = yield double(4)
        return value + 1

    assert io_loop.run_sync(work) == 9


def test_a_decorated_plain_function_returns_a_future_of_its_result(io_loop: IOLoop) -> None:
    @gen.coroutine
    def plain(x: int) -> int:
        return x * 3

    @gen.coroutine
    def raising() -> None:
        raise gen.Return("via Return")

    async def main() -> tuple[Any, Any]:
        future = plain(2)
        assert isinstance(future, asyncio.Future) and future.done()
        return await future, await raising()

    assert io_loop.run_sync(main) == (6, "via Return")


def test_a_coroutine_runs_up_to_its_first_yield_when_called(io_loop: IOLoop) -> None:
    steps: list[str] = []

    @gen.coroutine
    def work() -> Generator[Any, Any, None]:
        steps.append("before")
        yield gen.sleep(0)
        steps.append("after")

    async def main() -> None:
        future = work()
        assert steps == ["before"]
        await future
        assert steps == ["before", "after"]

    io_loop.run_sync(main)


def test_an_exception_of_a_yielded_future_is_raised_at_the_yield(io_loop: IOLoop) -> None:
    async def fail() -> None:
        raise KeyError("inner")

    @gen.coroutine
    def work() -> Generator[Any, Any, str]:
        try:
            yield fail()
        except KeyError as exc:
            return f"caught {exc}"
        return "not caught"

    assert io_loop.run_sync(work) == "caught 'inner'"


def test_an_uncaught_exception_fails_the_coroutines_future(io_loop: IOLoop) -> None:
    @gen.coroutine
    def work() -> Generator[Any, Any, None]:
        yield gen.moment
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        io_loop.run_sync(work)


def test_yielding_an_unknown_object_throws_bad_yield_error_in(io_loop: IOLoop) -> None:
    @gen.coroutine
    def work() -> Generator[Any, Any, str]:
        try:
            yield 42
        except gen.BadYieldError as exc:
            return str(exc)
        return "no error"

    assert io_loop.run_sync(work) == "yielded unknown object 42"


def test_cancelling_a_coroutine_cancels_what_it_waits_on(io_loop: IOLoop) -> None:
    seen: list[str] = []

    @gen.coroutine
    def work(waited: asyncio.Future[None]) -> Generator[Any, Any, None]:
        try:
            yield waited
        except asyncio.CancelledError:
            seen.append("cancelled at the yield")
            raise

    async def main() -> None:
        waited: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future = work(waited)
        future.cancel()
        await asyncio.sleep(0)
        assert waited.cancelled()
        assert future.cancelled()

    io_loop.run_sync(main)
    assert seen == ["cancelled at the yield"]


def test_each_coroutine_call_runs_in_a_copy_of_the_callers_context(io_loop: IOLoop) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    @gen.coroutine
    def work() -> Generator[Any, Any, str]:
        var.set("inside")
        yield gen.moment
        return var.get()

    async def main() -> tuple[str, str]:
        var.set("caller")
        inside = await work()
        return inside, var.get()

    assert io_loop.run_sync(main) == ("inside", "caller")


def test_a_yielded_native_coroutine_sees_the_generators_context_vars(io_loop: IOLoop) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def read() -> str:
        return var.get()

    @gen.coroutine
    def work() -> Generator[Any, Any, tuple[str, str]]:
        var.set("set before the first yield")
        first = yield read()
        yield gen.moment
        var.set("set after a wait")
        second = yield read()
        return first, second

    assert io_loop.run_sync(work) == ("set before the first yield", "set after a wait")


def test_is_coroutine_function_knows_both_kinds() -> None:
    @gen.coroutine
    def decorated() -> None:
        pass

    def plain() -> None:
        pass

    assert gen.is_coroutine_function(decorated)
    assert gen.is_coroutine_function(double)
    assert not gen.is_coroutine_function(plain)


# -- sleep and moment ------------------------------------------------------------------------


def test_sleep_resolves_to_none(io_loop: IOLoop) -> None:
    async def main() -> None:
        return await gen.sleep(0.001)

    assert io_loop.run_sync(main) is None


def test_moment_lets_callbacks_already_queued_run_first(io_loop: IOLoop) -> None:
    order: list[str] = []

    @gen.coroutine
    def yielding() -> Generator[Any, Any, None]:
        io_loop.add_callback(order.append, "callback of the generator")
        yield gen.moment
        order.append("generator resumed")

    async def awaiting() -> None:
        io_loop.add_callback(order.append, "callback of the native coroutine")
        await gen.moment
        order.append("native coroutine resumed")

    io_loop.run_sync(yielding)
    io_loop.run_sync(awaiting)
    assert order == [
        "callback of the generator",
        "generator resumed",
        "callback of the native coroutine",
        "native coroutine resumed",
    ]


# -- multi ------------------------------------------------------------------------------------


def test_multi_gathers_lists_and_dicts_in_order(io_loop: IOLoop) -> None:
    async def main() -> tuple[Any, ...]:
        return (
            await gen.multi([double(1), double(2), double(3)]),
            await gen.multi({"x": double(5), "y": double(6)}),
            await gen.multi([]),
            await gen.multi({}),
        )

    assert io_loop.run_sync(main) == ([2, 4, 6], {"x": 10, "y": 12}, [], {})
    assert gen.multi_future is gen.multi


def test_multi_raises_the_first_error_and_logs_the_later_ones(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail(message: str) -> None:
        await asyncio.sleep(0)
        raise RuntimeError(message)

    async def main() -> None:
        await gen.multi([fail("first"), double(1), fail("second"), fail("third")])

    with caplog.at_level(logging.ERROR, logger="squall.application"):
        with pytest.raises(RuntimeError, match="first"):
            io_loop.run_sync(main)
    records = _app_errors(caplog)
    assert [r.getMessage() for r in records] == ["Multiple exceptions in yield list"] * 2
    assert [str(r.exc_info[1]) for r in records if r.exc_info] == ["second", "third"]


def test_multi_waits_for_every_child_before_failing(io_loop: IOLoop) -> None:
    finished: list[str] = []

    async def slow() -> None:
        await gen.sleep(0.01)
        finished.append("slow")

    async def fail() -> None:
        raise RuntimeError("fast failure")

    async def main() -> None:
        with pytest.raises(RuntimeError):
            await gen.multi([fail(), slow()])
        assert finished == ["slow"]

    io_loop.run_sync(main)


def test_multi_quiet_exceptions_are_not_logged(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail(exc: Exception) -> None:
        raise exc

    async def main() -> None:
        await gen.multi(
            [fail(KeyError("first")), fail(KeyError("quiet")), fail(ValueError("loud"))],
            quiet_exceptions=KeyError,
        )

    with caplog.at_level(logging.ERROR, logger="squall.application"):
        with pytest.raises(KeyError):
            io_loop.run_sync(main)
    assert [str(r.exc_info[1]) for r in _app_errors(caplog) if r.exc_info] == ["loud"]


# -- with_timeout -----------------------------------------------------------------------------


def test_with_timeout_gives_the_result_when_in_time(io_loop: IOLoop) -> None:
    async def main() -> int:
        return await gen.with_timeout(datetime.timedelta(seconds=30), double(21))  # type: ignore[no-any-return]

    assert io_loop.run_sync(main) == 42


@pytest.mark.parametrize("kind", ["absolute", "timedelta"])
def test_with_timeout_raises_timeout_error_and_leaves_the_future_alone(
    io_loop: IOLoop, kind: str
) -> None:
    async def main() -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timeout: float | datetime.timedelta = (
            io_loop.time() + 0.01 if kind == "absolute" else datetime.timedelta(seconds=0.01)
        )
        with pytest.raises(gen.TimeoutError, match="Timeout"):
            await gen.with_timeout(timeout, never)
        assert not never.done()
        never.set_result(None)

    io_loop.run_sync(main)
    assert gen.TimeoutError is TimeoutError


def test_with_timeout_message_may_be_a_callable(io_loop: IOLoop) -> None:
    async def main() -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with pytest.raises(TimeoutError, match="waited too long"):
            await gen.with_timeout(io_loop.time(), never, message=lambda: "waited too long")

    io_loop.run_sync(main)


def test_with_timeout_logs_a_late_failure_unless_quiet(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loud: asyncio.Future[None] = loop.create_future()
        quiet: asyncio.Future[None] = loop.create_future()
        for future, quiet_exceptions in ((loud, ()), (quiet, (KeyError,))):
            with pytest.raises(TimeoutError):
                await gen.with_timeout(io_loop.time(), future, quiet_exceptions)
        loud.set_exception(ValueError("late and loud"))
        quiet.set_exception(KeyError("late and quiet"))
        await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR, logger="squall.application"):
        io_loop.run_sync(main)
    assert [str(r.exc_info[1]) for r in _app_errors(caplog) if r.exc_info] == ["late and loud"]


def test_with_timeout_refuses_a_timeout_of_the_wrong_type(io_loop: IOLoop) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match="deadline"):
            gen.with_timeout("soon", asyncio.get_running_loop().create_future())  # type: ignore[arg-type]

    io_loop.run_sync(main)


# -- convert_yielded, maybe_future ----------------------------------------------------------------


def test_convert_yielded_accepts_every_yieldable(io_loop: IOLoop) -> None:
    async def main() -> list[Any]:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            results = [
                await gen.convert_yielded(pool.submit(lambda: "from a thread")),
                await gen.convert_yielded(double(2)),
                await gen.convert_yielded([double(1)]),
                await gen.convert_yielded(None),
            ]
        with pytest.raises(gen.BadYieldError):
            gen.convert_yielded(object())
        return results

    assert io_loop.run_sync(main) == ["from a thread", 4, [2], None]


def test_convert_yielded_can_be_extended_with_register(io_loop: IOLoop) -> None:
    class Box:
        def __init__(self, value: int) -> None:
            self.value = value

    @gen.convert_yielded.register(Box)
    def _(box: Box) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        future.set_result(box.value)
        return future

    @gen.coroutine
    def work() -> Generator[Any, Any, int]:
        value = yield Box(11)
        return value  # type: ignore[no-any-return]

    assert io_loop.run_sync(work) == 11


def test_maybe_future_wraps_plain_values(io_loop: IOLoop) -> None:
    async def main() -> tuple[Any, bool]:
        existing: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        existing.set_result(1)
        return await gen.maybe_future(5), gen.maybe_future(existing) is existing

    assert io_loop.run_sync(main) == (5, True)


# -- WaitIterator ----------------------------------------------------------------------------------


def test_wait_iterator_yields_results_in_the_order_they_finish(io_loop: IOLoop) -> None:
    async def main() -> list[tuple[Any, Any]]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[str]] = [loop.create_future() for _ in range(3)]
        waiter = gen.WaitIterator(*futures)
        loop.call_soon(futures[2].set_result, "c")
        loop.call_soon(futures[0].set_exception, KeyError("a failed"))
        loop.call_soon(futures[1].set_result, "b")
        seen: list[tuple[Any, Any]] = []
        while not waiter.done():
            try:
                result: Any = await waiter.next()
            except KeyError:
                result = "error"
            seen.append((waiter.current_index, result))
        return seen

    assert io_loop.run_sync(main) == [(2, "c"), (0, "error"), (1, "b")]


def test_wait_iterator_async_for_with_keywords(io_loop: IOLoop) -> None:
    async def main() -> list[tuple[str, int]]:
        # "two" is resolved only once "one" was handed out: the order is fixed, not timed.
        two: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = gen.WaitIterator(one=double(1), two=two)
        seen = []
        async for result in waiter:
            seen.append((waiter.current_index, result))
            if not two.done():
                two.set_result(None)
        return seen

    assert io_loop.run_sync(main) == [("one", 2), ("two", None)]
    with pytest.raises(ValueError, match="not both"):
        gen.WaitIterator(io_loop.asyncio_loop.create_future(), other=gen.moment)


def test_wait_iterator_hands_out_a_future_given_twice_once_per_place(io_loop: IOLoop) -> None:
    async def main() -> list[tuple[Any, Any]]:
        loop = asyncio.get_running_loop()
        shared: asyncio.Future[str] = loop.create_future()
        other: asyncio.Future[str] = loop.create_future()
        waiter = gen.WaitIterator(shared, other, shared)
        loop.call_soon(shared.set_result, "s")
        loop.call_later(0.01, other.set_result, "o")
        seen = []
        async for result in waiter:
            seen.append((waiter.current_index, result))
        by_keyword = gen.WaitIterator(first=shared, second=shared)
        async for result in by_keyword:
            seen.append((by_keyword.current_index, result))
        return seen

    assert io_loop.run_sync(main) == [(0, "s"), (2, "s"), (1, "o"), ("first", "s"), ("second", "s")]


def test_wait_iterator_clears_the_current_future_once_done(io_loop: IOLoop) -> None:
    async def main() -> tuple[Any, Any, Any]:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        done.set_result(1)
        waiter = gen.WaitIterator(done)
        while not waiter.done():
            await waiter.next()
            assert (waiter.current_index, waiter.current_future) == (0, done)
        return waiter.current_index, waiter.current_future, waiter.done()

    assert io_loop.run_sync(main) == (None, None, True)


@pytest.mark.parametrize("waits", [False, True], ids=["fails-at-once", "fails-after-a-wait"])
def test_a_failed_coroutines_locals_are_freed_without_the_cycle_collector(
    io_loop: IOLoop, waits: bool
) -> None:
    class Payload:
        pass

    refs: list[weakref.ref[Payload]] = []

    @gen.coroutine
    def fails() -> Generator[Any, Any, None]:
        payload = Payload()
        refs.append(weakref.ref(payload))
        yield gen.sleep(0) if waits else gen.maybe_future(None)
        raise ValueError("failed")

    @gen.coroutine
    def plain_function_fails() -> None:
        payload = Payload()
        refs.append(weakref.ref(payload))
        raise ValueError("failed")

    @gen.coroutine
    def caller() -> Generator[Any, Any, None]:
        for failing in (fails, plain_function_fails):
            try:
                yield failing()
            except ValueError:
                pass

    gc.collect()
    gc.disable()
    try:
        io_loop.run_sync(caller)
        assert [ref() for ref in refs] == [None, None]
    finally:
        gc.enable()


def test_in_debug_mode_a_coroutines_future_says_it_was_created_at_the_callers_line(
    io_loop: IOLoop,
) -> None:
    @gen.coroutine
    def work() -> Generator[Any, Any, None]:
        yield gen.moment

    async def main() -> tuple[str, str]:
        asyncio.get_running_loop().set_debug(True)
        here = inspect.getframeinfo(inspect.currentframe())  # type: ignore[arg-type]
        future = work()  # the line after `here`
        text = repr(future)
        await future
        return text, f"created at {here.filename}:{here.lineno + 1}>"

    text, expected = io_loop.run_sync(main)
    assert text.endswith(expected)
