"""Setting options in tests without leaking: override(), mockable(), the pytest fixture."""

from __future__ import annotations

from unittest import mock

import pytest

import squall.options
from squall.options import OptionParser, OptionValueError


def test_override_sets_and_restores_values_and_sources() -> None:
    parser = OptionParser(env_prefix=None)
    parser.define("port", default=1)
    parser.parse_command_line(["p", "--port=2"])
    with parser.override(port=3) as inside:
        assert inside is parser
        assert parser.port == 3
    assert parser.port == 2
    assert parser.source_of("port") == "command line"


def test_override_restores_definitions_and_callbacks_and_on_error() -> None:
    parser = OptionParser(env_prefix=None)
    parser.define("port", default=1)
    with pytest.raises(RuntimeError), parser.override():
        parser.define("extra", default="x")
        parser.add_parse_callback(lambda: None)
        parser.port = 5
        raise RuntimeError
    assert "extra" not in parser
    assert parser.port == 1
    assert parser._parse_callbacks == []


def test_override_checks_types() -> None:
    parser = OptionParser(env_prefix=None)
    parser.define("port", default=1)
    with pytest.raises(OptionValueError), parser.override(port="x"):
        pass  # pragma: no cover - the override itself fails
    assert parser.port == 1


def test_mockable_works_with_mock_patch_object() -> None:
    parser = OptionParser(env_prefix=None)
    parser.define("port", default=1)
    with mock.patch.object(parser.mockable(), "port", 7):
        assert parser.port == 7
    assert parser.port == 1
    assert parser.source_of("port") == "default"


def test_fixture_defines_and_sets_on_the_global_options(
    squall_options: squall.options.OptionParser,
) -> None:
    assert squall_options is squall.options.options
    squall.options.define("only_in_this_test", default=1)
    squall_options.logging = "debug"
    assert squall.options.options.logging == "debug"


def test_fixture_left_nothing_behind() -> None:
    # Runs after the test above (pytest keeps file order): nothing leaked.
    assert "only_in_this_test" not in squall.options.options
    assert squall.options.options.logging == "info"
