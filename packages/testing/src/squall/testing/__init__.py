"""squall.testing: unittest support for squall apps (Tornado's ``tornado.testing``).

A unittest suite written for a Tornado app runs once its imports are renamed, under
``python -m unittest`` and under pytest::

    from squall.testing import AsyncHTTPTestCase, gen_test

    class TestHello(AsyncHTTPTestCase):
        def get_app(self):
            return make_app()

        def test_homepage(self):
            self.assertEqual(self.fetch("/").body, b"Hello, world")

        @gen_test
        async def test_with_the_client(self):
            response = await self.http_client.fetch(self.get_url("/"))
            self.assertEqual(response.code, 200)
"""

from __future__ import annotations

# Tornado's tornado.testing lets its AsyncHTTPClient through, and test suites import it
# from there ("from tornado.testing import AsyncHTTPTestCase, AsyncHTTPClient").
from squall.httpclient import AsyncHTTPClient
from squall.loop import bind_unused_port
from squall.testing._case import AsyncTestCase
from squall.testing._decorator import gen_test
from squall.testing._expect_log import ExpectLog, MissingLogError
from squall.testing._http_case import AsyncHTTPSTestCase, AsyncHTTPTestCase
from squall.testing._main import main
from squall.testing._setup import setup_with_context_manager
from squall.testing._timeout import get_async_test_timeout
from squall.testing._version import __version__

__all__ = [
    "AsyncHTTPClient",
    "AsyncHTTPSTestCase",
    "AsyncHTTPTestCase",
    "AsyncTestCase",
    "ExpectLog",
    "MissingLogError",
    "__version__",
    "bind_unused_port",
    "gen_test",
    "get_async_test_timeout",
    "main",
    "setup_with_context_manager",
]
