"""Option: any text either parses or raises OptionValueError (never anything else), so the
real command line can never end in a traceback."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squall.options import OptionParser, OptionValueError

TYPES: list[Any] = [str, int, float, bool, datetime.datetime, datetime.timedelta, dict]


@pytest.mark.parametrize("multiple", [False, True])
@pytest.mark.parametrize("type_", TYPES, ids=lambda t: t.__name__)
@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_parses_or_raises_option_value_error(
    type_: Any, multiple: bool, text: str
) -> None:
    parser = OptionParser(env_prefix=None)
    parser.define("x", type=type_, multiple=multiple)
    try:
        parser.parse_command_line(["p", f"--x={text}"], final=False)
    except OptionValueError as exc:
        assert str(exc).startswith("option --x: invalid ")
        assert "\n" not in str(exc)  # one line: the value is shown with repr()
    else:
        value = parser.x
        if multiple:
            assert isinstance(value, list)
        elif type_ is float:
            assert isinstance(value, float)
        else:
            assert isinstance(value, type_)


@given(
    parts=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(["s", "m", "h", "d", "w", "ms"])),
        min_size=1,
        max_size=4,
    )
)
def test_timedelta_terms_add_up(parts: list[tuple[int, str]]) -> None:
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    units["ms"] = "milliseconds"
    parser = OptionParser(env_prefix=None)
    parser.define("t", type=datetime.timedelta)
    text = " ".join(f"{n}{u}" for n, u in parts)
    parser.parse_command_line(["p", f"--t={text}"], final=False)
    expected = sum((datetime.timedelta(**{units[u]: n}) for n, u in parts), datetime.timedelta())
    assert parser.t == expected


def test_a_string_assigned_in_code_to_a_typed_option_is_refused_naming_it() -> None:
    # As Tornado's options: code assigns values of the option's type; only text that
    # arrives as text (command line, environment, config file) is parsed.
    parser = OptionParser()
    parser.define("port", default=8000, type=int)
    parser.define("names", default=[], type=str, multiple=True)
    refused = r"option --port: invalid int value: '80' \(a str assigned in code"
    with pytest.raises(OptionValueError, match=refused):
        parser.port = "80"
    assert parser.port == 8000
    parser.port = 81
    parser.names = "a,b"  # a str option: text is its type
    assert (parser.port, parser.names) == (81, ["a", "b"])
