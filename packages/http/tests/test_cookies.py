"""request.cookies reads the Cookie header as browsers send it (as Tornado does)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from squall.http import HTTPHeaders, HTTPServerRequest


def cookies_of(header: str) -> dict[str, str]:
    request = HTTPServerRequest(uri="/", headers=HTTPHeaders({"Cookie": header}))
    return {name: morsel.value for name, morsel in request.cookies.items()}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        # Values a page's own document.cookie may store: JSON, spaces, non-ASCII, quotes.
        ('prefs={"theme":"dark","n":[1,2]}', {"prefs": '{"theme":"dark","n":[1,2]}'}),
        ("name=Jean Dupont; x=1", {"name": "Jean Dupont", "x": "1"}),
        ("city=Zürich", {"city": "Zürich"}),
        ('odd=a"b; back=a\\b', {"odd": 'a"b', "back": "a\\b"}),
        ("formula=E=mc2", {"formula": "E=mc2"}),
        ("key:term=value:term", {"key:term": "value:term"}),
        ('half="abc; x=1', {"half": '"abc', "x": "1"}),
        # ';' always separates, even inside quotes
        ('q="a;b"', {"q": '"a'}),
        # surrounding spaces and empty pieces
        ("  a  =  1  ;  ;  b=  ", {"a": "1", "b": ""}),
        # the last of a repeated name wins
        ("a=1; h=2; a=3", {"a": "3", "h": "2"}),
        ("$Version=1; x=2", {"$Version": "1", "x": "2"}),
    ],
)
def test_cookie_values_are_read_as_browsers_send_them(
    header: str, expected: dict[str, str]
) -> None:
    assert cookies_of(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # no name, a name with spaces, an attribute name: no cookie can be called that
        ('a=b; "; c=d', {"a": "b", "c": "d"}),
        ("a b=1; ok=2", {"ok": "2"}),
        ("a=b; Domain=example.com; Path=/", {"a": "b"}),
        ("unnamed; lang=en", {"lang": "en"}),
    ],
)
def test_pairs_with_impossible_names_are_skipped(header: str, expected: dict[str, str]) -> None:
    assert cookies_of(header) == expected


@pytest.mark.parametrize(
    ("quoted", "value"),
    [
        (r'"b=\""', 'b="'),
        (r'"b=\\"', "b=\\"),
        (r'"b=\n"', "b=n"),
        (r'"b=\042"', 'b="'),
        (r'"b=\377"', "b=\xff"),
        (r'"b=\400"', "b=400"),
        (r'"b=\\042"', "b=\\042"),
        (r'"b=\134\042"', 'b=\\"'),
        ('"two words"', "two words"),
    ],
)
def test_quoted_values_are_unquoted_as_http_cookies_does(quoted: str, value: str) -> None:
    assert cookies_of(f"a={quoted}")["a"] == value


def test_a_long_escaped_value_is_unquoted_whole() -> None:
    # One pass of a regular expression over the value (linear by construction; a timing
    # check belongs in a benchmark, not here).
    n = 20_000
    assert cookies_of('a="' + "\\\\" * n + '"')["a"] == "\\" * n


def test_a_json_cookie_reaches_the_application(serve: Any) -> None:
    def app(request: HTTPServerRequest) -> None:
        body = json.dumps({k: m.value for k, m in request.cookies.items()}).encode()
        request.connection.respond(200, [("Content-Type", "application/json")], body)  # type: ignore[union-attr]

    st = serve(app)
    r = httpx.get(st.url, headers={"Cookie": 'prefs={"lang":"fr"}; sid=abc'})
    assert r.json() == {"prefs": '{"lang":"fr"}', "sid": "abc"}
