"""squall.testing.pytest_plugin: suites written for pytest-tornado / pytest-tornasync.

Each test writes a small suite in the style of those plugins' users, runs it in-process with
pytester and the plugin loaded by ``-p``, and checks the outcome of every test in it.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_PLUGIN = ("-p", "squall.testing.pytest_plugin", "-p", "no:cacheprovider")

_APP = """
import pytest
import squall.web


class Hello(squall.web.RequestHandler):
    def get(self):
        self.write("Hello, " + self.get_argument("name", "world"))


@pytest.fixture
def app():
    return squall.web.Application([(r"/", Hello)])
"""


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=source)
    return pytester.runpytest_inprocess(*_PLUGIN, *args)


def test_generator_tests_marked_gen_test_run_on_the_io_loop(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        _APP
        + """
from squall.loop import IOLoop, gen


@pytest.mark.gen_test
def test_yields_a_future(io_loop):
    assert IOLoop.current() is io_loop
    yield gen.sleep(0)
    value = yield gen.maybe_future(41)
    assert value + 1 == 42


@pytest.mark.gen_test
def test_fails_after_a_yield(io_loop):
    yield gen.sleep(0)
    assert 1 == 2
""",
    )
    result.assert_outcomes(passed=1, failed=1)


def test_gen_test_from_the_module_pytestmark_or_the_class(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
import pytest
from squall.loop import gen

pytestmark = pytest.mark.gen_test


def test_module_marked():
    yield gen.sleep(0)


class TestClass:
    def test_class_method(self, io_loop):
        yield gen.sleep(0)
""",
    )
    result.assert_outcomes(passed=2)


def test_async_def_tests_run_with_or_without_the_marker(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
import asyncio
import pytest


async def test_unmarked_needs_no_io_loop_argument():
    await asyncio.sleep(0)


@pytest.mark.gen_test
async def test_marked(io_loop):
    await asyncio.sleep(0)


async def test_unmarked_failure():
    await asyncio.sleep(0)
    raise RuntimeError("boom")
""",
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*RuntimeError: boom*"])


def test_the_app_fixture_is_served_to_http_client_at_base_url(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        _APP
        + """

@pytest.mark.gen_test
def test_generator_fetch(http_client, base_url):
    response = yield http_client.fetch(base_url + "/?name=squall")
    assert response.body == b"Hello, squall"


async def test_native_fetch(http_client, base_url, http_port):
    assert base_url == "http://localhost:%d" % http_port
    response = await http_client.fetch(base_url)
    assert response.code == 200


async def test_tornasync_server_client(http_server_client, http_server_port):
    response = await http_server_client.fetch("/?name=path")
    assert response.body == b"Hello, path"
    assert http_server_client.get_url("/") == "http://127.0.0.1:%d/" % http_server_port[1]
""",
    )
    result.assert_outcomes(passed=3)


def test_the_app_fixture_name_is_an_option(pytester: pytest.Pytester) -> None:
    source = _APP.replace("def app():", "def my_app():") + (
        """

async def test_fetch(http_client, base_url):
    assert (await http_client.fetch(base_url)).body == b"Hello, world"
"""
    )
    result = _run(pytester, source, "--app-fixture=my_app")
    result.assert_outcomes(passed=1)


def test_https_fixtures_serve_with_the_suites_ssl_options(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        _APP
        + """
from squall.testing import AsyncHTTPSTestCase


@pytest.fixture
def ssl_options():
    return AsyncHTTPSTestCase.default_ssl_options()


@pytest.mark.gen_test
def test_secure(https_client, base_url):
    assert base_url.startswith("https://localhost:")
    response = yield https_client.fetch(base_url)
    assert response.body == b"Hello, world"
""",
    )
    result.assert_outcomes(passed=1)


def test_a_test_past_its_time_limit_fails_with_timeout_error(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
import asyncio
import pytest
import squall.loop


@pytest.mark.xfail(strict=True, raises=squall.loop.TimeoutError)
@pytest.mark.gen_test(timeout=0.05)
def test_gen_test_timeout(io_loop):
    yield asyncio.sleep(5)


@pytest.mark.gen_test
async def test_option_timeout(io_loop):
    await asyncio.sleep(5)
""",
        "--async-test-timeout=0.05",
    )
    result.assert_outcomes(xfailed=1, failed=1)
    result.stdout.fnmatch_lines(["*TimeoutError*"])


def test_an_io_loop_fixture_of_another_kind_is_refused(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
import asyncio
import pytest


@pytest.fixture
def io_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


async def test_uses_it(io_loop):
    pass
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*TypeError: the io_loop fixture must return a squall.loop.IOLoop, not *EventLoop*"]
    )


def test_without_the_plugin_nothing_is_registered(pytester: pytest.Pytester) -> None:
    # Opt-in: fixture names this common must not appear in every suite that has
    # squall-testing installed.
    pytester.makepyfile(
        test_suite="""
def test_needs_io_loop(io_loop):
    pass
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'io_loop' not found*"])
