"""squall.loop.concurrent: futures helpers and run_on_executor."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
import threading
from typing import Any

import pytest

from squall.loop import IOLoop
from squall.loop import concurrent as sq_concurrent
from squall.loop.concurrent import (
    DummyExecutor,
    Future,
    chain_future,
    dummy_executor,
    future_add_done_callback,
    future_set_exc_info,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
    is_future,
    run_on_executor,
)


def test_future_is_asyncios_and_is_future_knows_both_kinds(io_loop: IOLoop) -> None:
    assert Future is asyncio.Future
    assert is_future(io_loop.asyncio_loop.create_future())
    assert is_future(concurrent.futures.Future())
    assert not is_future(object())
    assert sq_concurrent.FUTURES == (concurrent.futures.Future, asyncio.Future)


def test_set_unless_cancelled_leaves_a_cancelled_future_alone(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    done: asyncio.Future[int] = io_loop.asyncio_loop.create_future()
    future_set_result_unless_cancelled(done, 1)
    assert done.result() == 1
    cancelled: asyncio.Future[int] = io_loop.asyncio_loop.create_future()
    cancelled.cancel()
    future_set_result_unless_cancelled(cancelled, 1)
    with caplog.at_level(logging.ERROR, logger="squall.application"):
        future_set_exception_unless_cancelled(cancelled, KeyError("lost"))
    assert cancelled.cancelled()
    # the exception is logged rather than lost
    assert [str(r.exc_info[1]) for r in caplog.records if r.exc_info] == ["'lost'"]
    failing: asyncio.Future[int] = io_loop.asyncio_loop.create_future()
    try:
        raise ValueError("from exc_info")
    except ValueError:
        future_set_exc_info(failing, sys.exc_info())
    with pytest.raises(ValueError, match="from exc_info"):
        failing.result()


def test_future_add_done_callback_calls_at_once_when_done(io_loop: IOLoop) -> None:
    calls: list[str] = []
    done: asyncio.Future[int] = io_loop.asyncio_loop.create_future()
    done.set_result(1)
    future_add_done_callback(done, lambda f: calls.append("immediately"))
    assert calls == ["immediately"]
    pending: asyncio.Future[int] = io_loop.asyncio_loop.create_future()
    future_add_done_callback(pending, lambda f: calls.append("later"))
    pending.set_result(2)
    assert calls == ["immediately"]  # asyncio runs it on the next iteration
    io_loop.run_sync(lambda: asyncio.sleep(0))
    assert calls == ["immediately", "later"]


def test_chain_future_copies_result_exception_and_cancellation(io_loop: IOLoop) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        outcomes: list[Any] = []
        for setup in ("result", "exception", "cancel"):
            a: asyncio.Future[str] = loop.create_future()
            b: asyncio.Future[str] = loop.create_future()
            chain_future(a, b)
            if setup == "result":
                a.set_result("value")
            elif setup == "exception":
                a.set_exception(KeyError("error"))
            else:
                a.cancel()
            await asyncio.sleep(0)
            outcomes.append("cancelled" if b.cancelled() else (b.exception() or b.result()))
        assert outcomes[0] == "value"
        assert isinstance(outcomes[1], KeyError)
        assert outcomes[2] == "cancelled"
        # b already done by someone else: left alone
        a2: asyncio.Future[str] = loop.create_future()
        b2: asyncio.Future[str] = loop.create_future()
        chain_future(a2, b2)
        b2.set_result("mine")
        a2.set_result("theirs")
        await asyncio.sleep(0)
        assert b2.result() == "mine"

    io_loop.run_sync(main)


def test_chain_future_from_a_thread_resolves_on_the_loop(io_loop: IOLoop) -> None:
    async def main() -> tuple[str, bool]:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            target: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            chain_future(pool.submit(lambda: threading.current_thread().name), target)
            name = await target
        return name, name != threading.current_thread().name

    assert io_loop.run_sync(main)[1] is True


class Worker:
    def __init__(self, io_loop: IOLoop | None = None) -> None:
        self.executor = concurrent.futures.ThreadPoolExecutor(2)
        self._pool = DummyExecutor()
        if io_loop is not None:
            self._loop = io_loop

    @run_on_executor
    def in_thread(self, x: int, *, y: int) -> tuple[int, str]:
        return x + y, threading.current_thread().name

    @run_on_executor(executor="_pool", io_loop="_loop")
    def inline(self) -> str:
        return threading.current_thread().name

    @run_on_executor
    def failing(self) -> None:
        raise ValueError("in the executor")


def test_run_on_executor_runs_on_self_executor_and_returns_an_awaitable(io_loop: IOLoop) -> None:
    worker = Worker(io_loop)

    async def main() -> None:
        total, name = await worker.in_thread(1, y=2)
        assert total == 3 and name != threading.current_thread().name
        future = worker.inline()
        assert isinstance(future, asyncio.Future)
        assert future.get_loop() is io_loop.asyncio_loop
        assert await future == threading.current_thread().name  # DummyExecutor: same thread
        with pytest.raises(ValueError, match="in the executor"):
            await worker.failing()

    try:
        io_loop.run_sync(main)
    finally:
        worker.executor.shutdown()


def test_run_on_executor_refuses_unknown_keywords() -> None:
    with pytest.raises(TypeError, match="unknown keyword 'loop'"):
        run_on_executor(loop="x")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="not both"):
        run_on_executor(lambda self: None, executor="x")  # type: ignore[call-overload]


def test_dummy_executor_runs_at_once() -> None:
    ok = dummy_executor.submit(lambda a, b: a * b, 6, 7)
    assert ok.done() and ok.result() == 42
    failed = dummy_executor.submit(int, "x")
    assert isinstance(failed.exception(), ValueError)
    dummy_executor.shutdown()
