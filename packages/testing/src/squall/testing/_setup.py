"""``setup_with_context_manager``: enter a context manager in ``setUp``, exit it at cleanup."""

from __future__ import annotations

import unittest
from contextlib import AbstractContextManager
from typing import TypeVar

__all__ = ["setup_with_context_manager"]

_T = TypeVar("_T")


def setup_with_context_manager(testcase: unittest.TestCase, cm: AbstractContextManager[_T]) -> _T:
    """Enter ``cm`` now and exit it when the test is cleaned up (Tornado's helper)::

        def setUp(self):
            setup_with_context_manager(self, warnings.catch_warnings())
            warnings.filterwarnings("ignore", category=DeprecationWarning)

    Returns:
        what ``cm.__enter__()`` returned.
    """
    value = cm.__enter__()
    testcase.addCleanup(cm.__exit__, None, None, None)
    return value
