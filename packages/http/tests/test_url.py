"""url_concat: query arguments appended to a URL, as Tornado's ``httputil.url_concat``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.http import url_concat


@pytest.mark.parametrize(
    ("url", "args", "expected"),
    [
        ("http://example.com/foo", {"c": "d"}, "http://example.com/foo?c=d"),
        ("http://example.com/foo?a=b", {"c": "d"}, "http://example.com/foo?a=b&c=d"),
        (
            "http://example.com/foo?a=b",
            [("c", "d"), ("c", "d2")],
            "http://example.com/foo?a=b&c=d&c=d2",
        ),
        ("http://example.com/foo?a=b", (("c", "d"),), "http://example.com/foo?a=b&c=d"),
        ("http://example.com/foo?a=b#frag", {"c": "d"}, "http://example.com/foo?a=b&c=d#frag"),
        ("http://example.com/foo#frag", [("c", "d")], "http://example.com/foo?c=d#frag"),
        ("http://example.com/foo?", {"c": "d"}, "http://example.com/foo?c=d"),
        ("http://example.com/foo?a=&b", {"c": "d"}, "http://example.com/foo?a=&b=&c=d"),
        ("http://example.com/foo?a=b", {}, "http://example.com/foo?a=b"),
        ("http://example.com/foo?a=b", [], "http://example.com/foo?a=b"),
        ("/relative/path", {"q": "a b&c/é"}, "/relative/path?q=a+b%26c%2F%C3%A9"),
    ],
    ids=[
        "dict",
        "existing-query",
        "list-with-repeats",
        "tuple",
        "fragment-kept",
        "fragment-without-query",
        "empty-query",
        "blank-values-kept",
        "empty-dict",
        "empty-list",
        "escaped-relative",
    ],
)
def test_args_are_appended_to_the_query(url: str, args: Any, expected: str) -> None:
    assert url_concat(url, args) == expected


@pytest.mark.parametrize("url", ["http://example.com/foo?a=b#f", "/x?%zz=1&&;", "weird url?"])
def test_none_returns_the_url_unchanged(url: str) -> None:
    assert url_concat(url, None) is url


@pytest.mark.parametrize("bad", ["c=d", b"c=d", 42, {("c", "d")}])
def test_other_args_are_a_type_error_naming_the_type(bad: Any) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        url_concat("http://example.com/", bad)


_text = st.text(st.characters(exclude_categories=("Cs",)))  # encodable as UTF-8
_pairs = st.lists(st.tuples(_text, _text), max_size=5)


@given(_pairs, _pairs)
def test_query_reads_back_as_old_then_new_pairs(
    old: list[tuple[str, str]], new: list[tuple[str, str]]
) -> None:
    base = url_concat("http://example.com/p", old)
    result = url_concat(base, new)
    assert parse_qsl(urlsplit(result).query, keep_blank_values=True) == old + new
