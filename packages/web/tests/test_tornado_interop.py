"""A real Tornado application and a squall one share cookies: users move without logging out.

Both serve on 127.0.0.1 (different ports: cookies ignore ports, so one httpx client carries
the same jar to both, as a browser would during a migration). Tornado is a test dependency.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.web

import squall.web
from squall.web.testing import LiveServer

SECRET = "shared-secret-0123456789abcdef"
KEYS = {3: "key-three-aaaaaaaaaaaa", 4: "key-four-bbbbbbbbbbbbb"}


def _handlers(base: type) -> list[tuple[str, type]]:
    """The same four handlers written once against Tornado's or squall's RequestHandler."""

    class SetCookie(base):  # type: ignore[valid-type, misc]
        def get(self) -> None:
            version = int(self.get_argument("version", "2"))
            self.set_signed_cookie("session", self.get_argument("user"), version=version)

    class GetCookie(base):  # type: ignore[valid-type, misc]
        def get(self) -> None:
            value = self.get_signed_cookie("session")
            key_version = self.get_signed_cookie_key_version("session")
            self.write({"user": value and value.decode(), "key_version": key_version})

    class Form(base):  # type: ignore[valid-type, misc]
        def get(self) -> None:
            self.write(self.xsrf_token)

        def post(self) -> None:
            self.write("posted")

    return [(r"/set", SetCookie), (r"/get", GetCookie), (r"/form", Form)]


class TornadoServer:
    """A Tornado application on its own asyncio loop in a thread."""

    def __init__(self, **settings: Any) -> None:
        self.app = tornado.web.Application(_handlers(tornado.web.RequestHandler), **settings)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def setup() -> None:
            self.server = tornado.httpserver.HTTPServer(self.app)
            self.server.add_sockets([self.sock])

        self.loop.run_until_complete(setup())
        self.ready.set()
        self.loop.run_forever()
        self.server.stop()
        self.loop.run_until_complete(self.server.close_all_connections())
        self.loop.close()

    def __enter__(self) -> TornadoServer:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


Pair = Callable[..., tuple[str, str]]


@pytest.fixture
def pair(squall_live_server: Callable[..., LiveServer]) -> Iterator[Pair]:
    """``pair(**settings)`` → (tornado URL, squall URL), both apps with the same settings."""
    servers: list[TornadoServer] = []

    def start(**settings: Any) -> tuple[str, str]:
        tornado_server = TornadoServer(**settings).__enter__()
        servers.append(tornado_server)
        squall_app = squall.web.Application(_handlers(squall.web.RequestHandler), **settings)
        return tornado_server.url, squall_live_server(squall_app).url

    yield start
    for server in servers:
        server.__exit__()


SECRET_CASES = [
    pytest.param({"cookie_secret": SECRET}, 1, None, id="v1-single-secret"),
    pytest.param({"cookie_secret": SECRET}, 2, 0, id="v2-single-secret"),
    pytest.param({"cookie_secret": KEYS, "key_version": 4}, 2, 4, id="v2-key-dict"),
]


@pytest.mark.parametrize(("settings", "version", "key_version"), SECRET_CASES)
def test_cookie_signed_by_tornado_is_read_by_squall(
    pair: Pair, settings: dict[str, Any], version: int, key_version: int | None
) -> None:
    tornado_url, squall_url = pair(**settings)
    with httpx.Client(timeout=10) as client:
        client.get(f"{tornado_url}/set", params={"user": "ann", "version": str(version)})
        got = client.get(f"{squall_url}/get").json()
    assert got == {"user": "ann", "key_version": key_version}


@pytest.mark.parametrize(("settings", "version", "key_version"), SECRET_CASES)
def test_cookie_signed_by_squall_is_read_by_tornado(
    pair: Pair, settings: dict[str, Any], version: int, key_version: int | None
) -> None:
    tornado_url, squall_url = pair(**settings)
    with httpx.Client(timeout=10) as client:
        client.get(f"{squall_url}/set", params={"user": "bo", "version": str(version)})
        got = client.get(f"{tornado_url}/get").json()
    assert got == {"user": "bo", "key_version": key_version}


def test_module_functions_agree_byte_for_byte() -> None:
    def clock() -> float:
        return 1_600_000_000

    for kwargs in ({"version": 1}, {"version": 2}):
        ours = squall.web.create_signed_value(SECRET, "n", "v", clock=clock, **kwargs)
        theirs = tornado.web.create_signed_value(SECRET, "n", "v", clock=clock, **kwargs)
        assert ours == theirs
    ours = squall.web.create_signed_value(KEYS, "n", "v", clock=clock, key_version=3)
    assert ours == tornado.web.create_signed_value(KEYS, "n", "v", clock=clock, key_version=3)
    assert squall.web.get_signature_key_version(ours) == 3
    assert tornado.web.decode_signed_value(KEYS, "n", ours, clock=clock) == b"v"


@pytest.mark.parametrize("xsrf_cookie_version", [1, 2])
def test_xsrf_token_made_by_tornado_is_accepted_by_squall_and_the_reverse(
    pair: Pair, xsrf_cookie_version: int
) -> None:
    tornado_url, squall_url = pair(xsrf_cookies=True, xsrf_cookie_version=xsrf_cookie_version)
    with httpx.Client(timeout=10) as client:
        tornado_token = client.get(f"{tornado_url}/form").text
        assert "_xsrf" in client.cookies
        r = client.post(f"{squall_url}/form", data={"_xsrf": tornado_token})
        assert (r.status_code, r.text) == (200, "posted")
        # squall reuses Tornado's cookie (no new one) and masks its token afresh.
        r = client.get(f"{squall_url}/form")
        assert "set-cookie" not in r.headers
        r = client.post(f"{tornado_url}/form", headers={"X-XSRFToken": r.text})
        assert (r.status_code, r.text) == (200, "posted")
    with httpx.Client(timeout=10) as client:
        squall_token = client.get(f"{squall_url}/form").text
        r = client.post(f"{tornado_url}/form", data={"_xsrf": squall_token})
        assert (r.status_code, r.text) == (200, "posted")


def test_a_forged_token_is_refused_by_both(pair: Pair) -> None:
    tornado_url, squall_url = pair(xsrf_cookies=True)
    with httpx.Client(timeout=10) as client:
        client.get(f"{tornado_url}/form")
        for url in (tornado_url, squall_url):
            assert client.post(f"{url}/form", data={"_xsrf": "2|00000000|00|1"}).status_code == 403
