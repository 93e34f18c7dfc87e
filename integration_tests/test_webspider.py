"""The web spider of Tornado's guide (queues page): examples/webspider.py crawls a local site.

The site is a squall.web app on 127.0.0.1 (squall.web.testing.LiveServer); the spider runs
as a real process (``python -u examples/webspider.py BASE_URL``), with its ten workers on a
``squall.loop.queues.Queue`` and ``squall.httpclient.AsyncHTTPClient``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import squall.web
from squall.web.testing import LiveServer

ROOT = Path(__file__).resolve().parent.parent

# page -> the hrefs on it. Links leave the base (/elsewhere), carry fragments, are relative
# or absolute, loop back, and one is dead (/docs/missing answers 404).
SITE = {
    "/docs/": ["a.html", "b.html#part", "/docs/b.html", "/elsewhere", "missing"],
    "/docs/a.html": ["/docs/", "c.html", "https://example.invalid/docs/"],
    "/docs/b.html": ["a.html#top"],
    "/docs/c.html": ["a.html", "../elsewhere"],
    "/elsewhere": ["/docs/never-reached.html"],
    "/docs/never-reached.html": [],
}


class Page(squall.web.RequestHandler):
    visits: dict[str, int] = {}
    lock = threading.Lock()  # the live server runs in its own thread

    async def get(self) -> None:
        path = self.request.path
        if path not in SITE:
            raise squall.web.HTTPError(404)
        with Page.lock:
            Page.visits[path] = Page.visits.get(path, 0) + 1
        links = "".join(f'<a href="{href}">link</a>' for href in SITE[path])
        self.write(f"<html><body>{links}</body></html>")


@pytest.fixture
def site() -> Iterator[str]:
    Page.visits = {}
    server = LiveServer(squall.web.Application([(r"/.*", Page)])).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_the_spider_crawls_every_page_under_the_base_once(site: str) -> None:
    base = f"{site}/docs/"
    result = subprocess.run(
        [sys.executable, "-u", str(ROOT / "examples" / "webspider.py"), base],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    fetched = sorted(re.findall(r"^fetched (\S+)$", out, re.M))
    assert fetched == [f"{site}/docs/{p}" for p in ("", "a.html", "b.html", "c.html")]
    assert re.search(r"^Done in \d+ seconds, fetched 4 URLs\.$", out, re.M)
    # the dead link raised HTTPClientError (404) in its worker and was counted
    assert f"Exception: HTTP 404: Not Found {site}/docs/missing" in out
    assert "Unable to fetch 1 URLs." in out
    # each page once (the spider's `fetching` set); nothing outside the base
    assert Page.visits == {
        "/docs/": 1,
        "/docs/a.html": 1,
        "/docs/b.html": 1,
        "/docs/c.html": 1,
    }
