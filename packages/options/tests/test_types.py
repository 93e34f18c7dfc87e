"""Text → value for every supported type, and the checks on Python values."""

from __future__ import annotations

import datetime

import pytest

from squall.options._types import (
    check_value,
    parse_bool,
    parse_datetime,
    parse_dict,
    parse_int_range,
    parse_text,
    parse_timedelta,
    type_name,
)

td = datetime.timedelta
dt = datetime.datetime


@pytest.mark.parametrize("text", ["true", "True", "1", "yes", "on", "Y", " t "])
def test_bool_true_spellings(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["false", "FALSE", "0", "no", "off", "n", "f"])
def test_bool_false_spellings(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["ture", "", "2", "maybe"])
def test_bool_rejects_other_words(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bool(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", dt(2024, 5, 1)),
        ("2024-05-01T12:30", dt(2024, 5, 1, 12, 30)),
        ("2024-05-01 12:30:15", dt(2024, 5, 1, 12, 30, 15)),
        ("2024-05-01T12:30:15.250", dt(2024, 5, 1, 12, 30, 15, 250000)),
        (
            "2024-05-01T12:30:15+02:00",
            dt(2024, 5, 1, 12, 30, 15, tzinfo=datetime.timezone(td(hours=2))),
        ),
        ("2024-05-01T12:30:15Z", dt(2024, 5, 1, 12, 30, 15, tzinfo=datetime.UTC)),
        ("20240501", dt(2024, 5, 1)),
        ("20240501 12:30", dt(2024, 5, 1, 12, 30)),
        ("Wed May 01 12:30:00 2024", dt(2024, 5, 1, 12, 30)),
        ("12:30", dt(1900, 1, 1, 12, 30)),
    ],
)
def test_datetime_common_forms(text: str, expected: dt) -> None:
    assert parse_datetime(text) == expected


def test_datetime_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_datetime("yesterday")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", td(seconds=90)),
        ("1h30m", td(hours=1, minutes=30)),
        ("2 days", td(days=2)),
        ("45", td(seconds=45)),
        ("1.5h", td(hours=1.5)),
        ("5 minutes", td(minutes=5)),
        ("1w", td(weeks=1)),
        ("2d 3h", td(days=2, hours=3)),
        ("1 hour, 2 minutes", td(hours=1, minutes=2)),
        ("10ms", td(milliseconds=10)),
        ("7us", td(microseconds=7)),
        ("3 sec", td(seconds=3)),
        ("-5m", td(minutes=-5)),
        ("1e3", td(seconds=1000)),
        ("1:30:00", td(hours=1, minutes=30)),
        ("2 days, 3:04:05", td(days=2, hours=3, minutes=4, seconds=5)),
        (str(td(days=1, seconds=5)), td(days=1, seconds=5)),
    ],
)
def test_timedelta_forms(text: str, expected: td) -> None:
    assert parse_timedelta(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "5 parsecs", "1h junk", "h"])
def test_timedelta_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timedelta(text)


def test_dict_from_json_and_pairs() -> None:
    assert parse_dict('{"a": 1, "b": [2]}') == {"a": 1, "b": [2]}
    assert parse_dict("a=1, b = x") == {"a": "1", "b": "x"}
    assert parse_dict("") == {}
    for bad in ("{oops", "a", "=1"):
        with pytest.raises(ValueError):
            parse_dict(bad)


def test_int_ranges() -> None:
    assert parse_int_range("1:3") == [1, 2, 3]
    assert parse_int_range("5") == [5]
    assert parse_int_range("-1:1") == [-1, 0, 1]
    with pytest.raises(ValueError):
        parse_int_range("3:1")
    with pytest.raises(ValueError):
        parse_int_range("a:3")
    with pytest.raises(ValueError, match="longer than"):
        parse_int_range("1:10000000000")
    assert len(parse_int_range("1:1000000")) == 1_000_000


def test_parse_text_for_builtin_and_user_types() -> None:
    assert parse_text(int, " 42 ") == 42
    assert parse_text(float, "2.5") == 2.5
    assert parse_text(str, " as is ") == " as is "

    class Upper:
        def __init__(self, text: str) -> None:
            if not text:
                raise TypeError("empty")
            self.text = text.upper()

    assert parse_text(Upper, "x").text == "X"
    with pytest.raises(ValueError, match="empty"):
        parse_text(Upper, "")


def test_check_value_widens_and_refuses() -> None:
    assert check_value(float, 3) == 3.0
    assert check_value(td, 90) == td(seconds=90)
    assert check_value(int, 5) == 5
    with pytest.raises(ValueError):
        check_value(int, True)
    with pytest.raises(ValueError):
        check_value(int, "5")
    assert check_value(dt, datetime.date(2024, 1, 2)) == dt(2024, 1, 2)
    with pytest.raises(ValueError):
        check_value(dt, datetime.time(1, 2))


def test_type_names() -> None:
    assert [type_name(t) for t in (int, str, dt, td, dict)] == [
        "int",
        "str",
        "datetime",
        "timedelta",
        "dict",
    ]
