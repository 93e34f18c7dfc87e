"""重定向: ``self.redirect("/")`` answers with a redirect to the given URL.

Statements checked: ``redirect("/")`` → 302 Found with ``Location: /`` and the browser
lands on the page (跳转页面); ``permanent=True`` → 301.
"""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("redirect.py") as srv:
        yield srv


def test_redirect_is_302_to_the_location(server, raw):
    r = raw.request(server.port, "GET", "/chongdingxiang")
    assert r.status_line == "HTTP/1.1 302 Found"
    assert r.header("Location") == "/"


def test_following_the_redirect_lands_on_the_page(server):
    r = httpx.get(server.url + "/chongdingxiang", follow_redirects=True)
    assert r.status_code == 200
    assert r.text == "hello word"
    assert [h.status_code for h in r.history] == [302]
    assert str(r.url) == server.url + "/"


def test_permanent_redirect_is_301(server, raw):
    r = raw.request(server.port, "GET", "/permanent")
    assert r.status_line == "HTTP/1.1 301 Moved Permanently"
    assert r.header("Location") == "/"
