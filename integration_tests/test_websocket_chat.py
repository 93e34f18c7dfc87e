"""The WebSocket chat example (websocket_chat.py and its page), driven for real.

Statements checked: the page is served at ``/``; what one client sends (a name and a text)
every connected client receives, the sender included, as JSON ``{"name", "text"}``; plain
text counts as from "anonymous"; a handshake from another origin is refused (403, the
default ``check_origin``); and a real browser (Debian's chromium, headless, driven by
Playwright) uses the page: two tabs see each other's messages in the DOM, and a tab sees
what a plain WebSocket client says.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a browser in a container: no sandbox (root), no GPU, and no background traffic
# to the outside (the machine has no route to it and must not wait for one).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def server(launcher: Any) -> Iterator[Any]:
    with launcher.running_example("websocket_chat.py") as srv:
        yield srv


def _join(server: Any) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}/chat",
        origin=f"http://127.0.0.1:{server.port}",  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    )


def _receive(client: ClientConnection) -> dict[str, Any]:
    data = client.recv(timeout=TIMEOUT)
    assert isinstance(data, str)
    message = json.loads(data)
    assert isinstance(message, dict)
    return message


def test_page_is_served_with_its_script(server: Any) -> None:
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=UTF-8"
    assert "new WebSocket(" in r.text
    assert 'id="name"' in r.text


def test_a_message_reaches_every_client_with_its_name(server: Any) -> None:
    with _join(server) as alice, _join(server) as bob:
        alice.send(json.dumps({"name": "alice", "text": "hello bob"}))
        assert _receive(bob) == {"name": "alice", "text": "hello bob"}
        assert _receive(alice) == {"name": "alice", "text": "hello bob"}
        bob.send(json.dumps({"name": "bob", "text": "hi alice ✓"}))
        assert _receive(alice) == {"name": "bob", "text": "hi alice ✓"}
        assert _receive(bob) == {"name": "bob", "text": "hi alice ✓"}


def test_plain_text_is_from_anonymous(server: Any) -> None:
    with _join(server) as one, _join(server) as two:
        one.send("no JSON here")
        assert _receive(two) == {"name": "anonymous", "text": "no JSON here"}


def test_a_closed_client_no_longer_receives_and_the_others_still_do(server: Any) -> None:
    with _join(server) as stays:
        with _join(server) as leaves:
            leaves.send(json.dumps({"name": "leaves", "text": "bye"}))
            assert _receive(stays)["text"] == "bye"
        stays.send(json.dumps({"name": "stays", "text": "still here"}))
        assert _receive(stays) == {"name": "stays", "text": "still here"}


def test_a_cross_origin_handshake_is_refused(server: Any) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(
            f"ws://127.0.0.1:{server.port}/chat",
            origin="http://evil.example",  # type: ignore[arg-type]
            open_timeout=TIMEOUT,
        )
    assert info.value.response.status_code == 403


# -- a real browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _open_chat(browser: Any, server: Any, name: str) -> Any:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT * 1000)
    page.goto(server.url + "/")
    page.wait_for_function("document.getElementById('status').textContent === 'connected'")
    page.fill("#name", name)
    return page


def _say(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.click("button")


def _lines(page: Any, count: int) -> list[tuple[str, str]]:
    """The first `count` chat lines of the page's DOM, as (name, text)."""
    page.wait_for_function(f"document.querySelectorAll('#log .message').length >= {count}")
    rows = page.eval_on_selector_all(
        "#log .message",
        "els => els.map(e => [e.querySelector('.name').textContent,"
        " e.querySelector('.text').textContent])",
    )
    return [(name, text) for name, text in rows[:count]]


def test_two_browser_tabs_see_each_others_messages(browser: Any, server: Any) -> None:
    ann = _open_chat(browser, server, "ann")
    ben = _open_chat(browser, server, "ben")
    try:
        _say(ann, "hello from ann <b>not bold</b>")
        expected = [("ann", "hello from ann <b>not bold</b>")]
        assert _lines(ben, 1) == expected
        assert _lines(ann, 1) == expected
        _say(ben, "hello back")
        expected.append(("ben", "hello back"))
        assert _lines(ann, 2) == expected
        assert _lines(ben, 2) == expected
        # Text, never markup: the page inserted no <b> element.
        assert ann.locator("#log b").count() == 0
    finally:
        ann.close()
        ben.close()


def test_a_browser_tab_and_a_websocket_client_talk(browser: Any, server: Any) -> None:
    tab = _open_chat(browser, server, "tab")
    try:
        with _join(server) as client:
            client.send(json.dumps({"name": "script", "text": "from a script"}))
            assert _lines(tab, 1) == [("script", "from a script")]
            assert _receive(client) == {"name": "script", "text": "from a script"}
            _say(tab, "from the browser")
            assert _receive(client) == {"name": "tab", "text": "from the browser"}
    finally:
        tab.close()
