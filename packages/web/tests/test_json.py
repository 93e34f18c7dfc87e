"""get_json_body(): the body as JSON over real HTTP; every bad body is a 400 naming why."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from squall.web import Application, RequestHandler


class Echo(RequestHandler):
    def post(self) -> None:
        value = self.get_json_body()
        self.write({"type": type(value).__name__, "value": value})


class Twice(RequestHandler):
    def post(self) -> None:
        first = self.get_json_body()
        first["seen"] = True  # the cached object itself comes back, mutation included
        second = self.get_json_body()
        self.write({"same": first is second, "second": second})


class Caught(RequestHandler):
    def post(self) -> None:
        self.get_json_body()


@pytest.fixture
def app() -> Application:
    return Application([(r"/echo", Echo), (r"/twice", Twice), (r"/caught", Caught)])


@pytest.mark.parametrize(
    ("body", "kind", "value"),
    [
        (
            b'{"a": [1, 2.5, null, true], "b": {"c": "d"}}',
            "dict",
            {"a": [1, 2.5, None, True], "b": {"c": "d"}},
        ),
        (b"[1, 2, 3]", "list", [1, 2, 3]),
        (b'"text"', "str", "text"),
        (b" 42 \n", "int", 42),
        (b"false", "bool", False),
        (b"null", "NoneType", None),
        ('{"name": "日本 ü"}'.encode(), "dict", {"name": "日本 ü"}),
        (b'\xef\xbb\xbf{"bom": 1}', "dict", {"bom": 1}),  # RFC 8259 §8.1: may be ignored
    ],
)
def test_a_json_body_is_parsed_into_its_value(
    squall_client: httpx.Client, body: bytes, kind: str, value: Any
) -> None:
    r = squall_client.post("/echo", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert r.json() == {"type": kind, "value": value}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_the_content_type_is_not_checked(
    squall_client: httpx.Client, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = squall_client.post("/echo", content=b'{"k": 1}', headers=headers)
    assert r.status_code == 200
    assert r.json() == {"type": "dict", "value": {"k": 1}}


def test_the_parsed_value_is_kept_for_the_request(squall_client: httpx.Client) -> None:
    r = squall_client.post("/twice", content=b'{"a": 1}')
    assert r.json() == {"same": True, "second": {"a": 1, "seen": True}}
    # A new request parses its own body.
    r = squall_client.post("/twice", content=b'{"b": 2}')
    assert r.json() == {"same": True, "second": {"b": 2, "seen": True}}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "invalid JSON body: the body is empty"),
        (b"nope", "invalid JSON body: Expecting value at line 1 column 1"),
        (b'{"a": 1,\n "b": }', "invalid JSON body: Expecting value at line 2 column 7"),
        (b'{"a": 1} x', "invalid JSON body: Extra data at line 1 column 10"),
        (
            b"{'a': 1}",
            "invalid JSON body: Expecting property name enclosed in double quotes"
            " at line 1 column 2",
        ),
        (b'"caf\xe9"', "invalid JSON body: not UTF-8 (byte 0xe9 at 4)"),
        (b"NaN", "invalid JSON body: NaN is not a JSON value"),
        (b"[-Infinity]", "invalid JSON body: -Infinity is not a JSON value"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON body: nested too deeply"),
        (
            b"1" * 5000,
            "invalid JSON body: Exceeds the limit (4300 digits) for integer string"
            " conversion: value has 5000 digits",
        ),
    ],
)
def test_a_bad_body_is_a_400_whose_reason_names_the_problem(
    squall_client: httpx.Client, body: bytes, reason: str
) -> None:
    r = squall_client.post("/caught", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.reason_phrase == reason
    assert reason in r.text  # the default error page shows it too
    # Served as an ordinary client error: the server goes on answering.
    assert squall_client.post("/echo", content=b"1").json() == {"type": "int", "value": 1}
