"""AsyncTestCase, AsyncHTTPTestCase, AsyncHTTPSTestCase and gen_test, run by unittest here."""

from __future__ import annotations

import asyncio
import logging
import unittest
from typing import Any

import pytest

import squall.web
from squall.httpclient import HTTPClientError
from squall.loop import IOLoop, gen
from squall.testing import (
    AsyncHTTPSTestCase,
    AsyncHTTPTestCase,
    AsyncTestCase,
    gen_test,
    get_async_test_timeout,
    setup_with_context_manager,
)


def run_case(case: type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    return result


def assert_passed(result: unittest.TestResult) -> None:
    problems = [text for _, text in result.failures + result.errors]
    assert not problems, "\n".join(problems)
    assert result.testsRun > 0


# -- AsyncTestCase -------------------------------------------------------------------------


def test_each_test_gets_a_fresh_current_ioloop_closed_after() -> None:
    loops: list[IOLoop] = []

    class Case(AsyncTestCase):
        def test_a(self) -> None:
            assert IOLoop.current() is self.io_loop
            assert asyncio.get_event_loop() is self.io_loop.asyncio_loop
            loops.append(self.io_loop)

        def test_b(self) -> None:
            loops.append(self.io_loop)

    assert_passed(run_case(Case))
    assert len(loops) == 2 and loops[0] is not loops[1]
    assert all(loop.asyncio_loop.is_closed() for loop in loops)


def test_stop_and_wait_pass_values_and_condition_reruns_the_loop() -> None:
    class Case(AsyncTestCase):
        def test_value(self) -> None:
            self.io_loop.add_callback(self.stop, 42)
            self.assertEqual(self.wait(), 42)
            self.io_loop.add_callback(lambda: self.stop(a=1, b=2))
            self.assertEqual(self.wait(), {"a": 1, "b": 2})

        def test_condition(self) -> None:
            count = [0]

            def tick() -> None:
                count[0] += 1
                self.stop()
                if count[0] < 3:
                    self.io_loop.add_callback(tick)

            self.io_loop.add_callback(tick)
            self.wait(condition=lambda: count[0] >= 3)
            self.assertEqual(count[0], 3)

        def test_stop_before_wait(self) -> None:
            self.stop("early")
            self.assertEqual(self.wait(), "early")

    assert_passed(run_case(Case))


def test_wait_times_out_as_a_failure() -> None:
    class Case(AsyncTestCase):
        def test_stuck(self) -> None:
            self.wait(timeout=0.05)

    result = run_case(Case)
    assert len(result.failures) == 1
    assert "Async operation timed out after 0.05 seconds" in result.failures[0][1]


def test_tasks_left_running_are_cancelled_at_teardown() -> None:
    cancelled: list[bool] = []

    class Case(AsyncTestCase):
        def test_leaves_a_task(self) -> None:
            async def forever() -> None:
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    cancelled.append(True)
                    raise

            async def start() -> None:
                asyncio.ensure_future(forever())
                await asyncio.sleep(0)

            self.io_loop.run_sync(start)

    assert_passed(run_case(Case))
    assert cancelled == [True]


def test_undecorated_coroutine_test_is_an_error() -> None:
    class Case(AsyncTestCase):
        async def test_async(self) -> None:
            pass

    result = run_case(Case)
    assert len(result.errors) == 1
    assert "should be decorated with squall.testing.gen_test" in result.errors[0][1]


# -- gen_test -----------------------------------------------------------------------------


def test_gen_test_runs_coroutines_and_generators_with_arguments() -> None:
    seen: list[Any] = []

    class Case(AsyncTestCase):
        @gen_test
        async def test_coroutine(self) -> None:
            await asyncio.sleep(0)
            seen.append(("coroutine", asyncio.get_running_loop() is self.io_loop.asyncio_loop))

        @gen_test
        def test_generator(self):  # type: ignore[no-untyped-def]
            value = yield gen.sleep(0.001)
            seen.append(("generator", value))

        def test_with_arguments(self) -> None:
            @gen_test
            async def inner(self: AsyncTestCase, x: int, *, y: int) -> None:
                seen.append(("args", x, y))

            inner(self, 1, y=2)

    assert_passed(run_case(Case))
    assert sorted(seen, key=str) == sorted(
        [("coroutine", True), ("generator", None), ("args", 1, 2)], key=str
    )


def test_gen_test_returns_what_the_coroutine_or_generator_returned() -> None:
    # Suites decorate helpers too: `message = self._request({...})` from a plain test.
    seen: list[Any] = []

    class Case(AsyncTestCase):
        @gen_test()
        def _doubled(self, x: int):  # type: ignore[no-untyped-def]
            yield gen.sleep(0.001)
            return x * 2

        @gen_test
        async def _plus_one(self, x: int) -> int:
            await asyncio.sleep(0)
            return x + 1

        def test_helpers(self) -> None:
            seen.append((self._doubled(21), self._plus_one(1)))

    assert_passed(run_case(Case))
    assert seen == [(42, 2)]


def test_gen_test_failure_propagates() -> None:
    class Case(AsyncTestCase):
        @gen_test
        async def test_fails(self) -> None:
            await asyncio.sleep(0)
            self.fail("from the coroutine")

    result = run_case(Case)
    assert "from the coroutine" in result.failures[0][1]


def test_gen_test_timeout_names_the_line_where_the_test_waited() -> None:
    class Case(AsyncTestCase):
        @gen_test(timeout=0.05)
        def test_stuck(self):  # type: ignore[no-untyped-def]
            yield asyncio.sleep(3600)

        @gen_test(timeout=0.05)
        async def test_stuck_coroutine(self) -> None:
            await asyncio.sleep(3600)

    result = run_case(Case)
    assert len(result.errors) == 2
    texts = dict((test.id().rsplit(".", 1)[1], text) for test, text in result.errors)
    assert "TimeoutError: Operation timed out after 0.05 seconds" in texts["test_stuck"]
    # the message points into the test, at the line where it waited
    assert "test_cases.py" in texts["test_stuck"]
    assert ": yield asyncio.sleep(3600))" in texts["test_stuck"]
    assert ": await asyncio.sleep(3600))" in texts["test_stuck_coroutine"]


def test_async_test_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASYNC_TEST_TIMEOUT", raising=False)
    assert get_async_test_timeout() == 5
    monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "0.05")
    assert get_async_test_timeout() == 0.05

    class Case(AsyncTestCase):
        @gen_test  # decorated now: the environment's value applies
        async def test_stuck(self) -> None:
            await asyncio.sleep(3600)

    result = run_case(Case)
    assert "timed out after 0.05 seconds" in result.errors[0][1]
    monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "soon")
    assert get_async_test_timeout() == 5


