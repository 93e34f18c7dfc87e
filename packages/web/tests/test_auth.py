"""``@authenticated`` and ``get_login_url`` over real HTTP (Tornado's redirect rules)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from squall.web import Application, RequestHandler, authenticated


class Base(RequestHandler):
    def get_current_user(self) -> str | None:
        return self.get_cookie("user")


class Private(Base):
    @authenticated
    def get(self) -> None:
        self.write(f"hello {self.current_user}")

    @authenticated
    def post(self) -> None:
        self.write("posted")

    delete = put = post


class AsyncPrivate(Base):
    @authenticated
    async def get(self) -> None:
        self.write(f"async hello {self.current_user}")


class PerRequestLogin(Private):
    def get_login_url(self) -> str:
        return "/other-login"


class CachedUser(RequestHandler):
    """Tornado's older idiom: current_user overridden, computed once into _current_user."""

    @property
    def current_user(self) -> Any:
        if not hasattr(self, "_current_user"):
            self._current_user = self.get_cookie("user")
        return self._current_user

    @authenticated
    def get(self) -> None:
        self.write(f"cached hello {self.current_user}")


class NotYetComputed(RequestHandler):
    def get(self) -> None:
        before = hasattr(self, "_current_user")
        user = self.current_user
        self.write(f"{before} {hasattr(self, '_current_user')} {user}")


def make_app(**settings: Any) -> Application:
    return Application(
        [
            (r"/private", Private),
            (r"/async", AsyncPrivate),
            (r"/custom", PerRequestLogin),
            (r"/cached", CachedUser),
            (r"/not-yet", NotYetComputed),
        ],
        **settings,
    )


@pytest.fixture
def start(squall_live_server: Any) -> Iterator[Callable[..., httpx.Client]]:
    clients: list[httpx.Client] = []

    def start(**settings: Any) -> httpx.Client:
        client = httpx.Client(base_url=squall_live_server(make_app(**settings)).url, timeout=10)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


def test_logged_in_user_gets_the_page(start: Callable[..., httpx.Client]) -> None:
    client = start(login_url="/login")
    client.cookies.set("user", "ann")
    assert client.get("/private").text == "hello ann"
    assert client.get("/async").text == "async hello ann"
    assert client.post("/private").text == "posted"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_without_a_user_redirects_with_next_urlencoded(
    start: Callable[..., httpx.Client], method: str
) -> None:
    client = start(login_url="/login")
    r = client.request(method, "/private?tab=1&x=a b")
    assert r.status_code == 302
    location = r.headers["location"]
    assert location == "/login?next=%2Fprivate%3Ftab%3D1%26x%3Da%2520b"
    assert parse_qs(urlsplit(location).query) == {"next": ["/private?tab=1&x=a%20b"]}


def test_async_method_redirects_too(start: Callable[..., httpx.Client]) -> None:
    client = start(login_url="/login")
    assert client.get("/async").headers["location"] == "/login?next=%2Fasync"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_without_a_user_are_403(
    start: Callable[..., httpx.Client], method: str
) -> None:
    client = start(login_url="/login")
    r = client.request(method, "/private")
    assert (r.status_code, r.reason_phrase) == (403, "Login required")
    assert "location" not in r.headers


def test_login_url_with_a_query_is_used_as_is(start: Callable[..., httpx.Client]) -> None:
    client = start(login_url="/login?service=x")
    assert client.get("/private?a=1").headers["location"] == "/login?service=x"


def test_absolute_login_url_gets_an_absolute_next(start: Callable[..., httpx.Client]) -> None:
    client = start(login_url="https://login.example.com/signin")
    r = client.get("/private?a=1")
    location = urlsplit(r.headers["location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "login.example.com",
        "/signin",
    )
    host = urlsplit(str(client.base_url)).netloc
    assert parse_qs(location.query) == {"next": [f"http://{host}/private?a=1"]}


def test_get_login_url_may_be_overridden(start: Callable[..., httpx.Client]) -> None:
    client = start()
    assert client.get("/custom").headers["location"] == "/other-login?next=%2Fcustom"


def test_missing_login_url_is_a_clear_error(start: Callable[..., httpx.Client]) -> None:
    client = start(serve_traceback=True)
    r = client.get("/private")
    assert r.status_code == 500
    assert "MissingSettingError" in r.text
    assert "the &#x27;login_url&#x27; setting is required to use @authenticated" in r.text


def test_current_user_computed_with_the_hasattr_idiom_is_checked(
    start: Callable[..., httpx.Client],
) -> None:
    # Handlers written for Tornado override current_user and compute it when
    # hasattr(self, "_current_user") is False; it must be False until then.
    client = start(login_url="/login")
    r = client.get("/cached")
    assert r.status_code == 302
    assert r.headers["location"] == "/login?next=%2Fcached"
    client.cookies.set("user", "ann")
    assert client.get("/cached").text == "cached hello ann"


def test_current_user_is_unset_until_first_read(start: Callable[..., httpx.Client]) -> None:
    assert start().get("/not-yet").text == "False True None"
