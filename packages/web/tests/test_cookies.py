"""Cookies over real HTTP: plain cookies, signed cookies, key rotation, missing secret."""

from __future__ import annotations

import http.cookies
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from squall.web import (
    Application,
    MissingSettingError,
    RequestHandler,
    create_signed_value,
)
from squall.web.testing import LiveServer

SECRETS = {0: "old-secret-0123456789", 1: "new-secret-9876543210"}


class Session(RequestHandler):
    """/session/set?user=..&version=.. signs; /session/get reads; /session/raw shows."""

    def get(self, action: str) -> None:
        if action == "set":
            version = self.get_argument("version", None)
            self.set_signed_cookie(
                "session", self.get_argument("user"), version=int(version) if version else None
            )
            self.write("set")
        elif action == "get":
            min_version = self.get_argument("min_version", None)
            max_age = float(self.get_argument("max_age_days", "31"))
            value = self.get_signed_cookie(
                "session",
                max_age_days=max_age,
                min_version=int(min_version) if min_version else None,
            )
            self.write(
                {
                    "user": None if value is None else value.decode(),
                    "type": type(value).__name__,
                    "key_version": self.get_signed_cookie_key_version("session"),
                }
            )
        elif action == "alias":
            self.set_secure_cookie("session", "via-alias")
            self.write({"read": repr(self.get_secure_cookie("session"))})


class Plain(RequestHandler):
    def get(self, action: str) -> None:
        if action == "all":
            self.write({name: morsel.value for name, morsel in self.cookies.items()})
        elif action == "clear-all":
            self.clear_all_cookies(path="/")
            self.write("cleared")
        elif action == "echo":
            # An app that copies client input into a cookie: the value must be refused.
            try:
                self.set_cookie("echo", self.get_argument("value"))
            except ValueError as exc:
                self.set_status(400)
                self.write(f"refused: {exc}")
                return
            self.write("set")
        elif action == "attribute":
            try:
                self.set_cookie("a", "1", path=self.get_argument("path"))
            except ValueError:
                self.write("refused")
                return
            self.write("set")
        elif action == "expires-tuple":
            self.set_cookie("t", "1", expires=time.gmtime(0))
        elif action == "extra-kwargs":
            self.set_cookie("k", "1", HttpOnly=True, Comment="c")
        elif action == "partitioned":
            self.set_cookie("chips", "1", secure=True, samesite="None", partitioned=True)
        elif action == "misspelt-attribute":
            try:
                self.set_cookie("half", "1", secure=True, partitionned=True)
            except http.cookies.CookieError as exc:
                self.write(f"refused: {exc}")


class NoSecret(RequestHandler):
    def get(self) -> None:
        try:
            self.set_signed_cookie("x", "y")
        except MissingSettingError as exc:
            self.write(str(exc))


def make_app(**settings: Any) -> Application:
    return Application(
        [(r"/session/(\w+)", Session), (r"/plain/([\w-]+)", Plain), (r"/nosecret", NoSecret)],
        **settings,
    )


@pytest.fixture
def start(squall_live_server: Callable[..., LiveServer]) -> Iterator[Callable[..., httpx.Client]]:
    clients: list[httpx.Client] = []

    def start(**settings: Any) -> httpx.Client:
        server = squall_live_server(make_app(**settings))
        client = httpx.Client(base_url=server.url, timeout=10)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


def read(client: httpx.Client, **params: str) -> dict[str, Any]:
    r = client.get("/session/get", params=params)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = json.loads(r.text)
    return result


def test_signed_cookie_round_trip_carried_by_the_client(start: Callable[..., httpx.Client]) -> None:
    client = start(cookie_secret="s3cret")
    assert client.get("/session/set", params={"user": "alice"}).text == "set"
    assert read(client) == {"user": "alice", "type": "bytes", "key_version": 0}