# -- AsyncHTTPTestCase -----------------------------------------------------------------------


class Hello(squall.web.RequestHandler):
    def get(self) -> None:
        self.write({"remote_ip": self.request.remote_ip, "protocol": self.request.protocol})


class Missing(squall.web.RequestHandler):
    def get(self) -> None:
        raise squall.web.HTTPError(404)


def make_app() -> squall.web.Application:
    return squall.web.Application([(r"/", Hello), (r"/missing", Missing)])


def test_http_test_case_serves_the_app_and_fetches_from_it() -> None:
    ports: list[int] = []

    class Case(AsyncHTTPTestCase):
        def get_app(self) -> squall.web.Application:
            return make_app()

        def test_fetch(self) -> None:
            response = self.fetch("/")
            self.assertEqual(response.code, 200)
            self.assertEqual(self.get_protocol(), "http")
            self.assertEqual(self.get_url("/x"), f"http://127.0.0.1:{self.get_http_port()}/x")
            ports.append(self.get_http_port())

        def test_fetch_does_not_raise_by_default(self) -> None:
            self.assertEqual(self.fetch("/missing").code, 404)
            with self.assertRaises(HTTPClientError):
                self.fetch("/missing", raise_error=True)
            ports.append(self.get_http_port())

        def test_fetch_absolute_url_and_kwargs(self) -> None:
            response = self.fetch(self.get_url("/"), method="HEAD")
            self.assertEqual(response.code, 200)
            self.assertEqual(response.body, b"")

        @gen_test
        async def test_http_client_and_server(self) -> None:
            response = await self.http_client.fetch(self.get_url("/"))
            self.assertEqual(response.code, 200)
            self.assertGreater(len(self.http_server.sockets), 0)

    assert_passed(run_case(Case))
    assert len(set(ports)) == 2  # a new port for each test


def test_httpserver_options_reach_the_server() -> None:
    class Case(AsyncHTTPTestCase):
        def get_app(self) -> squall.web.Application:
            return make_app()

        def get_httpserver_options(self) -> dict[str, Any]:
            return {"xheaders": True}

        def test_xheaders(self) -> None:
            response = self.fetch("/", headers={"X-Real-IP": "10.1.2.3"})
            self.assertIn(b'"10.1.2.3"', response.body)

    assert_passed(run_case(Case))


def test_app_startup_and_shutdown_hooks_run_around_each_test() -> None:
    events: list[str] = []

    class Tracked(squall.web.Application):
        async def startup(self) -> None:
            events.append("startup")
            await super().startup()

        async def shutdown(self) -> None:
            events.append("shutdown")
            await super().shutdown()

    class Case(AsyncHTTPTestCase):
        def get_app(self) -> squall.web.Application:
            return Tracked([(r"/", Hello)])

        def test_one(self) -> None:
            events.append("test")

    assert_passed(run_case(Case))
    assert events == ["startup", "test", "shutdown"]


def test_https_test_case_serves_over_tls_with_the_shipped_certificate() -> None:
    class Case(AsyncHTTPSTestCase):
        def get_app(self) -> squall.web.Application:
            return make_app()

        def test_fetch(self) -> None:
            response = self.fetch("/")
            self.assertEqual(response.code, 200)
            self.assertIn(b'"https"', response.body)
            self.assertTrue(self.get_url("/").startswith("https://127.0.0.1:"))

    assert_passed(run_case(Case))


def test_http_test_case_leaves_no_warning_or_open_socket(
    recwarn: pytest.WarningsRecorder,
) -> None:
    class Case(AsyncHTTPTestCase):
        def get_app(self) -> squall.web.Application:
            return make_app()

        def test_fetch(self) -> None:
            self.fetch("/")

    assert_passed(run_case(Case))
    import gc

    gc.collect()
    assert [str(w.message) for w in recwarn] == []
    logging.getLogger("squall.general").debug("done")


def test_setup_with_context_manager_exits_at_cleanup() -> None:
    events: list[str] = []

    class Recorder:
        def __enter__(self) -> str:
            events.append("enter")
            return "value"

        def __exit__(self, *exc: object) -> None:
            events.append("exit")

    class Case(AsyncTestCase):
        def setUp(self) -> None:
            super().setUp()
            events.append(setup_with_context_manager(self, Recorder()))

        def test_one(self) -> None:
            events.append("test")

    assert_passed(run_case(Case))
    assert events == ["enter", "value", "test", "exit"]
