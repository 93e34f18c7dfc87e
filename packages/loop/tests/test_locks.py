"""squall.loop.locks: Condition, Event, Semaphore, BoundedSemaphore, Lock."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from squall.loop import IOLoop
from squall.loop.locks import BoundedSemaphore, Condition, Event, Lock, Semaphore


def run(io_loop: IOLoop, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return io_loop.run_sync(main)


def _deadlines(io_loop: IOLoop) -> list[float | datetime.timedelta]:
    return [io_loop.time() + 0.01, datetime.timedelta(milliseconds=10)]


# -- Condition -----------------------------------------------------------------------------


def test_condition_notify_wakes_waiters_in_the_order_they_waited(io_loop: IOLoop) -> None:
    async def main() -> list[str]:
        condition = Condition()
        woken: list[str] = []

        async def waiter(name: str) -> None:
            assert await condition.wait() is True
            woken.append(name)

        tasks = [asyncio.ensure_future(waiter(n)) for n in "abcd"]
        await asyncio.sleep(0)
        condition.notify()
        await asyncio.sleep(0)
        assert woken == ["a"]
        condition.notify(2)
        await asyncio.sleep(0)
        assert woken == ["a", "b", "c"]
        condition.notify_all()
        await asyncio.gather(*tasks)
        return woken

    assert run(io_loop, main) == ["a", "b", "c", "d"]


def test_condition_wait_resolves_false_at_the_timeout(io_loop: IOLoop) -> None:
    async def main() -> None:
        condition = Condition()
        for deadline in _deadlines(io_loop):
            assert await condition.wait(timeout=deadline) is False
        # a timed-out waiter is skipped: the notification goes to the live one
        expired = condition.wait(timeout=io_loop.time())
        live = condition.wait()
        await asyncio.sleep(0.001)
        assert expired.done() and expired.result() is False
        condition.notify()
        assert await live is True

    run(io_loop, main)


def test_condition_notify_skips_cancelled_waiters(io_loop: IOLoop) -> None:
    async def main() -> None:
        condition = Condition()
        cancelled = condition.wait()
        live = condition.wait()
        cancelled.cancel()
        condition.notify(1)
        assert await live is True
        assert repr(condition) == "<Condition>"

    run(io_loop, main)


# -- Event ----------------------------------------------------------------------------------


def test_event_set_wakes_every_waiter_and_clear_blocks_again(io_loop: IOLoop) -> None:
    async def main() -> None:
        event = Event()
        assert not event.is_set()
        waiters = [event.wait(), event.wait()]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        event.set()
        assert event.is_set()
        await asyncio.gather(*waiters)
        assert event.wait().done()  # set: wait() is already resolved
        event.clear()
        assert not event.is_set()
        later = event.wait()
        await asyncio.sleep(0)
        assert not later.done()
        event.set()
        await later

    run(io_loop, main)


def test_event_wait_times_out_with_deadline_or_timedelta(io_loop: IOLoop) -> None:
    async def main() -> None:
        event = Event()
        for deadline in _deadlines(io_loop):
            with pytest.raises(TimeoutError, match="Event.wait timed out"):
                await event.wait(deadline)
        event.set()
        await event.wait(io_loop.time())  # already set: no timeout

    run(io_loop, main)


def test_event_timeout_refuses_other_types(io_loop: IOLoop) -> None:
    async def main() -> None:
        with pytest.raises(TypeError, match="timedelta"):
            Event().wait(timeout="1s")  # type: ignore[arg-type]

    run(io_loop, main)


# -- Semaphore -------------------------------------------------------------------------------


def test_semaphore_limits_holders_and_serves_waiters_in_order(io_loop: IOLoop) -> None:
    async def main() -> list[str]:
        semaphore = Semaphore(2)
        order: list[str] = []
        holding = 0
        most = 0

        async def worker(name: str) -> None:
            nonlocal holding, most
            async with semaphore:
                holding += 1
                most = max(most, holding)
                order.append(name)
                await asyncio.sleep(0)
                holding -= 1

        await asyncio.gather(*(worker(n) for n in "abcdef"))
        assert most == 2
        return order

    assert run(io_loop, main) == list("abcdef")


def test_semaphore_acquire_times_out_and_takes_nothing(io_loop: IOLoop) -> None:
    async def main() -> None:
        semaphore = Semaphore(1)
        await semaphore.acquire()
        for deadline in _deadlines(io_loop):
            with pytest.raises(TimeoutError, match="Semaphore.acquire timed out"):
                await semaphore.acquire(deadline)
        semaphore.release()
        # the timed-out waiters did not swallow the release
        holder = await semaphore.acquire(datetime.timedelta(seconds=30))
        with holder:  # Tornado's `with (yield sem.acquire()):` form releases on exit
            pass
        assert semaphore.acquire().done()

    run(io_loop, main)


def test_semaphore_refuses_a_negative_value_and_plain_with() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Semaphore(-1)
    with pytest.raises(RuntimeError, match="async with"):
        with Semaphore():
            pass


def test_a_cancelled_acquirer_does_not_keep_the_unit(io_loop: IOLoop) -> None:
    async def main() -> None:
        semaphore = Semaphore(1)
        await semaphore.acquire()

        async def blocked() -> None:
            async with semaphore:
                pass

        task = asyncio.ensure_future(blocked())
        await asyncio.sleep(0)
        # Granted and cancelled in the same iteration: the unit must come back.
        semaphore.release()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await semaphore.acquire(datetime.timedelta(seconds=30))

    run(io_loop, main)


def test_bounded_semaphore_refuses_too_many_releases(io_loop: IOLoop) -> None:
    async def main() -> None:
        semaphore = BoundedSemaphore(1)
        await semaphore.acquire()
        semaphore.release()
        with pytest.raises(ValueError, match="released too many times"):
            semaphore.release()

    run(io_loop, main)


# -- Lock ----------------------------------------------------------------------------------------


def test_lock_runs_one_block_at_a_time_in_arrival_order(io_loop: IOLoop) -> None:
    async def main() -> list[str]:
        lock = Lock()
        trace: list[str] = []

        async def critical(name: str) -> None:
            async with lock:
                trace.append(f"{name} in")
                await asyncio.sleep(0)
                trace.append(f"{name} out")

        await asyncio.gather(*(critical(n) for n in "abc"))
        return trace

    assert run(io_loop, main) == ["a in", "a out", "b in", "b out", "c in", "c out"]


def test_lock_acquire_timeout_and_release_errors(io_loop: IOLoop) -> None:
    async def main() -> None:
        lock = Lock()
        await lock.acquire()
        for deadline in _deadlines(io_loop):
            with pytest.raises(TimeoutError):
                await lock.acquire(timeout=deadline)
        lock.release()
        with pytest.raises(RuntimeError, match="release unlocked lock"):
            lock.release()
        with pytest.raises(RuntimeError, match="async with"):
            with lock:
                pass

    run(io_loop, main)


def test_reprs_name_the_state_and_waiters_only_when_there_are_some(io_loop: IOLoop) -> None:
    async def main() -> None:
        condition = Condition()
        assert repr(condition) == "<Condition>"
        waiting = condition.wait()
        assert repr(condition) == "<Condition waiters[1]>"
        condition.notify()
        await waiting
        semaphore = Semaphore()
        assert repr(semaphore) == "<Semaphore [unlocked,value:1]>"
        await semaphore.acquire()
        assert repr(semaphore) == "<Semaphore [locked]>"
        blocked = semaphore.acquire()
        assert repr(semaphore) == "<Semaphore [locked,waiters:1]>"
        semaphore.release()
        await blocked

    run(io_loop, main)