def test_signed_cookie_goes_out_quoted_and_comes_back_quoted(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(cookie_secret="s3cret")
    r = client.get("/session/set", params={"user": "bo"})  # base64 "Ym8=": padded
    header = r.headers["set-cookie"]
    # The value holds '=' (base64), so the cookie library quotes it; clients send it back so.
    assert header.startswith('session="2|1:0|'), header
    assert "expires=" in header
    quoted = header.split(";")[0].split("=", 1)[1]
    fresh = httpx.Client(base_url=str(client.base_url))
    with fresh:
        r = fresh.get("/session/get", headers={"Cookie": f"session={quoted}"})
    assert json.loads(r.text)["user"] == "bo"


def test_aliases_set_secure_cookie_and_get_secure_cookie(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(cookie_secret="s3cret")
    client.get("/session/alias")
    assert client.get("/session/alias").json() == {"read": "b'via-alias'"}


def test_key_rotation_old_cookies_still_read_new_ones_use_the_new_key(
    start: Callable[..., httpx.Client],
) -> None:
    old_app = start(cookie_secret={0: SECRETS[0]}, key_version=0)
    old_app.get("/session/set", params={"user": "carol"})
    old_cookie = old_app.cookies["session"]
    rotated = start(cookie_secret=SECRETS, key_version=1)
    rotated.cookies.set("session", old_cookie)
    assert read(rotated) == {"user": "carol", "type": "bytes", "key_version": 0}
    rotated.get("/session/set", params={"user": "carol"})
    assert read(rotated)["key_version"] == 1


def test_v1_cookie_read_unless_min_version_2(start: Callable[..., httpx.Client]) -> None:
    client = start(cookie_secret="s3cret")
    client.get("/session/set", params={"user": "dave", "version": "1"})
    assert read(client)["user"] == "dave"
    assert read(client)["key_version"] is None  # v1 has no key version
    assert read(client, min_version="2")["user"] is None


def test_max_age_days_limits_the_signature_age(start: Callable[..., httpx.Client]) -> None:
    client = start(cookie_secret="s3cret")
    two_days_ago = time.time() - 2 * 86400
    value = create_signed_value("s3cret", "session", "erin", clock=lambda: two_days_ago)
    client.cookies.set("session", value.decode())
    assert read(client, max_age_days="3")["user"] == "erin"
    assert read(client, max_age_days="1")["user"] is None


def test_missing_cookie_secret_is_a_clear_error_at_first_use(
    start: Callable[..., httpx.Client],
) -> None:
    client = start()
    assert client.get("/nosecret").text == (
        "the 'cookie_secret' setting is required to use signed cookies: "
        "Application(..., cookie_secret=...)"
    )


def test_key_dict_without_key_version_cannot_sign(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(cookie_secret=SECRETS)
    r = client.get("/session/set", params={"user": "x"})
    assert r.status_code == 500
    # ... but reading still works: the version is inside each value.
    value = create_signed_value(SECRETS, "session", "frank", key_version=1)
    client.cookies.set("session", value.decode())
    assert read(client)["user"] == "frank"


def test_key_version_not_in_the_dict_is_refused_at_construction() -> None:
    with pytest.raises(Exception, match="key_version=5 is not a key of the cookie_secret"):
        make_app(cookie_secret=SECRETS, key_version=5)


def test_xsrf_cookie_kwargs_with_an_unknown_argument_is_refused_at_construction() -> None:
    with pytest.raises(Exception, match="xsrf_cookie_kwargs: expires_day is not"):
        make_app(xsrf_cookie_kwargs={"expires_day": 3})


# -- plain cookies -------------------------------------------------------------------------


def test_cookies_of_every_cookie_header_are_read_and_a_bad_one_is_skipped(
    start: Callable[..., httpx.Client],
) -> None:
    client = start()
    r = client.get("/plain/all", headers={"Cookie": 'a=1; bad"=x; b="two words"'})
    assert r.json() == {"a": "1", "b": "two words"}


def test_clear_all_cookies_expires_every_cookie_sent(start: Callable[..., httpx.Client]) -> None:
    client = start()
    r = client.get("/plain/clear-all", headers={"Cookie": "a=1; b=2"})
    cleared = r.headers.get_list("set-cookie")
    assert sorted(c.split(";")[0] for c in cleared) == ['a=""', 'b=""']
    assert all("Max-Age=0" in c and "expires=" in c for c in cleared)


@pytest.mark.parametrize(
    "value", ["a\r\nSet-Cookie: admin=1", "a;Domain=evil.example", "a b", "a\x7f", "x\nY: 1"]
)
def test_cookie_values_that_could_inject_headers_are_refused(
    start: Callable[..., httpx.Client], value: str
) -> None:
    client = start()
    r = client.get("/plain/echo", params={"value": value})
    assert r.status_code == 400
    assert r.text.startswith("refused: invalid cookie 'echo'")
    assert "set-cookie" not in r.headers
    assert "y" not in r.headers


@pytest.mark.parametrize("value", ["中文", "emoji 😀"])
def test_cookie_values_beyond_latin1_are_refused_at_set_cookie(
    start: Callable[..., httpx.Client], value: str
) -> None:
    # A header line is ISO-8859-1: such a value could never be sent. Refused at the call
    # (a 400 the handler chose here) instead of failing the whole response at finish().
    client = start()
    r = client.get("/plain/echo", params={"value": value})
    assert r.status_code == 400
    assert r.text.startswith("refused: invalid cookie 'echo'")
    assert "beyond Latin-1" in r.text


def test_a_latin1_cookie_value_is_still_sent_quoted(start: Callable[..., httpx.Client]) -> None:
    client = start()
    r = client.get("/plain/echo", params={"value": "café"})
    assert r.text == "set"
    assert r.headers["set-cookie"].startswith('echo="caf\\351"')


@pytest.mark.parametrize("path", ["/;Domain=evil.example", "/\r\nX: 1", "/\x7f", "/例"])
def test_cookie_attributes_that_could_inject_are_refused(
    start: Callable[..., httpx.Client], path: str
) -> None:
    client = start()
    assert client.get("/plain/attribute", params={"path": path}).text == "refused"


def test_expires_as_a_time_tuple_and_extra_morsel_attributes(
    start: Callable[..., httpx.Client],
) -> None:
    client = start()
    assert (
        "expires=Thu, 01 Jan 1970 00:00:00 GMT"
        in (client.get("/plain/expires-tuple").headers["set-cookie"])
    )
    header = client.get("/plain/extra-kwargs").headers["set-cookie"]
    assert "HttpOnly" in header and "Comment=c" in header


def test_partitioned_cookie_carries_the_flag_on_every_python(
    start: Callable[..., httpx.Client],
) -> None:
    r = start().get("/plain/partitioned")
    assert r.status_code == 200
    attributes = [part.strip() for part in r.headers["set-cookie"].split(";")]
    assert attributes[0] == "chips=1"
    assert {"Partitioned", "Secure", "SameSite=None", "Path=/"} <= set(attributes[1:])


def test_a_misspelt_attribute_is_refused_and_leaves_no_cookie_behind(
    start: Callable[..., httpx.Client],
) -> None:
    r = start().get("/plain/misspelt-attribute")
    assert r.status_code == 200
    assert "partitionned" in r.text
    assert "set-cookie" not in r.headers


class RefusedAsTornado(RequestHandler):
    def get(self) -> None:
        # Tornado raises http.cookies.CookieError for a bad name or attribute; code ported
        # from it catches that, and squall's ValueError contract still holds.
        caught = []
        for kwargs in (
            {"name": "a;b"},
            {"name": "a\x00b"},
            {"domain": "example;.com"},
            {"path": "/\r\nX: 1"},
            {"DoMaIn": "x;y"},
        ):
            args = {"name": "n", "value": "v", **kwargs}
            try:
                self.set_cookie(**args)
            except http.cookies.CookieError as exc:
                assert isinstance(exc, ValueError)
                caught.append(str(exc).split("=")[0])
        self.write({"caught": caught})


def test_bad_cookie_name_or_attribute_raises_cookie_error_as_tornado(
    squall_live_server: Callable[..., LiveServer],
) -> None:
    server = squall_live_server(Application([(r"/", RefusedAsTornado)]))
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert r.json()["caught"] == [
        "Invalid cookie attribute name",
        "Invalid cookie attribute name",
        "Invalid cookie attribute domain",
        "Invalid cookie attribute path",
        "Invalid cookie attribute DoMaIn",
    ]
    assert "set-cookie" not in r.headers


class BadExpires(RequestHandler):
    def get(self) -> None:
        try:
            self.set_cookie("n", "v", expires="tomorrow")  # type: ignore[arg-type]
        except TypeError as exc:
            self.write(f"TypeError: {exc}")


def test_set_cookie_with_an_expires_of_the_wrong_type_raises_type_error(
    squall_live_server: Callable[..., LiveServer],
) -> None:
    server = squall_live_server(Application([(r"/", BadExpires)]))
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert r.text == (
        "TypeError: cookie expires must be a timestamp, a time tuple or a datetime, got 'tomorrow'"
    )


class EmptyName(RequestHandler):
    def get(self) -> None:
        try:
            self.set_cookie("", "v")
        except ValueError as exc:
            self.write(str(exc))


def test_an_empty_cookie_name_is_refused_as_empty(
    squall_live_server: Callable[..., LiveServer],
) -> None:
    server = squall_live_server(Application([(r"/", EmptyName)]))
    r = httpx.get(server.url + "/")
    assert r.text.endswith("empty names are refused") and "set-cookie" not in r.headers
