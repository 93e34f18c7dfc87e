"""ConnectionTimer on its own: a real event loop and an owner that only records what it is told.

The timer talks to its connection through ``TimerOwner`` alone, so it can be driven
without a socket. Deadlines are placed in the past or far in the future and ``fire`` is
called directly: nothing here waits on the clock.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterator

import pytest

from squall.http import HTTPLimits
from squall.http._timeouts import BODY, HEAD, IDLE, UNTIMED, ConnectionTimer


class _Owner:
    """A TimerOwner in a fixed state that records the timeouts it is told about."""

    def __init__(self, timer: ConnectionTimer, state: int) -> None:
        self.timer = timer
        self.state = state
        self._write_paused = False
        self.told: list[str] = []

    def _timer_state(self) -> int:
        return self.state

    def _timed_out(self, kind: str) -> None:
        self.told.append(kind)

    def _timer_fired(self) -> None:
        self.timer.fire(self)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


def _owner(loop: asyncio.AbstractEventLoop, state: int, **limits: float | None) -> _Owner:
    return _Owner(ConnectionTimer(loop, HTTPLimits(**limits)), state)  # type: ignore[arg-type]


def test_a_head_past_its_deadline_is_reported_as_a_header_timeout(
    loop: asyncio.AbstractEventLoop,
) -> None:
    owner = _owner(loop, HEAD, header_timeout=5.0)
    owner.timer.head_start = loop.time() - 6.0
    owner.timer.fire(owner)
    assert owner.told == ["header"]


def test_a_head_within_its_deadline_re_arms_instead_of_reporting(
    loop: asyncio.AbstractEventLoop,
) -> None:
    owner = _owner(loop, HEAD, header_timeout=5.0)
    owner.timer.head_start = loop.time() - 1.0
    owner.timer.fire(owner)
    assert owner.told == []
    assert len(loop._scheduled) == 1  # type: ignore[attr-defined]


def test_the_lower_idle_timeout_bounds_a_head(loop: asyncio.AbstractEventLoop) -> None:
    owner = _owner(loop, HEAD, header_timeout=30.0, idle_connection_timeout=2.0)
    owner.timer.head_start = loop.time() - 3.0
    owner.timer.fire(owner)
    assert owner.told == ["header"]


def test_an_idle_connection_past_its_timeout_is_reported_idle(
    loop: asyncio.AbstractEventLoop,
) -> None:
    owner = _owner(loop, IDLE, idle_connection_timeout=10.0)
    owner.timer.idle_since = loop.time() - 11.0
    owner.timer.fire(owner)
    assert owner.told == ["idle"]


def test_a_body_without_progress_is_reported_as_a_body_timeout(
    loop: asyncio.AbstractEventLoop,
) -> None:
    owner = _owner(loop, BODY, body_timeout=5.0, body_min_rate=None)
    owner.timer.body_begun()
    owner.timer.body_progress -= 6.0
    owner.timer.fire(owner)
    assert owner.told == ["body"]


def test_a_body_slower_than_the_minimum_rate_is_reported_with_the_rate(
    loop: asyncio.AbstractEventLoop,
) -> None:
    owner = _owner(loop, BODY, body_timeout=None, body_min_rate=100.0, body_min_rate_grace=1.0)
    owner.timer.body_begun()
    owner.timer.body_start -= 10.0  # ten seconds in, not a byte
    owner.timer.fire(owner)
    assert owner.told == ["body (slower than 100 bytes/s)"]


def test_a_request_the_application_holds_is_never_timed_out(
    loop: asyncio.AbstractEventLoop,
) -> None:
    owner = _owner(loop, UNTIMED, header_timeout=1.0, idle_connection_timeout=1.0)
    owner.timer.idle_since = owner.timer.head_start = loop.time() - 100.0
    owner.timer.fire(owner)
    assert owner.told == []
    assert len(loop._scheduled) == 0  # type: ignore[attr-defined]


def test_a_client_not_reading_its_responses_is_not_timed_out(
    loop: asyncio.AbstractEventLoop,
) -> None:
    owner = _owner(loop, IDLE, idle_connection_timeout=10.0)
    owner._write_paused = True
    owner.timer.idle_since = loop.time() - 11.0
    owner.timer.fire(owner)
    assert owner.told == []
    assert len(loop._scheduled) == 1  # type: ignore[attr-defined]


def test_an_earlier_deadline_replaces_a_later_one_and_a_later_one_is_ignored(
    loop: asyncio.AbstractEventLoop,
) -> None:
    owner = _owner(loop, IDLE)
    now = loop.time()
    owner.timer.arm(owner, now + 100.0)
    owner.timer.arm(owner, now + 200.0)
    owner.timer.arm(owner, now + 50.0)
    live = [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
    assert [h.when() for h in live] == [now + 50.0]


def test_the_timer_keeps_no_reference_to_its_owner_once_cancelled(
    loop: asyncio.AbstractEventLoop, no_cycle_collector: None
) -> None:
    timer = ConnectionTimer(loop, HTTPLimits())
    owner = _Owner(timer, IDLE)
    timer.idle(owner)  # armed: the handle holds the owner until cancelled
    ref = weakref.ref(owner)
    timer.cancel()
    del owner
    assert ref() is None
