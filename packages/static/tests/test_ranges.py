"""Range and If-Range parsing (squall.static._ranges): pure, table-driven."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.static._ranges import (
    MAX_RANGES,
    UNSATISFIABLE,
    ByteRange,
    if_range_allows,
    parse_range,
)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 1000, None),
        ("", 1000, None),
        ("bytes=0-99", 1000, ByteRange(0, 100)),
        ("bytes=0-0", 1000, ByteRange(0, 1)),
        ("bytes=-500", 1000, ByteRange(500, 1000)),
        ("bytes=-5000", 1000, ByteRange(0, 1000)),
        ("bytes=100-", 1000, ByteRange(100, 1000)),
        ("bytes=999-", 1000, ByteRange(999, 1000)),
        ("bytes=900-5000", 1000, ByteRange(900, 1000)),
        ("Bytes = 1 - 2", 1000, ByteRange(1, 3)),
        ("bytes=0-99999999999999999999999999999", 1000, ByteRange(0, 1000)),
        ("bytes=0-1,", 1000, ByteRange(0, 2)),
        ("bytes=" + "0" * 40 + "1-" + "0" * 40 + "2", 1000, ByteRange(1, 3)),  # leading zeros
        ("bytes=-" + "0" * 30 + "10", 1000, ByteRange(990, 1000)),
        # unsatisfiable → 416
        ("bytes=-0", 1000, UNSATISFIABLE),
        ("bytes=1000-", 1000, UNSATISFIABLE),
        ("bytes=5000-6000", 1000, UNSATISFIABLE),
        ("bytes=5-1", 1000, UNSATISFIABLE),
        ("bytes=0-", 0, UNSATISFIABLE),
        ("bytes=-1", 0, UNSATISFIABLE),
        ("bytes=99999999999999999999999999-", 1000, UNSATISFIABLE),
        ("bytes=2000-3000,4000-5000", 1000, UNSATISFIABLE),
        # ignored → 200 with the whole file
        ("items=0-1", 1000, None),
        ("bytes=", 1000, None),
        ("bytes=-", 1000, None),
        ("bytes=a-b", 1000, None),
        ("bytes=0-1;x", 1000, None),
        ("bytes 0-1", 1000, None),
        ("bytes=0-1,5-9", 1000, None),  # several ranges: whole file
        ("bytes=0-1,2000-3000", 1000, ByteRange(0, 2)),  # only one satisfiable
    ],
)
def test_range_header_is_judged(header: str | None, size: int, expected: object) -> None:
    assert parse_range(header, size) == expected


def test_content_range_value() -> None:
    assert ByteRange(0, 100).content_range(1000) == "bytes 0-99/1000"


def test_thousands_of_ranges_give_the_whole_file() -> None:
    header = "bytes=" + ",".join("0-0" for _ in range(10_000))
    assert parse_range(header, 1000) is None


def test_just_under_the_limit_is_still_parsed() -> None:
    header = "bytes=" + ",".join("5000-5001" for _ in range(MAX_RANGES))
    assert parse_range(header, 1000) is UNSATISFIABLE


@pytest.mark.timeout(10)  # a bound on a hang: quadratic parsing would take minutes here
def test_huge_header_is_answered_without_quadratic_work() -> None:
    # 1 MB of digits in one spec: clamped, never converted (int() would refuse or crawl).
    assert parse_range("bytes=0-" + "9" * 1_000_000, 10) == ByteRange(0, 10)
    assert parse_range("bytes=" + "1" * 1_000_000 + "-", 10) is UNSATISFIABLE
    # 1 MB of whitespace where a regex with optional spaces around "-" would backtrack
    assert parse_range("bytes=" + " " * 1_000_000 + "x", 10) is None
    assert parse_range("bytes=1" + " " * 1_000_000 + "x", 10) is None
    assert parse_range("bytes=1-" + " " * 1_000_000 + "x", 10) is None
    assert parse_range(" " * 1_000_000 + "bytes=0-1", 10) == ByteRange(0, 2)


def test_non_ascii_digits_are_malformed() -> None:
    assert parse_range("bytes=\u00b2-5", 10) is None
    assert parse_range("bytes=0-\u0663", 10) is None


ETAG = '"abc"'
MTIME = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT


@pytest.mark.parametrize(
    ("if_range", "allowed"),
    [
        (None, True),
        ('"abc"', True),
        ('"abd"', False),
        ('W/"abc"', False),
        ("Tue, 14 Nov 2023 22:13:20 GMT", True),
        ("Tue, 14 Nov 2023 22:13:21 GMT", False),
        ("Tue, 14 Nov 2023 22:13:20 -0000", True),
        ("not a date", False),
        ("", False),
    ],
)
def test_if_range_matches_only_a_strong_equal_validator(
    if_range: str | None, allowed: bool
) -> None:
    assert if_range_allows(if_range, ETAG, MTIME) is allowed


@given(st.text(max_size=200), st.integers(min_value=0, max_value=10**12))
def test_any_header_gives_a_valid_answer_and_never_raises(header: str, size: int) -> None:
    result = parse_range(header, size)
    assert result is None or result is UNSATISFIABLE or isinstance(result, ByteRange)
    if isinstance(result, ByteRange):
        assert 0 <= result.start < result.stop <= size


@given(
    st.lists(
        st.one_of(
            st.tuples(st.integers(0, 5000), st.integers(0, 5000)).map(lambda t: f"{t[0]}-{t[1]}"),
            st.integers(0, 5000).map(lambda n: f"-{n}"),
            st.integers(0, 5000).map(lambda n: f"{n}-"),
        ),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 3000),
)
def test_well_formed_headers_follow_the_rfc(specs: list[str], size: int) -> None:
    result = parse_range("bytes=" + ",".join(specs), size)
    satisfiable = []
    for spec in specs:
        first, _, last = spec.partition("-")
        if first and (last == "" or int(last) >= int(first)) and int(first) < size:
            satisfiable.append(spec)
        elif not first and int(last) > 0 and size > 0:
            satisfiable.append(spec)
    if not satisfiable:
        assert result is UNSATISFIABLE
    elif len(satisfiable) > 1:
        assert result is None
    else:
        assert isinstance(result, ByteRange)
