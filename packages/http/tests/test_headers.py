"""HTTPHeaders: case-insensitive, multi-valued, parses raw blocks, last value on []."""

from __future__ import annotations

import copy

import pytest

from squall.http import HTTPHeaders


def test_lookup_ignores_case_and_iteration_shows_normalized_names() -> None:
    h = HTTPHeaders({"content-TYPE": "text/html"})
    assert h["Content-Type"] == h["CONTENT-TYPE"] == "text/html"
    assert "content-type" in h and 42 not in h
    assert list(h) == ["Content-Type"]


def test_add_keeps_every_value_and_item_access_gives_the_last() -> None:
    h = HTTPHeaders()
    h.add("Set-Cookie", "a=1")
    h.add("set-cookie", "b=2")
    assert h["Set-Cookie"] == "b=2"
    assert h.get_list("SET-COOKIE") == ["a=1", "b=2"]
    assert list(h.get_all()) == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    assert len(h) == 1


def test_setitem_replaces_all_values_and_delitem_removes_them() -> None:
    h = HTTPHeaders()
    h.add("X", "1")
    h.add("X", "2")
    h["x"] = "3"
    assert h.get_list("X") == ["3"]
    del h["X"]
    assert "X" not in h and h.get_list("X") == []
    with pytest.raises(KeyError):
        h["X"]


def test_parse_reads_a_raw_block_with_crlf_or_lf_and_continuations() -> None:
    h = HTTPHeaders.parse(b"Content-Type: text/html\r\nX-A: 1\r\nX-A: 2\nX-Long: a\r\n  b\r\n\r\n")
    assert h["content-type"] == "text/html"
    assert h.get_list("x-a") == ["1", "2"]
    assert h["X-Long"] == "a b"
    with pytest.raises(ValueError):
        HTTPHeaders.parse("no colon here\r\n")


def test_get_copy_equality_and_str() -> None:
    h = HTTPHeaders([("A", "1"), ("B", "2")])
    assert h.get("a") == "1" and h.get("zz") is None and h.get("zz", "d") == "d"
    c = h.copy()
    c.add("A", "3")
    assert h.get_list("A") == ["1"] and c.get_list("A") == ["1", "3"]
    assert copy.copy(h) == h
    assert h == {"a": "1", "b": "2"}
    assert str(h) == "A: 1\nB: 2\n"
    assert "HTTPHeaders" in repr(h)


def test_constructor_from_headers_keeps_repeated_values() -> None:
    h = HTTPHeaders()
    h.add("X", "1")
    h.add("X", "2")
    assert HTTPHeaders(h).get_list("x") == ["1", "2"]
    assert HTTPHeaders(a="1")["A"] == "1"
