"""The default time limit of async tests (Tornado's ``ASYNC_TEST_TIMEOUT``)."""

from __future__ import annotations

import os

__all__ = ["get_async_test_timeout"]

_DEFAULT = 5.0  # Tornado's


def get_async_test_timeout() -> float:
    """Seconds an async test may take: ``ASYNC_TEST_TIMEOUT`` from the environment, else 5.

    A value that is not a number is ignored (5 applies), as in Tornado.
    """
    env = os.environ.get("ASYNC_TEST_TIMEOUT")
    if env is not None:
        try:
            return float(env)
        except ValueError:
            pass
    return _DEFAULT
