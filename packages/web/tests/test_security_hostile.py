"""Hostile requests against signed cookies and XSRF, as one table, over real HTTP.

Each row plays an attacker (or, for the control rows, an honest client) against one
application with a rotated ``cookie_secret``, ``xsrf_cookies`` and
``cross_origin_protection`` on. Every row starts from a fresh httpx client (its own cookie
jar); an honest session is opened where the attack needs one.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import httpx
import pytest

from squall.web import Application, RequestHandler, create_signed_value
from squall.web._signing import encode_xsrf_token, new_xsrf_token
from squall.web.testing import LiveServer

SECRETS = {1: "first-secret-abcdef", 2: "second-secret-ghijkl"}
DAY = 86400


class Login(RequestHandler):
    def get(self) -> None:
        self.set_signed_cookie("session", self.get_argument("user"))
        self.write(self.xsrf_form_html())


class Whoami(RequestHandler):
    def get(self) -> None:
        user = self.get_signed_cookie("session")
        self.write("anonymous" if user is None else user.decode())


class Transfer(RequestHandler):
    def post(self) -> None:
        self.write("transferred")


class EchoCookie(RequestHandler):
    def get(self) -> None:
        try:
            self.set_cookie("note", self.get_argument("v"))
        except ValueError:
            self.set_status(400, "Cookie value refused")
            return
        self.write("set")


class SignedEcho(RequestHandler):
    def get(self) -> None:
        self.set_signed_cookie("note", self.get_argument("v"))

    def post(self) -> None:
        value = self.get_signed_cookie("note")
        self.write(repr(value))


def make_app() -> Application:
    return Application(
        [
            (r"/login", Login),
            (r"/whoami", Whoami),
            (r"/transfer", Transfer),
            (r"/echo", EchoCookie),
            (r"/signed-echo", SignedEcho),
        ],
        cookie_secret=SECRETS,
        key_version=2,
        xsrf_cookies=True,
        cross_origin_protection=True,
    )


class Env(NamedTuple):
    url: str
    new_client: Callable[[], httpx.Client]


def session(env: Env, user: str = "alice") -> tuple[httpx.Client, str]:
    """An honest client logged in as ``user``, and the token of its login page."""
    client = env.new_client()
    html = client.get("/login", params={"user": user}).text
    token = html.split('value="')[1].split('"')[0]
    return client, token


def raw_session_cookie(client: httpx.Client) -> str:
    return client.cookies["session"].strip('"')


def replace_payload(signed: str, new_payload: bytes) -> str:
    """Swap the base64 value field of a v2 signed value, keeping the old signature."""
    parts = signed.split("|")
    encoded = base64.b64encode(new_payload).decode()
    parts[4] = f"{len(encoded)}:{encoded}"
    return "|".join(parts)


def whoami(env: Env, cookie: str) -> httpx.Response:
    with env.new_client() as client:
        return client.get("/whoami", headers={"Cookie": f"session={cookie}"})


# -- the rows --------------------------------------------------------------------------------


def honest_session(env: Env) -> httpx.Response:
    client, _ = session(env)
    return client.get("/whoami")


def tampered_value(env: Env) -> httpx.Response:
    client, _ = session(env)
    return whoami(env, replace_payload(raw_session_cookie(client), b"admin"))


def tampered_signature(env: Env) -> httpx.Response:
    client, _ = session(env)
    value = raw_session_cookie(client)
    last = "0" if value[-1] != "0" else "1"
    return whoami(env, value[:-1] + last)


def replayed_expired_cookie(env: Env) -> httpx.Response:
    # A cookie captured 40 days ago (signed then, with the current key) and replayed now.
    then = time.time() - 40 * DAY
    old = create_signed_value(SECRETS, "session", "alice", key_version=2, clock=lambda: then)
    return whoami(env, old.decode())


def cookie_of_another_name(env: Env) -> httpx.Response:
    # A value the application signed for another cookie, moved into "session".
    value = create_signed_value(SECRETS, "note", "admin", key_version=2)
    return whoami(env, value.decode())


def unknown_key_version(env: Env) -> httpx.Response:
    forged = create_signed_value({9: "guessed"}, "session", "admin", key_version=9)
    return whoami(env, forged.decode())


def retired_key_relabelled(env: Env) -> httpx.Response:
    # Signed with key 1 but labelled as key 2: the label picks the key, so it fails.
    value = create_signed_value(SECRETS, "session", "admin", key_version=1).decode()
    return whoami(env, value.replace("2|1:1|", "2|1:2|", 1))


def honest_post(env: Env) -> httpx.Response:
    client, token = session(env)
    return client.post("/transfer", data={"_xsrf": token})


def missing_token(env: Env) -> httpx.Response:
    client, _ = session(env)
    return client.post("/transfer")


def token_from_another_session(env: Env) -> httpx.Response:
    _, attacker_token = session(env, "mallory")
    victim, _ = session(env, "alice")
    return victim.post("/transfer", data={"_xsrf": attacker_token})


def masked_token_from_another_cookie(env: Env) -> httpx.Response:
    victim, _ = session(env)
    forged = encode_xsrf_token(new_xsrf_token(), time.time()).decode()
    return victim.post("/transfer", data={"_xsrf": forged})


def wrong_token_via_header(env: Env) -> httpx.Response:
    victim, _ = session(env)
    forged = encode_xsrf_token(new_xsrf_token(), time.time()).decode()
    return victim.post("/transfer", headers={"X-XSRFToken": forged})


def token_without_its_cookie(env: Env) -> httpx.Response:
    # The token is right, but the victim's browser never had the matching cookie.
    _, token = session(env, "mallory")
    with env.new_client() as client:
        return client.post("/transfer", data={"_xsrf": token})


def cross_site_post_with_stolen_pair(env: Env) -> httpx.Response:
    victim, token = session(env)
    return victim.post(
        "/transfer",
        data={"_xsrf": token},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    )


def header_injection_through_a_cookie_value(env: Env) -> httpx.Response:
    with env.new_client() as client:
        return client.get("/echo", params={"v": "x\r\nSet-Cookie: admin=1"})


def attribute_injection_through_a_cookie_value(env: Env) -> httpx.Response:
    with env.new_client() as client:
        return client.get("/echo", params={"v": "x; Domain=evil.example"})


def injection_through_a_signed_cookie_is_inert(env: Env) -> httpx.Response:
    # A signed value is base64 inside: any bytes are carried, none reach the header.
    client, token = session(env)
    evil = "x\r\nSet-Cookie: admin=1; Domain=evil.example"
    r = client.get("/signed-echo", params={"v": evil})
    assert len(r.headers.get_list("set-cookie")) == 1
    assert "admin" not in r.headers["set-cookie"]
    return client.post("/signed-echo", data={"_xsrf": token})


# Python's int() refuses more than 4,300 digits (a ValueError): numbers a client puts in a
# signed cookie or an XSRF token must read as invalid, not escape as a 500.
_HUGE = "9" * 5000


def oversized_numbers_in_a_signed_cookie(env: Env) -> httpx.Response:
    return whoami(env, f"2|{_HUGE}:0|")


def oversized_version_of_a_signed_cookie(env: Env) -> httpx.Response:
    return whoami(env, f"{_HUGE}|x")


def oversized_timestamp_in_an_xsrf_token(env: Env) -> httpx.Response:
    client, _ = session(env)
    return client.post("/transfer", data={"_xsrf": f"2|00000000|00|{_HUGE}"})


def oversized_timestamp_in_the_xsrf_cookie(env: Env) -> httpx.Response:
    # The page still gets a form: a fresh token replaces the unreadable cookie.
    with env.new_client() as client:
        cookie = f"_xsrf=2|00000000|00|{_HUGE}"
        return client.get("/login", params={"user": "bob"}, headers={"Cookie": cookie})


class Row(NamedTuple):
    attack: Callable[[Env], httpx.Response]
    status: int
    reason: str
    body: str | None


TABLE = [
    Row(honest_session, 200, "OK", "alice"),
    Row(tampered_value, 200, "OK", "anonymous"),
    Row(tampered_signature, 200, "OK", "anonymous"),
    Row(replayed_expired_cookie, 200, "OK", "anonymous"),
    Row(cookie_of_another_name, 200, "OK", "anonymous"),
    Row(unknown_key_version, 200, "OK", "anonymous"),
    Row(retired_key_relabelled, 200, "OK", "anonymous"),
    Row(honest_post, 200, "OK", "transferred"),
    Row(missing_token, 403, "'_xsrf' argument missing from POST", None),
    Row(token_from_another_session, 403, "XSRF cookie does not match POST argument", None),
    Row(masked_token_from_another_cookie, 403, "XSRF cookie does not match POST argument", None),
    Row(wrong_token_via_header, 403, "XSRF cookie does not match POST argument", None),
    Row(token_without_its_cookie, 403, "XSRF cookie does not match POST argument", None),
    Row(cross_site_post_with_stolen_pair, 403, "Cross-site POST refused", None),
    Row(header_injection_through_a_cookie_value, 400, "Cookie value refused", None),
    Row(attribute_injection_through_a_cookie_value, 400, "Cookie value refused", None),
    Row(
        injection_through_a_signed_cookie_is_inert,
        200,
        "OK",
        repr(b"x\r\nSet-Cookie: admin=1; Domain=evil.example"),
    ),
    Row(oversized_numbers_in_a_signed_cookie, 200, "OK", "anonymous"),
    Row(oversized_version_of_a_signed_cookie, 200, "OK", "anonymous"),
    Row(
        oversized_timestamp_in_an_xsrf_token,
        403,
        "'_xsrf' argument has invalid format in POST",
        None,
    ),
    Row(oversized_timestamp_in_the_xsrf_cookie, 200, "OK", None),
]


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    server = LiveServer(make_app()).start()
    clients: list[httpx.Client] = []

    def new_client() -> httpx.Client:
        client = httpx.Client(base_url=server.url, timeout=10)
        clients.append(client)
        return client

    try:
        yield Env(server.url, new_client)
    finally:
        for client in clients:
            client.close()
        server.stop()


@pytest.mark.parametrize("row", TABLE, ids=[row.attack.__name__ for row in TABLE])
def test_hostile_request(env: Env, row: Row) -> None:
    r = row.attack(env)
    assert (r.status_code, r.reason_phrase) == (row.status, row.reason)
    if row.body is not None:
        assert r.text == row.body
    if row.status >= 400:
        assert "admin" not in str(r.headers.get_list("set-cookie"))
        assert r.text != "transferred"


def test_every_attack_reads_as_nothing_or_is_refused_and_none_raises_on_the_server(
    env: Env, caplog: Any
) -> None:
    for row in TABLE:
        row.attack(env)
    assert not [r for r in caplog.records if r.exc_info]
