"""``gen_test``: run a coroutine (or generator) test method on the test's IOLoop."""

from __future__ import annotations

import asyncio
import functools
import inspect
import linecache
from collections.abc import Callable, Coroutine, Generator
from typing import Any, overload

from squall.loop import gen
from squall.testing._timeout import get_async_test_timeout

__all__ = ["gen_test"]


def _waiting_at(test: object) -> str:
    """`` (the test was waiting at FILE:LINE: CODE)`` for a suspended test, else ``""``."""
    frame = getattr(test, "gi_frame", None) or getattr(test, "cr_frame", None)
    if frame is None:
        return ""
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f" (the test was waiting at {frame.f_code.co_filename}:{frame.f_lineno}: {code})"


_TestMethod = Callable[..., Generator[Any, Any, Any] | Coroutine[Any, Any, Any]]


@overload
def gen_test(*, timeout: float | None = None) -> Callable[[_TestMethod], Callable[..., Any]]: ...


@overload
def gen_test(func: _TestMethod) -> Callable[..., Any]: ...


def gen_test(
    func: _TestMethod | None = None, timeout: float | None = None
) -> Callable[..., Any] | Callable[[_TestMethod], Callable[..., Any]]:
    """Run an ``async def`` (or generator) test method of an ``AsyncTestCase`` to its end::

        class MyTest(AsyncHTTPTestCase):
            @gen_test
            async def test_page(self):
                response = await self.http_client.fetch(self.get_url("/"))

            @gen_test(timeout=10)
            def test_old_style(self):
                response = yield self.http_client.fetch(self.get_url("/"))

    Args:
        timeout: seconds (default :func:`get_async_test_timeout`, read when decorating);
            past it the test is cancelled and fails with ``TimeoutError``, whose message
            names the line where the test was waiting.

    The decorated method returns what the coroutine returned, as Tornado's does: suites
    decorate helpers with it too (``result = self._request(...)`` from a plain test).
    """
    limit = get_async_test_timeout() if timeout is None else timeout

    def wrap(f: _TestMethod) -> Callable[..., Any]:
        @functools.wraps(f)
        def started(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = f(self, *args, **kwargs)
            is_gen = isinstance(result, Generator) or inspect.iscoroutine(result)
            self._test_generator = result if is_gen else None
            return result

        runner: Callable[..., Any] = (
            started if inspect.iscoroutinefunction(f) else gen.coroutine(started)
        )

        @functools.wraps(f)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            async def bounded() -> Any:
                task = asyncio.ensure_future(runner(self, *args, **kwargs))
                done, _ = await asyncio.wait({task}, timeout=limit)
                if task in done:
                    return task.result()
                # Where the test is stuck, read before the cancellation unwinds it.
                where = _waiting_at(self._test_generator)
                task.cancel()
                await asyncio.wait({task})
                raise TimeoutError(f"Operation timed out after {limit} seconds{where}")

            try:
                return self.io_loop.run_sync(bounded)
            finally:
                self._test_generator = None

        return run

    if func is not None:
        return wrap(func)
    return wrap


# Without this, test collectors that look at module attributes would take it for a test.
gen_test.__test__ = False  # type: ignore[attr-defined]
