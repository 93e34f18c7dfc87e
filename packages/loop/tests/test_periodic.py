"""PeriodicCallback: runs repeatedly, skips missed runs, awaits async callbacks, logs errors."""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
import time

import pytest

from squall.loop import IOLoop, PeriodicCallback
from squall.loop._periodic import next_run_time

PERIOD_MS = 20


def test_runs_repeatedly_until_stopped(io_loop: IOLoop) -> None:
    calls: list[float] = []

    def tick() -> None:
        calls.append(io_loop.time())
        if len(calls) == 3:
            pc.stop()
            io_loop.stop()

    pc = PeriodicCallback(tick, PERIOD_MS)
    assert not pc.is_running()
    pc.start()
    assert pc.is_running()
    io_loop.call_later(10, io_loop.stop)
    io_loop.start()
    assert len(calls) == 3
    assert not pc.is_running()


def test_missed_runs_are_skipped_not_bunched(io_loop: IOLoop) -> None:
    # The first run blocks the loop for more than 3 periods, then asks the loop to stop.
    # asyncio runs every callback already due in the iteration that handles the stop, so a
    # callback that tried to catch up on the missed runs would run again here; one that
    # skips them has its next run a period away and does not.
    # A long period leaves a wide margin between the end of the block (3.2 periods) and
    # the next slot, so a busy machine cannot reach that slot before the loop stops.
    period_ms = 100
    calls: list[int] = []

    def tick() -> None:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(3.2 * period_ms / 1000)
            io_loop.add_callback(io_loop.stop)

    pc = PeriodicCallback(tick, period_ms)
    pc.start()
    io_loop.call_later(10, io_loop.stop)
    io_loop.start()
    pc.stop()
    assert len(calls) == 1


def test_async_callback_is_awaited_so_runs_never_overlap(io_loop: IOLoop) -> None:
    active = 0
    most = 0
    runs = 0

    async def tick() -> None:
        nonlocal active, most, runs
        active += 1
        most = max(most, active)
        await asyncio.sleep(2 * PERIOD_MS / 1000)  # longer than the period
        active -= 1
        runs += 1
        if runs == 3:
            io_loop.stop()

    pc = PeriodicCallback(tick, PERIOD_MS)
    pc.start()
    io_loop.call_later(10, io_loop.stop)
    io_loop.start()
    pc.stop()
    assert runs == 3
    assert most == 1


def test_exceptions_are_logged_and_the_callback_keeps_running(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    runs = 0

    def tick() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            io_loop.stop()
        raise ValueError(f"failure {runs}")

    async def async_tick() -> None:
        raise ValueError("async failure")

    pc = PeriodicCallback(tick, PERIOD_MS)
    apc = PeriodicCallback(async_tick, PERIOD_MS / 2)
    pc.start()
    apc.start()
    io_loop.call_later(10, io_loop.stop)
    with caplog.at_level(logging.ERROR, logger="squall.application"):
        io_loop.start()
    pc.stop()
    apc.stop()
    messages = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert {"failure 1", "failure 2", "failure 3"} <= set(messages)
    assert "async failure" in messages
    assert all(r.name == "squall.application" for r in caplog.records)


def test_timedelta_period_and_stop_before_the_first_run(io_loop: IOLoop) -> None:
    calls: list[int] = []
    pc = PeriodicCallback(lambda: calls.append(1), datetime.timedelta(milliseconds=10))
    assert pc.callback_time == 10
    pc.start()
    pc.start()  # already running: no second schedule
    pc.stop()
    io_loop.call_later(0.05, io_loop.stop)
    io_loop.start()
    assert calls == []


@pytest.mark.parametrize("bad", [0, -5, datetime.timedelta(0)])
def test_period_must_be_positive(bad: float | datetime.timedelta) -> None:
    with pytest.raises(ValueError, match="callback_time must be positive"):
        PeriodicCallback(lambda: None, bad)


@pytest.mark.parametrize(
    ("scheduled", "now", "expected"),
    [
        (10.0, 9.5, 11.0),  # early: the next slot
        (10.0, 10.0, 11.0),  # on time
        (10.0, 10.2, 11.0),  # slightly late
        (10.0, 13.5, 14.0),  # three runs missed: skipped, not bunched
        (10.0, 14.0, 15.0),  # exactly on a slot that is already now: the one after
    ],
)
def test_next_run_time_skips_to_the_next_multiple(
    scheduled: float, now: float, expected: float
) -> None:
    assert next_run_time(scheduled, now, 1.0) == pytest.approx(expected)


def test_jitter_keeps_each_period_within_half_the_jitter() -> None:
    random.seed(1234)
    values = [next_run_time(0.0, 0.0, 1.0, jitter=0.2) for _ in range(200)]
    assert all(0.9 <= v <= 1.1 for v in values)
    assert len(set(values)) > 1
