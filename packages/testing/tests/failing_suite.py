"""Tests that must fail, to show the runners report failures of squall.testing tests."""

from __future__ import annotations

import asyncio

from squall.testing import AsyncTestCase, ExpectLog, gen_test


class FailsOnPurpose(AsyncTestCase):
    @gen_test(timeout=0.2)
    async def test_times_out(self) -> None:
        await asyncio.sleep(5)

    def test_expected_log_never_comes(self) -> None:
        with ExpectLog("squall.general", "never logged"):
            pass

    async def test_undecorated_coroutine(self) -> None:
        pass

    def test_wait_times_out(self) -> None:
        self.wait(timeout=0.2)
