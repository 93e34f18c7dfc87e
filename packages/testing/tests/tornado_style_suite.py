"""A unittest suite written as Tornado's tornado.testing docs teach, imports renamed.

Not collected by pytest on its own (its name does not start with ``test_``): the tests in
``test_runners.py`` run it under ``python -m unittest`` and under pytest, in subprocesses.
"""

from __future__ import annotations

import logging
import unittest

import squall.web
from squall.httpclient import AsyncHTTPClient
from squall.loop import gen
from squall.testing import AsyncHTTPTestCase, AsyncTestCase, ExpectLog, gen_test


class MainHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class BrokenHandler(squall.web.RequestHandler):
    def get(self) -> None:
        raise RuntimeError("boom")


def make_app() -> squall.web.Application:
    return squall.web.Application([(r"/", MainHandler), (r"/broken", BrokenHandler)])


class TestHelloApp(AsyncHTTPTestCase):
    def get_app(self) -> squall.web.Application:
        return make_app()

    def test_homepage(self) -> None:
        response = self.fetch("/")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Hello, world")

    def test_uncaught_exception_is_logged(self) -> None:
        with ExpectLog("squall.application", "Uncaught exception"):
            response = self.fetch("/broken")
        self.assertEqual(response.code, 500)

    @gen_test
    def test_http_fetch_generator_style(self):  # type: ignore[no-untyped-def]
        client = AsyncHTTPClient()
        response = yield client.fetch(self.get_url("/"))
        self.assertIn(b"Hello", response.body)

    @gen_test(timeout=10)
    async def test_http_fetch_coroutine_style(self) -> None:
        response = await self.http_client.fetch(self.get_url("/"))
        self.assertEqual(response.body, b"Hello, world")


class MyTestCase2(AsyncTestCase):
    def test_stop_and_wait(self) -> None:
        self.io_loop.call_later(0.01, self.stop, "done")
        self.assertEqual(self.wait(), "done")

    @gen_test
    def test_gen_sleep(self):  # type: ignore[no-untyped-def]
        yield gen.sleep(0.01)
        logging.getLogger("squall.general").info("slept")


if __name__ == "__main__":
    unittest.main()
