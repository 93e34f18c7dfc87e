"""pytest plugin of squall-options (entry point ``pytest11``): the ``squall_options`` fixture.

A test that uses it may define options on the global ``options``, set values, add parse
callbacks and parse command lines or config files; everything is restored when the test
ends, so no value leaks into the next test::

    def test_port(squall_options):
        squall_options.port = 1            # or: squall_options.parse_command_line([...])
        assert squall_options.port == 1

Logging handlers that a parse in the test installed are removed (and closed) afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from squall.options._globals import options
from squall.options._logging import remove_handlers
from squall.options._parser import OptionParser


@pytest.fixture
def squall_options() -> Iterator[OptionParser]:
    """The global ``options``, restored (values, definitions, callbacks) after the test."""
    root = logging.getLogger()
    level = root.level
    with options.override():
        try:
            yield options
        finally:
            remove_handlers(root)
            root.setLevel(level)
