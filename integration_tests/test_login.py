"""examples/login.py: a signed-cookie login with XSRF-protected forms, over real HTTP.

Statements checked: ``@authenticated`` sends a visitor to ``/login?next=...``; the form's
token lets the login through and the signed ``user`` cookie opens ``/``; logging out
closes it; a wrong password, a missing token and a cross-site post are refused with a
reason; ``next`` never leads off the site; forged or foreign-signed cookies are nobody.
"""

from __future__ import annotations

import re

import httpx
import pytest

from squall.web import create_signed_value

SECRET = "integration-test-secret-0123456789"


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("login.py", env={"LOGIN_COOKIE_SECRET": SECRET}) as srv:
        yield srv


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def token_of(page: str) -> str:
    m = re.search(r'name="_xsrf" value="([^"]+)"', page)
    assert m is not None, page
    return m.group(1)


def log_in(client: httpx.Client, next_url: str | None = None, password: str = "wonderland"):
    params = {"next": next_url} if next_url is not None else {}
    token = token_of(client.get("/login", params=params).text)
    data = {"_xsrf": token, "name": "ann", "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


def test_the_example_prints_its_url(server):
    # The port accepts as soon as listen() returns, a moment before the print: wait for it.
    server.wait_stdout(f"serving on http://127.0.0.1:{server.port}/")


def test_a_visitor_is_sent_to_the_login_page_with_next(client):
    r = client.get("/")
    assert (r.status_code, r.headers["location"]) == (302, "/login?next=%2F")


def test_log_in_see_the_page_log_out(client):
    r = log_in(client, "/")
    assert (r.status_code, r.headers["location"]) == (302, "/")
    assert "HttpOnly" in r.headers["set-cookie"]
    page = client.get("/")
    assert page.status_code == 200
    assert "Hello, ann!" in page.text
    r = client.post("/logout", data={"_xsrf": token_of(page.text)})
    assert (r.status_code, r.headers["location"]) == (302, "/login")
    assert client.get("/").status_code == 302


def test_wrong_password_is_403_with_a_reason(client):
    r = log_in(client, password="guess")
    assert (r.status_code, r.reason_phrase) == (403, "Wrong name or password")
    assert "user" not in client.cookies


def test_login_post_without_the_token_is_refused(client):
    client.get("/login")
    r = client.post("/login", data={"name": "ann", "password": "wonderland"})
    assert (r.status_code, r.reason_phrase) == (403, "'_xsrf' argument missing from POST")


def test_cross_site_login_post_is_refused_even_with_the_token(client):
    token = token_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"_xsrf": token, "name": "ann", "password": "wonderland"},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    )
    assert (r.status_code, r.reason_phrase) == (403, "Cross-site POST refused")


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_next_pointing_off_the_site_is_replaced_by_the_home_page(client, next_url):
    r = log_in(client, next_url)
    assert (r.status_code, r.headers["location"]) == (302, "/")


def test_next_on_the_site_is_followed(client):
    r = log_in(client, "/?tab=2")
    assert r.headers["location"] == "/?tab=2"


@pytest.mark.parametrize(
    "cookie",
    [
        "ann",  # unsigned
        create_signed_value("guessed-secret", "user", "ann").decode(),  # another secret
        create_signed_value(SECRET, "session", "ann").decode(),  # another cookie's value
    ],
    ids=["unsigned", "other-secret", "other-name"],
)
def test_forged_session_cookies_are_nobody(server, cookie):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        r = c.get("/", headers={"Cookie": f'user="{cookie}"'})
    assert r.status_code == 302


def test_a_cookie_signed_with_the_apps_secret_is_a_session(server):
    # The format is Tornado's: a Tornado app with the same secret would have made this one.
    value = create_signed_value(SECRET, "user", "ann").decode()
    with httpx.Client(base_url=server.url, timeout=10) as c:
        r = c.get("/", headers={"Cookie": f'user="{value}"'})
    assert "Hello, ann!" in r.text
