"""The coroutine patterns of Tornado's guide (the async and coroutines pages), in squall form.

Run: python examples/coroutines.py [--port=8000]

Each page shows one pattern, fetching the ``/item/N`` pages of this same server (a local
stand-in for the guide's remote URLs) with ``squall.httpclient.AsyncHTTPClient``:

- ``/native``      ``async def`` and ``await`` (the guide's recommended form)
- ``/decorated``   the older ``@gen.coroutine`` generator form, ``yield`` and ``gen.Return``
- ``/parallel``    ``await multi([...])`` and ``await multi({...})``: fetches in parallel
                   (the fetched pages wait for each other with a ``locks.Condition``)
- ``/interleave``  start a fetch, do other work, then wait for it (``gen.convert_yielded``)
- ``/executor``    a blocking function run by ``IOLoop.run_in_executor`` and one decorated
                   with ``@run_on_executor``
- ``/background``  a task started with ``spawn_callback`` that ticks with ``gen.sleep``

Needs squall-loop, squall-web and squall-httpclient. The changes from the guide: the
imports, and URLs of this server instead of remote ones.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime
import hashlib
import time
import uuid
from collections.abc import Generator
from typing import Any

import squall.web
from squall.httpclient import AsyncHTTPClient
from squall.loop import IOLoop, gen
from squall.loop.concurrent import run_on_executor
from squall.loop.gen import multi
from squall.loop.locks import Condition

# /item/N?group=G&size=K answers only once K requests of group G have arrived: fetched one
# after the other they would wait forever (a 504 after 10 s), so an answer proves that
# multi() had them all in flight at once.
arrived: collections.Counter[str] = collections.Counter()
arrival = Condition()


class ItemHandler(squall.web.RequestHandler):
    """The pages the other handlers fetch: "item N"."""

    async def get(self, n: str) -> None:
        group, size = self.get_argument("group", ""), int(self.get_argument("size", "0"))
        arrived[group] += 1
        arrival.notify_all()
        while arrived[group] < size:
            if not await arrival.wait(timeout=datetime.timedelta(seconds=10)):
                raise squall.web.HTTPError(504, "the group never arrived whole")
        await gen.sleep(0.01)
        self.write(f"item {n}")


class BaseFetch(squall.web.RequestHandler):
    def url(self, n: int, group: str = "", size: int = 0) -> str:
        base = f"http://127.0.0.1:{self.application.settings['port']}/item/{n}"
        return f"{base}?group={group}&size={size}" if group else base


class NativeHandler(BaseFetch):
    async def get(self) -> None:
        response = await AsyncHTTPClient().fetch(self.url(1))
        self.write(response.body)


@gen.coroutine
def fetch_body(url: str) -> Generator[Any, Any, None]:
    """The guide's decorated coroutine: yield a Future, return with gen.Return."""
    http_client = AsyncHTTPClient()
    response = yield http_client.fetch(url)
    raise gen.Return(response.body)


class DecoratedHandler(BaseFetch):
    @gen.coroutine
    def get(self) -> Generator[Any, Any, None]:
        body = yield fetch_body(self.url(2))
        self.write(body)


class ParallelHandler(BaseFetch):
    async def get(self) -> None:
        http_client = AsyncHTTPClient()
        group = uuid.uuid4().hex
        listed = await multi([http_client.fetch(self.url(n, group, 5)) for n in range(1, 6)])
        group = uuid.uuid4().hex
        keyed = await multi(
            {
                "a": http_client.fetch(self.url(10, group, 2)),
                "b": http_client.fetch(self.url(11, group, 2)),
            }
        )
        self.write(
            {
                "list": [r.body.decode() for r in listed],
                "dict": {k: r.body.decode() for k, r in sorted(keyed.items())},
            }
        )


class InterleaveHandler(BaseFetch):
    async def get(self) -> None:
        fetch_future = gen.convert_yielded(AsyncHTTPClient().fetch(self.url(7)))
        other = sum(range(1000))  # other work while the fetch is on its way
        response = await fetch_future
        self.write(f"{response.body.decode()} / {other}")


def blocking_digest(text: str) -> str:
    time.sleep(0.05)  # a blocking call: it must not hold up the loop
    return hashlib.sha256(text.encode()).hexdigest()


class ExecutorHandler(squall.web.RequestHandler):
    executor = concurrent.futures.ThreadPoolExecutor(4)

    @run_on_executor
    def decorated_digest(self, text: str) -> str:
        return blocking_digest(text)

    async def get(self) -> None:
        text = self.get_argument("text", "squall")
        via_loop = await IOLoop.current().run_in_executor(None, blocking_digest, text)
        via_decorator = await self.decorated_digest(text)
        self.write({"run_in_executor": via_loop, "run_on_executor": via_decorator})


ticks: list[float] = []


async def ticker() -> None:
    """Runs in the background (spawn_callback): a tick every 20 ms, forever."""
    while True:
        ticks.append(time.monotonic())
        await gen.sleep(0.02)


class BackgroundHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write({"ticks": len(ticks)})


def make_app(port: int) -> squall.web.Application:
    return squall.web.Application(
        [
            (r"/item/(\d+)", ItemHandler),
            (r"/native", NativeHandler),
            (r"/decorated", DecoratedHandler),
            (r"/parallel", ParallelHandler),
            (r"/interleave", InterleaveHandler),
            (r"/executor", ExecutorHandler),
            (r"/background", BackgroundHandler),
        ],
        port=port,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    make_app(args.port).listen(args.port, "127.0.0.1")
    IOLoop.current().spawn_callback(ticker)
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    IOLoop.current().start()


if __name__ == "__main__":
    main()
