"""Argument getters: query, body, both; default, strip, last wins, errors are 400s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from squall.web import Application, RequestHandler


class Args(RequestHandler):
    def get(self) -> None:
        self.write(
            {
                "q": self.get_query_argument("q", None),
                "qs": self.get_query_arguments("q"),
                "nostrip": self.get_query_argument("q", None, strip=False),
                "all": self.get_arguments("q"),
                "missing_default": self.get_argument("nope", "dflt"),
                "empty_list": self.get_arguments("nope"),
            }
        )

    def post(self) -> None:
        self.write(
            {
                "b": self.get_body_argument("b", None),
                "bs": self.get_body_arguments("b"),
                "q_from_body": self.get_body_argument("q", None),
                "both": self.get_arguments("q"),
                "last": self.get_argument("q"),
            }
        )


class Required(RequestHandler):
    def get(self, which: str) -> None:
        if which == "query":
            self.get_query_argument("needed_q")
        elif which == "body":
            self.get_body_argument("needed_b")
        else:
            self.get_argument("needed")


@pytest.fixture
def app() -> Application:
    return Application([(r"/args", Args), (r"/required/(.+)", Required)])


def test_query_arguments(squall_client: httpx.Client) -> None:
    r = squall_client.get("/args", params=[("q", " one "), ("q", "\x01two\t ")])
    assert r.json() == {
        "q": "two",
        "qs": ["one", "two"],
        "nostrip": " two\t ",
        "all": ["one", "two"],
        "missing_default": "dflt",
        "empty_list": [],
    }


class NoStrip(RequestHandler):
    def get(self) -> None:
        self.write({"v": self.get_argument("v", strip=False), "s": self.get_argument("v")})


def test_control_characters_become_spaces_even_without_strip(
    squall_live_server: Any,
) -> None:
    # Tornado's rule: control characters other than tab/CR/LF are always replaced; strip only
    # decides whether surrounding whitespace is removed.
    server = squall_live_server(Application([(r"/", NoStrip)]))
    r = httpx.get(server.url + "/", params={"v": "\x00 a\x1fb\t\x08"})
    assert r.json() == {"v": "  a b\t ", "s": "a b"}


def test_body_arguments_urlencoded_and_merged(squall_client: httpx.Client) -> None:
    r = squall_client.post("/args?q=fromquery", data={"b": ["1", "2"], "q": "frombody"})
    assert r.json() == {
        "b": "2",
        "bs": ["1", "2"],
        "q_from_body": "frombody",
        "both": ["fromquery", "frombody"],
        "last": "frombody",
    }


def test_body_arguments_multipart(squall_client: httpx.Client) -> None:
    r = squall_client.post("/args", data={"b": "x", "q": "y"}, files={"f": ("f.txt", b"data")})
    assert r.json()["b"] == "x"
    assert r.json()["last"] == "y"


def test_unicode_arguments(squall_client: httpx.Client) -> None:
    assert squall_client.get("/args", params={"q": "小明"}).json()["q"] == "小明"


@pytest.mark.parametrize(
    ("which", "name"), [("query", "needed_q"), ("body", "needed_b"), ("any", "needed")]
)
def test_missing_argument_is_400_naming_it(
    squall_client: httpx.Client, which: str, name: str
) -> None:
    r = squall_client.get(f"/required/{which}")
    assert r.status_code == 400
    assert r.reason_phrase == f"Missing argument {name}"
    assert f"400: Missing argument {name}" in r.text


def test_bad_utf8_argument_is_400_with_clear_reason(squall_client: httpx.Client) -> None:
    r = squall_client.get("/args?q=%FF%FE")
    assert r.status_code == 400
    assert "Invalid UTF-8 in argument" in r.reason_phrase
    assert "400: Invalid UTF-8 in argument q" in r.text


def test_missing_argument_error_attributes() -> None:
    from squall.web import HTTPError, MissingArgumentError

    err = MissingArgumentError("x")
    assert isinstance(err, HTTPError)
    assert (err.status_code, err.arg_name) == (400, "x")
    assert "Missing argument x" in str(err)


def test_missing_argument_log_message_names_the_argument_as_tornado_does() -> None:
    # A JSON write_error commonly sends exc.log_message to the client: it must read
    # "Missing argument x", not the bare format string.
    from squall.web import MissingArgumentError

    err = MissingArgumentError("page_size")
    assert err.log_message == "Missing argument page_size"
    assert err.args == ()
    assert str(err) == "HTTP 400: Missing argument page_size (Missing argument page_size)"
    # a '%' in the name is kept literal, as for any log_message given without args
    odd = MissingArgumentError("50%off")
    assert odd.log_message % odd.args == "Missing argument 50%off"


def test_arguments_module_keeps_helpers_private() -> None:
    import squall.web

    assert not hasattr(squall.web, "ArgumentsMixin")


class Latin1Bytes(RequestHandler):
    """Keeps every argument as its raw bytes, as a Tornado handler may."""

    def decode_argument(self, value: bytes, name: str | None = None) -> Any:
        self.names_seen = [*getattr(self, "names_seen", []), name]
        return value

    def get(self, *args: Any, **kwargs: Any) -> None:
        def show(v: Any) -> list[str]:
            return [type(v).__name__, v.hex() if isinstance(v, bytes) else v]

        self.write(
            {
                "args": [show(a) for a in args],
                "kwargs": {k: show(v) for k, v in kwargs.items()},
                "q": show(self.get_argument("q")),
                "names": self.names_seen,
            }
        )


def test_decode_argument_override_returning_bytes_is_honoured(squall_live_server: Any) -> None:
    server = squall_live_server(
        Application([(r"/pos/(.*)", Latin1Bytes), (r"/kw/(?P<word>.*)", Latin1Bytes)])
    )
    # a group with and one without an escape both go through the override, as bytes
    r = httpx.get(server.url + "/pos/plain?q=%C3%A9%01")
    assert r.status_code == 200
    assert r.json()["args"] == [["bytes", b"plain".hex()]]
    assert r.json()["q"] == ["bytes", "c3a901"]
    r = httpx.get(server.url + "/pos/%C3%A9?q=")
    assert r.json()["args"] == [["bytes", "c3a9"]]
    # a named group is decoded with its name, as Tornado passes it
    r = httpx.get(server.url + "/kw/abc?q=x")
    assert r.json()["kwargs"] == {"word": ["bytes", b"abc".hex()]}
    assert r.json()["names"] == ["word", "q"]
