"""``AsyncTestCase``: a ``unittest.TestCase`` with a fresh IOLoop for every test.

Theory of operation: ``setUp`` makes a new IOLoop and makes it the thread's current loop
(and asyncio's event loop), so code under test that asks for ``IOLoop.current()`` or
``asyncio.get_event_loop()`` outside a running loop finds it. ``tearDown`` cancels the
tasks a test left behind, lets them unwind, and closes the loop (and every fd still
registered with it). Tests run the loop through ``@gen_test``, ``io_loop.run_sync`` or
the legacy ``stop()`` / ``wait()`` pair.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import unittest
from collections.abc import Callable, Coroutine, Generator
from types import TracebackType
from typing import Any

from squall.loop import IOLoop
from squall.testing._timeout import get_async_test_timeout

__all__ = ["AsyncTestCase"]

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class AsyncTestCase(unittest.TestCase):
    """A ``TestCase`` for IOLoop- and asyncio-based code (Tornado's ``AsyncTestCase``)::

        class MyTest(AsyncTestCase):
            @gen_test
            async def test_sleep(self):
                await asyncio.sleep(0.01)

    ``self.io_loop`` is a new ``squall.loop.IOLoop`` for each test. Test methods that are
    coroutines or generators must be decorated with :func:`gen_test` (a ``TypeError``
    says so otherwise: undecorated, they would pass without running).
    """

    io_loop: IOLoop

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        self.__stopped = False
        self.__running = False
        self.__failure: _ExcInfo | None = None
        self.__stop_args: Any = None
        self.__timeout: Any = None
        # The test's generator or coroutine while @gen_test runs it (for timeouts).
        self._test_generator: Generator[Any, Any, Any] | Coroutine[Any, Any, Any] | None = None

    def setUp(self) -> None:
        """Make ``self.io_loop`` and make it the current loop."""
        super().setUp()
        self.io_loop = self.get_new_ioloop()
        self.io_loop.make_current()

    def tearDown(self) -> None:
        """Cancel what the test left running, close ``self.io_loop``, re-raise a failure."""
        loop = self.io_loop.asyncio_loop
        if not loop.is_closed():
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in tasks:
                task.cancel()
            if tasks:
                done, _ = self.io_loop.run_sync(lambda: asyncio.wait(tasks))
                for task in done:
                    # A task that failed with something else than its cancellation: report it.
                    error = None if task.cancelled() else task.exception()
                    if error is not None:
                        raise error
        asyncio.set_event_loop(None)
        self.io_loop.close(all_fds=True)
        super().tearDown()
        self.__rethrow()

    def get_new_ioloop(self) -> IOLoop:
        """The IOLoop of one test: a new one (override to share one, as Tornado allows)."""
        return IOLoop(make_current=False)

    def __rethrow(self) -> None:
        if self.__failure is not None:
            failure, self.__failure = self.__failure, None
            raise failure[1].with_traceback(failure[2])

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        """Run the test; a failure stored by ``wait``'s timeout and never raised is raised."""
        ret = super().run(result)
        self.__rethrow()
        return ret

    def _callTestMethod(self, method: Callable[[], Any]) -> None:  # noqa: N802 - unittest's
        result = method()
        if isinstance(result, Generator) or inspect.iscoroutine(result):
            if inspect.iscoroutine(result):
                result.close()  # never awaited: no "coroutine was never awaited" warning
            raise TypeError(
                "Generator and coroutine test methods should be decorated with "
                "squall.testing.gen_test"
            )
        if result is not None:
            raise ValueError(f"Return value from test method ignored: {result!r}")

    # -- the legacy stop/wait style ------------------------------------------------------

    def stop(self, _arg: Any = None, **kwargs: Any) -> None:
        """Stop the loop run by :meth:`wait`, which then returns ``_arg`` (or ``kwargs``).

        Tornado's older style; prefer :func:`gen_test`.
        """
        assert _arg is None or not kwargs
        self.__stop_args = kwargs or _arg
        if self.__running:
            self.io_loop.stop()
            self.__running = False
        self.__stopped = True

    def wait(
        self, condition: Callable[[], bool] | None = None, timeout: float | None = None
    ) -> Any:
        """Run the loop until :meth:`stop` is called; return what was passed to it.

        Args:
            condition: if given, the loop runs again after each ``stop()`` until it is true.
            timeout: seconds (default :func:`get_async_test_timeout`); when they pass the
                test fails with ``Async operation timed out after N seconds``.
        """
        if timeout is None:
            timeout = get_async_test_timeout()
        if not self.__stopped:
            if timeout:

                def on_timeout() -> None:
                    try:
                        raise self.failureException(
                            f"Async operation timed out after {timeout} seconds"
                        )
                    except Exception:
                        info = sys.exc_info()
                        assert info[0] is not None and info[1] is not None
                        self.__failure = (info[0], info[1], info[2])
                    self.stop()

                self.__timeout = self.io_loop.call_later(timeout, on_timeout)
            while True:
                self.__running = True
                self.io_loop.start()
                if self.__failure is not None or condition is None or condition():
                    break
            if self.__timeout is not None:
                self.io_loop.remove_timeout(self.__timeout)
                self.__timeout = None
        assert self.__stopped
        self.__stopped = False
        self.__rethrow()
        result, self.__stop_args = self.__stop_args, None
        return result
