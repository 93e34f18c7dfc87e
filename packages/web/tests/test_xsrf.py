"""XSRF tokens and the cross-origin check over real HTTP, cookies carried by httpx."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from squall.web import Application, RequestHandler, stream_request_body
from squall.web._signing import decode_xsrf_token
from squall.web.testing import LiveServer

calls: list[str] = []


class Form(RequestHandler):
    def prepare(self) -> None:
        calls.append(f"prepare {self.request.method}")

    def get(self) -> None:
        self.write(self.xsrf_form_html())

    def post(self) -> None:
        self.write("posted")

    put = patch = delete = post

    def options(self) -> None:
        self.write("options")


class Token(RequestHandler):
    def get(self) -> None:
        first = self.xsrf_token
        self.write({"token": first.decode(), "same_in_one_page": self.xsrf_token is first})


class Exempt(Form):
    def check_xsrf_cookie(self) -> None:
        """An API authenticated another way: no token needed."""


@stream_request_body
class Upload(RequestHandler):
    def prepare(self) -> None:
        calls.append("upload prepare")

    def data_received(self, chunk: bytes) -> None:
        calls.append("upload data")

    def post(self) -> None:
        self.write("uploaded")


def make_app(**settings: Any) -> Application:
    return Application(
        [(r"/form", Form), (r"/token", Token), (r"/exempt", Exempt), (r"/upload", Upload)],
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
    calls.clear()


def form_token(client: httpx.Client) -> str:
    html = client.get("/form").text
    m = re.fullmatch(r'<input type="hidden" name="_xsrf" value="([^"]+)"/>', html)
    assert m is not None, html
    return m.group(1)


def test_without_xsrf_cookies_a_post_needs_no_token(start: Callable[..., httpx.Client]) -> None:
    client = start()
    assert client.post("/form").text == "posted"


def test_post_with_the_form_token_passes(start: Callable[..., httpx.Client]) -> None:
    client = start(xsrf_cookies=True)
    token = form_token(client)
    assert "_xsrf" in client.cookies
    r = client.post("/form", data={"_xsrf": token})
    assert (r.status_code, r.text) == (200, "posted")


@pytest.mark.parametrize("header", ["X-XSRFToken", "X-CSRFToken"])
def test_token_in_a_header_passes(start: Callable[..., httpx.Client], header: str) -> None:
    client = start(xsrf_cookies=True)
    token = form_token(client)
    assert client.put("/form", headers={header: token}).text == "posted"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_missing_token_is_403_before_prepare_naming_the_method(
    start: Callable[..., httpx.Client], method: str
) -> None:
    client = start(xsrf_cookies=True)
    form_token(client)
    calls.clear()
    r = client.request(method, "/form")
    assert r.status_code == 403
    assert r.reason_phrase == f"'_xsrf' argument missing from {method}"
    assert calls == []  # refused before prepare()


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_are_not_checked(start: Callable[..., httpx.Client], method: str) -> None:
    client = start(xsrf_cookies=True)
    assert client.request(method, "/form").status_code == 200


def test_wrong_token_is_403_saying_it_does_not_match(start: Callable[..., httpx.Client]) -> None:
    client = start(xsrf_cookies=True)
    form_token(client)
    other = start(xsrf_cookies=True)
    r = client.post("/form", data={"_xsrf": form_token(other)})
    assert (r.status_code, r.reason_phrase) == (403, "XSRF cookie does not match POST argument")


def test_malformed_token_is_403_saying_so(start: Callable[..., httpx.Client]) -> None:
    client = start(xsrf_cookies=True)
    form_token(client)
    r = client.post("/form", data={"_xsrf": "2|zz|zz|1"})
    assert (r.status_code, r.reason_phrase) == (403, "'_xsrf' argument has invalid format in POST")


def test_each_page_has_a_fresh_mask_and_every_one_is_valid(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(xsrf_cookies=True)
    tokens = [form_token(client) for _ in range(3)]
    assert len(set(tokens)) == 3
    raws = {decode_xsrf_token(t)[1] for t in tokens}  # type: ignore[index]
    assert len(raws) == 1
    for token in tokens:
        assert client.post("/form", data={"_xsrf": token}).text == "posted"


def test_the_cookie_is_set_once_and_its_own_value_is_a_valid_token(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(xsrf_cookies=True)
    first = client.get("/form")
    assert "_xsrf=2|" in first.headers["set-cookie"]
    second = client.get("/form")
    assert "set-cookie" not in second.headers  # the cookie is kept, not replaced
    cookie = client.cookies["_xsrf"]
    assert client.post("/form", data={"_xsrf": cookie}).text == "posted"


def test_token_is_computed_once_per_request(start: Callable[..., httpx.Client]) -> None:
    client = start(xsrf_cookies=True)
    assert client.get("/token").json()["same_in_one_page"] is True


def test_v1_cookie_version_writes_the_unmasked_hex_token(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(xsrf_cookies=True, xsrf_cookie_version=1)
    token = client.get("/token").json()["token"]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert client.cookies["_xsrf"] == token
    assert client.post("/form", data={"_xsrf": token}).text == "posted"


def test_v1_token_against_a_v2_cookie_is_accepted(start: Callable[..., httpx.Client]) -> None:
    client = start(xsrf_cookies=True)
    token = form_token(client)
    decoded = decode_xsrf_token(token)
    assert decoded is not None
    assert client.post("/form", data={"_xsrf": decoded[1].hex()}).text == "posted"


def test_xsrf_cookie_kwargs_and_name(start: Callable[..., httpx.Client]) -> None:
    client = start(
        xsrf_cookies=True,
        xsrf_cookie_name="csrf",
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Strict"},
    )
    header = client.get("/form").headers["set-cookie"]
    assert header.startswith("csrf=2|")
    assert "HttpOnly" in header and "SameSite=Strict" in header
    token = client.cookies["csrf"]
    assert client.post("/form", data={"_xsrf": token}).text == "posted"


def test_a_handler_may_override_check_xsrf_cookie(start: Callable[..., httpx.Client]) -> None:
    client = start(xsrf_cookies=True)
    assert client.post("/exempt").text == "posted"


def test_streamed_upload_is_checked_before_prepare_and_before_its_body(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(xsrf_cookies=True)
    token = form_token(client)
    calls.clear()
    r = client.post("/upload", content=b"x" * 100_000)
    assert (r.status_code, r.reason_phrase) == (403, "'_xsrf' argument missing from POST")
    assert calls == []
    r = client.post("/upload", content=b"x" * 100_000, headers={"X-XSRFToken": token})
    assert r.text == "uploaded"
    assert calls[0] == "upload prepare" and "upload data" in calls


def test_post_to_an_unknown_path_is_still_404(start: Callable[..., httpx.Client]) -> None:
    client = start(xsrf_cookies=True)
    assert client.post("/nowhere").status_code == 404


# -- cross-origin protection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({}, 200, "OK"),  # no browser headers: not a browser
        ({"Sec-Fetch-Site": "same-origin"}, 200, "OK"),
        ({"Sec-Fetch-Site": "none"}, 200, "OK"),
        ({"Sec-Fetch-Site": "cross-site"}, 403, "Cross-site POST refused"),
        ({"Sec-Fetch-Site": "same-site"}, 403, "Cross-site POST refused"),
        (
            {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
            403,
            "Cross-site POST refused",
        ),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "https://partner.example"}, 200, "OK"),
        ({"Origin": "https://evil.example"}, 403, "Cross-origin POST refused"),
        ({"Origin": "null"}, 403, "Cross-origin POST refused"),
        ({"Origin": "https://partner.example"}, 200, "OK"),
        # Origins urlsplit cannot parse (a ValueError): refused, never a 500.
        ({"Origin": "http://[::1"}, 403, "Cross-origin POST refused"),
        ({"Origin": "http://[not-an-ip]"}, 403, "Cross-origin POST refused"),
    ],
)
def test_cross_origin_protection(
    start: Callable[..., httpx.Client], headers: dict[str, str], status: int, reason: str
) -> None:
    client = start(cross_origin_protection=True, trusted_origins=["https://partner.example"])
    calls.clear()
    r = client.post("/form", headers=headers)
    assert (r.status_code, r.reason_phrase) == (status, reason)
    assert (calls == []) is (status == 403)


def test_origin_matching_the_host_passes(start: Callable[..., httpx.Client]) -> None:
    client = start(cross_origin_protection=True)
    origin = str(client.base_url).rstrip("/")
    assert client.post("/form", headers={"Origin": origin}).text == "posted"


def test_cross_origin_protection_does_not_touch_safe_methods(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(cross_origin_protection=True)
    assert client.get("/form", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_cross_site_post_with_a_valid_token_is_still_refused(
    start: Callable[..., httpx.Client],
) -> None:
    client = start(xsrf_cookies=True, cross_origin_protection=True)
    token = form_token(client)
    assert client.post("/form", data={"_xsrf": token}).text == "posted"
    r = client.post("/form", data={"_xsrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert (r.status_code, r.reason_phrase) == (403, "Cross-site POST refused")


def test_nothing_is_installed_per_request_when_both_are_off() -> None:
    assert make_app()._before_hooks == ()
    assert len(make_app(xsrf_cookies=True)._before_hooks) == 1
    assert len(make_app(cross_origin_protection=True)._before_hooks) == 1
