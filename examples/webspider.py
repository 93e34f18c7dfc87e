"""The web spider of Tornado's guide (the queues page), in squall form.

Crawls every page under a base URL with ``concurrency`` workers fed by a
``squall.loop.queues.Queue``, fetching with ``squall.httpclient.AsyncHTTPClient``::

    python examples/webspider.py http://127.0.0.1:8000/docs/

Needs squall-loop and squall-httpclient (``uv pip install ./packages/httpclient``).
The changes from the guide: the imports, and the base URL taken from the command line.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

from squall import httpclient
from squall.loop import IOLoop, gen, queues

base_url = "http://127.0.0.1:8000/"
concurrency = 10


async def get_links_from_url(url: str) -> list[str]:
    """Download the page at `url` and parse it for links.

    Returned links have had the fragment after `#` removed, and have been made
    absolute so, e.g. the URL 'gen.html#tornado.gen.coroutine' becomes
    'http://www.tornadoweb.org/en/stable/gen.html'.
    """
    response = await httpclient.AsyncHTTPClient().fetch(url)
    print(f"fetched {url}")

    html = response.body.decode(errors="ignore")
    return [urljoin(url, remove_fragment(new_url)) for new_url in get_links(html)]


def remove_fragment(url: str) -> str:
    pure_url, frag = urldefrag(url)
    return pure_url


def get_links(html: str) -> list[str]:
    class URLSeeker(HTMLParser):
        def __init__(self) -> None:
            HTMLParser.__init__(self)
            self.urls: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            href = dict(attrs).get("href")
            if href and tag == "a":
                self.urls.append(href)

    url_seeker = URLSeeker()
    url_seeker.feed(html)
    return url_seeker.urls


async def main() -> None:
    q: queues.Queue[str | None] = queues.Queue()
    start = time.time()
    fetching, fetched, dead = set(), set(), set()

    async def fetch_url(current_url: str) -> None:
        if current_url in fetching:
            return

        print(f"fetching {current_url}")
        fetching.add(current_url)
        urls = await get_links_from_url(current_url)
        fetched.add(current_url)

        for new_url in urls:
            # Only follow links beneath the base URL
            if new_url.startswith(base_url):
                await q.put(new_url)

    async def worker() -> None:
        async for url in q:
            if url is None:
                return
            try:
                await fetch_url(url)
            except Exception as e:
                print(f"Exception: {e} {url}")
                dead.add(url)
            finally:
                q.task_done()

    await q.put(base_url)

    # Start workers, then wait for the work queue to be empty.
    workers = gen.multi([worker() for _ in range(concurrency)])
    await q.join(timeout=timedelta(seconds=300))
    assert fetching == (fetched | dead)
    print(f"Done in {time.time() - start:.0f} seconds, fetched {len(fetched)} URLs.")
    print(f"Unable to fetch {len(dead)} URLs.")

    # Signal all the workers to exit.
    for _ in range(concurrency):
        await q.put(None)
    await workers


if __name__ == "__main__":
    if len(sys.argv) > 1:
        base_url = sys.argv[1]
    io_loop = IOLoop.current()
    io_loop.run_sync(main)
