"""Fixtures of squall.loop's tests: one IOLoop per test, over each loop implementation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from squall.loop import IOLoop


@pytest.fixture(params=[False, True], ids=["asyncio", "uvloop"])
def io_loop(request: pytest.FixtureRequest) -> Iterator[IOLoop]:
    """A fresh current IOLoop (plain asyncio, then uvloop), closed after the test."""
    loop = IOLoop(use_uvloop=request.param)
    try:
        yield loop
    finally:
        loop.close(all_fds=True)
        IOLoop.clear_current()
