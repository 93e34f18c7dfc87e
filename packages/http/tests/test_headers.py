"""HTTPHeaders: case-insensitive, multi-valued, parses raw blocks, [] joins repeated values."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import pytest

from squall.http import HTTPHeaders


def test_lookup_ignores_case_and_iteration_shows_normalized_names() -> None:
    h = HTTPHeaders({"content-TYPE": "text/html"})
    assert h["Content-Type"] == h["CONTENT-TYPE"] == "text/html"
    assert "content-type" in h and 42 not in h
    assert list(h) == ["Content-Type"]


def test_add_keeps_every_value_and_item_access_joins_them_with_commas() -> None:
    # Tornado's behaviour: ported tests send headers["Set-Cookie"] back as their Cookie
    # header, and depend on the first cookie being in it.
    h = HTTPHeaders()
    h.add("Set-Cookie", "a=1")
    h.add("set-cookie", "b=2")
    h.add("Set-Cookie", "c=3")
    assert h["Set-Cookie"] == h.get("set-cookie") == "a=1,b=2,c=3"
    assert h.get_list("SET-COOKIE") == ["a=1", "b=2", "c=3"]
    assert list(h.get_all()) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Set-Cookie", "c=3"),
    ]
    assert len(h) == 1


def test_get_all_keeps_the_order_of_names_with_one_value_and_with_several() -> None:
    h = HTTPHeaders()
    h.add("Host", "a")
    assert list(h.get_all()) == [("Host", "a")]  # no repeated name yet
    h.add("Vary", "x")
    h.add("Vary", "y")
    h.add("Server", "s")
    assert list(h.get_all()) == [("Host", "a"), ("Vary", "x"), ("Vary", "y"), ("Server", "s")]


def test_repeated_request_headers_are_joined_as_tornado_joins_them() -> None:
    from squall.http._grammar import analyze_block

    headers, _ = analyze_block("Host: a\r\nAccept: x/y\r\nX-Tag: 1\r\naccept: z/w\r\n")
    assert headers["Accept"] == "x/y,z/w"
    assert headers.get_list("Accept") == ["x/y", "z/w"]
    assert headers["X-Tag"] == "1"


def test_a_continuation_line_extends_the_last_of_several_values() -> None:
    h = HTTPHeaders.parse("X-A: 1\r\nX-A: 2\r\n  more\r\n")
    assert h.get_list("X-A") == ["1", "2 more"]
    assert h["X-A"] == "1,2 more"


def test_a_continuation_line_extends_the_name_of_the_line_before_it() -> None:
    # X-A's key was made first, so it is not the dict's last key when its second line comes.
    h = HTTPHeaders.parse("X-A: 1\r\nX-B: 2\r\nX-A: 3\r\n  more\r\n")
    assert h.get_list("X-A") == ["1", "3 more"]
    assert h["X-B"] == "2"
    line_by_line = HTTPHeaders()
    for line in ("x-b: 1", "X-C: 2", "X-B: 3", "\tand more"):
        line_by_line.parse_line(line)
    assert line_by_line.get_list("X-B") == ["1", "3 and more"]
    assert line_by_line["X-C"] == "2"


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


def _best_of_three(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _add_many(n: int) -> None:
    h = HTTPHeaders()
    for _ in range(n):
        h.add("X-Foo", "bar")


class _CountedCopies(str):
    """A header value that counts the characters its concatenations copy."""

    copied = 0

    def __add__(self, other: str) -> _CountedCopies:
        _CountedCopies.copied += len(self) + len(other)
        return _CountedCopies(str.__add__(self, other))


def test_adding_one_name_many_times_copies_each_value_a_bounded_number_of_times() -> None:
    # Rejoining every value on each add copied the whole joined value again each time:
    # O(n²) characters for n adds (Tornado's CVE-2025-67725). Counted, not timed.
    n = 2_000
    _CountedCopies.copied = 0
    h = HTTPHeaders()
    for i in range(n):
        h.add("X-Foo", _CountedCopies(str(i % 10)))
    assert h["X-Foo"] == ",".join(str(i % 10) for i in range(n))
    assert _CountedCopies.copied <= 4 * n  # rejoining at each add: about n² = 4,000,000


def test_parsing_one_name_many_times_keeps_every_value() -> None:
    n = 20_000
    h = HTTPHeaders.parse("".join(f"X-Foo: {i % 10}\r\n" for i in range(n)))
    assert len(h.get_list("X-Foo")) == n
    assert h["X-Foo"] == ",".join(str(i % 10) for i in range(n))


def test_the_joined_value_follows_every_change_to_a_repeated_name() -> None:
    h = HTTPHeaders()
    h.add("A", "1")
    h.add("a", "2")
    assert h["A"] == "1,2"
    h.add("A", "3")
    assert h.get("a") == "1,2,3" and h.get_list("A") == ["1", "2", "3"]
    c = h.copy()
    h.add("A", "4")
    assert c["A"] == "1,2,3" and h["A"] == "1,2,3,4"
    assert dict(h.items()) == {"A": "1,2,3,4"} and h == {"a": "1,2,3,4"}
    h.parse_line(" more")
    assert h["A"] == "1,2,3,4 more"
    h["A"] = "x"
    assert h["A"] == "x" and h.get_list("A") == ["x"]
    h.add("A", "y")
    del h["A"]
    assert "A" not in h and h.get("A") is None
    h.add("A", "z")
    assert h["A"] == "z"


def test_parse_line_takes_lines_with_their_line_ending_and_ignores_the_blank_one() -> None:
    h = HTTPHeaders()
    for line in ("Content-Type: text/html\r\n", "X-A: 1\n", "X-A: 2", "\r\n", "\n", ""):
        h.parse_line(line)
    assert h["Content-Type"] == "text/html" and h.get_list("X-A") == ["1", "2"]
    assert len(h) == 2
