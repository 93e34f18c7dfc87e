"""squall.loop.queues: Queue, PriorityQueue, LifoQueue, timeouts, task_done/join."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from squall.loop import IOLoop
from squall.loop.queues import LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull


def test_sizes_and_nowait_methods() -> None:
    q: Queue[int] = Queue(maxsize=2)
    assert (q.maxsize, q.qsize(), q.empty(), q.full()) == (2, 0, True, False)
    with pytest.raises(QueueEmpty):
        q.get_nowait()
    q.put_nowait(1)
    q.put_nowait(2)
    assert (q.qsize(), q.empty(), q.full()) == (2, False, True)
    with pytest.raises(QueueFull, match="maxsize=2"):
        q.put_nowait(3)
    assert [q.get_nowait(), q.get_nowait()] == [1, 2]
    unbounded: Queue[int] = Queue()
    for i in range(1000):
        unbounded.put_nowait(i)
    assert not unbounded.full()


def test_maxsize_is_checked() -> None:
    with pytest.raises(ValueError, match="negative"):
        Queue(-1)
    with pytest.raises(TypeError, match="None"):
        Queue(None)  # type: ignore[arg-type]


def test_get_waits_for_a_put_and_getters_are_served_in_order(io_loop: IOLoop) -> None:
    async def main() -> list[str]:
        q: Queue[str] = Queue()
        getters = [q.get(), q.get()]
        await asyncio.sleep(0)
        assert not any(g.done() for g in getters)
        await q.put("first")
        await q.put("second")
        return list(await asyncio.gather(*getters))

    assert io_loop.run_sync(main) == ["first", "second"]


def test_put_waits_while_full_and_putters_are_served_in_order(io_loop: IOLoop) -> None:
    async def main() -> list[int]:
        q: Queue[int] = Queue(maxsize=1)
        await q.put(0)
        putters = [q.put(1), q.put(2)]
        await asyncio.sleep(0)
        assert not any(p.done() for p in putters)
        got = [await q.get()]
        assert putters[0].done() and not putters[1].done()
        got += [await q.get(), await q.get()]
        await asyncio.gather(*putters)
        return got

    assert io_loop.run_sync(main) == [0, 1, 2]


@pytest.mark.parametrize("kind", ["absolute", "timedelta"])
def test_get_and_put_time_out_without_taking_or_putting(io_loop: IOLoop, kind: str) -> None:
    def deadline() -> float | datetime.timedelta:
        return io_loop.time() + 0.01 if kind == "absolute" else datetime.timedelta(seconds=0.01)

    async def main() -> None:
        q: Queue[str] = Queue(maxsize=1)
        with pytest.raises(TimeoutError, match="Queue.get timed out"):
            await q.get(timeout=deadline())
        await q.put("kept")
        with pytest.raises(TimeoutError, match="Queue.put timed out"):
            await q.put("dropped", timeout=deadline())
        # the timed-out getter got nothing and the timed-out putter put nothing
        assert q.get_nowait() == "kept"
        assert q.empty()
        q.put_nowait("next")
        assert await q.get(timeout=datetime.timedelta(seconds=30)) == "next"

    io_loop.run_sync(main)


def test_a_cancelled_getter_is_skipped(io_loop: IOLoop) -> None:
    async def main() -> str:
        q: Queue[str] = Queue()
        cancelled = q.get()
        live = q.get()
        cancelled.cancel()
        q.put_nowait("item")
        return await live

    assert io_loop.run_sync(main) == "item"


def test_join_waits_for_every_task_done(io_loop: IOLoop) -> None:
    async def main() -> list[str]:
        q: Queue[int] = Queue()
        trace: list[str] = []
        await q.join()  # nothing put: done at once
        for i in range(3):
            q.put_nowait(i)

        async def worker() -> None:
            async for item in q:
                await asyncio.sleep(0)
                trace.append(f"done {item}")
                q.task_done()

        task = asyncio.ensure_future(worker())
        await q.join()
        trace.append("joined")
        task.cancel()
        return trace

    assert io_loop.run_sync(main) == ["done 0", "done 1", "done 2", "joined"]


def test_join_times_out_and_task_done_refuses_extra_calls(io_loop: IOLoop) -> None:
    async def main() -> None:
        q: Queue[int] = Queue()
        q.put_nowait(1)
        with pytest.raises(TimeoutError):
            await q.join(timeout=datetime.timedelta(milliseconds=10))
        q.get_nowait()
        q.task_done()
        await q.join(timeout=io_loop.time())
        with pytest.raises(ValueError, match="too many times"):
            q.task_done()

    io_loop.run_sync(main)


def test_priority_queue_gives_the_lowest_first_even_to_a_waiting_getter(io_loop: IOLoop) -> None:
    async def main() -> list[tuple[int, str]]:
        q: PriorityQueue[tuple[int, str]] = PriorityQueue()
        for item in [(3, "low"), (0, "high"), (1, "medium")]:
            q.put_nowait(item)
        got = [q.get_nowait() for _ in range(3)]
        waiting = q.get()
        q.put_nowait((5, "only"))
        got.append(await waiting)
        return got

    assert io_loop.run_sync(main) == [(0, "high"), (1, "medium"), (3, "low"), (5, "only")]


def test_lifo_queue_gives_the_newest_first() -> None:
    q: LifoQueue[int] = LifoQueue()
    for i in (3, 2, 1):
        q.put_nowait(i)
    assert [q.get_nowait() for _ in range(3)] == [1, 2, 3]


def test_async_for_gets_items_until_break(io_loop: IOLoop) -> None:
    async def main() -> list[int]:
        q: Queue[int] = Queue(maxsize=2)

        async def producer() -> None:
            for i in range(5):
                await q.put(i)

        asyncio.ensure_future(producer())
        got: list[int] = []
        async for item in q:
            got.append(item)
            if len(got) == 5:
                break
        return got

    assert io_loop.run_sync(main) == [0, 1, 2, 3, 4]


def test_repr_has_the_queues_id_and_str_has_not(io_loop: IOLoop) -> None:
    async def main() -> None:
        queue: Queue[int] = Queue(maxsize=1)
        assert repr(queue) == f"<Queue at {hex(id(queue))} maxsize=1>"
        assert str(queue) == "<Queue maxsize=1>"
        getting = queue.get()
        assert str(queue) == "<Queue maxsize=1 getters[1]>"
        queue.put_nowait(1)
        await getting
        queue.put_nowait(2)
        assert str(queue) == "<Queue maxsize=1 queue=deque([2]) tasks=2>"

    io_loop.run_sync(main)
