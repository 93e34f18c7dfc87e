"""The same requests to a Tornado app and to a squall app, both with compress_response=True:
the same responses are compressed, with the same Content-Encoding and Vary headers."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import tornado.httpserver as tornado_httpserver  # a test dependency only
import tornado.web as tornado_web

from squall.web import Application, RequestHandler

PAGE = "".join(f"<li>entry {i}: some text that repeats</li>\n" for i in range(80))


def page(self: Any) -> None:
    self.write(PAGE)


def tiny(self: Any) -> None:
    self.write("<p>hi</p>")


def just_under(self: Any) -> None:
    self.set_header("Content-Type", "text/plain")
    self.write("a" * 1023)


def at_minimum(self: Any) -> None:
    self.set_header("Content-Type", "text/plain")
    self.write("a" * 1024)


def json_body(self: Any) -> None:
    self.write({"rows": [{"n": i, "label": "row"} for i in range(100)]})


def javascript(self: Any) -> None:
    self.set_header("Content-Type", "application/javascript")
    self.write("console.log('x');\n" * 100)


def svg(self: Any) -> None:
    self.set_header("Content-Type", "image/svg+xml")
    self.write("<svg><rect/></svg>" * 100)


def png(self: Any) -> None:
    self.set_header("Content-Type", "image/png")
    self.write(PAGE)


def varied(self: Any) -> None:
    self.set_header("Vary", "Cookie")
    self.write(PAGE)


def not_found(self: Any) -> None:
    self.send_error(404)


def redirect(self: Any) -> None:
    self.redirect("/page")


async def streamed(self: Any) -> None:
    self.write("tiny")
    await self.flush()
    self.finish(" end")


BODIES: dict[str, Callable[..., Any]] = {
    "page": page,
    "tiny": tiny,
    "just_under": just_under,
    "at_minimum": at_minimum,
    "json": json_body,
    "javascript": javascript,
    "svg": svg,
    "png": png,
    "varied": varied,
    "not_found": not_found,
    "redirect": redirect,
    "streamed": streamed,
}


def rules(base: type) -> list[tuple[str, type]]:
    return [(f"/{name}", type(name, (base,), {"get": fn})) for name, fn in BODIES.items()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tornado_url() -> Iterator[str]:
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            app = tornado_web.Application(rules(tornado_web.RequestHandler), compress_response=True)
            holder["server"] = tornado_httpserver.HTTPServer(app)
            holder["server"].listen(port, "127.0.0.1")
            ready.set()

        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"http://127.0.0.1:{port}"

    async def stop() -> None:
        holder["server"].stop()
        await holder["server"].close_all_connections()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def squall_url(squall_live_server: Any) -> str:
    url: str = squall_live_server(Application(rules(RequestHandler), compress_response=True)).url
    return url


def observe(url: str, accept: str | None, **headers: str) -> dict[str, Any]:
    """What a client can compare: status, the two headers, and the decoded body."""
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        request = client.build_request("GET", url, headers=headers)
        if accept is None:
            del request.headers["Accept-Encoding"]
        else:
            request.headers["Accept-Encoding"] = accept
        r = client.send(request)
        return {
            "status": r.status_code,
            "content-encoding": r.headers.get("Content-Encoding"),
            "vary": r.headers.get("Vary"),
            "body": r.content if r.status_code != 404 else b"",  # pages differ in wording
        }


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate", None, "identity"])
@pytest.mark.parametrize("name", sorted(BODIES))
def test_squall_compresses_what_tornado_compresses(
    tornado_url: str, squall_url: str, name: str, accept: str | None
) -> None:
    theirs = observe(f"{tornado_url}/{name}", accept)
    ours = observe(f"{squall_url}/{name}", accept)
    assert ours == theirs


def test_the_comparison_covers_both_outcomes(tornado_url: str) -> None:
    # the table above must contain compressed and uncompressed answers, or it proves little
    outcomes = {observe(f"{tornado_url}/{n}", "gzip")["content-encoding"] for n in BODIES}
    assert outcomes == {"gzip", None}


def test_a_not_modified_answer_matches_too(tornado_url: str, squall_url: str) -> None:
    answers = []
    for url in (tornado_url, squall_url):
        etag = httpx.get(f"{url}/page", headers={"Accept-Encoding": "gzip"}).headers["Etag"]
        answers.append(observe(f"{url}/page", "gzip", **{"If-None-Match": etag}))
    assert answers[0] == answers[1]
    assert answers[0]["status"] == 304
