"""AsyncHTTPClient's shared instance, configure(), close(), and the blocking HTTPClient."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from squall.httpclient import (
    AsyncHTTPClient,
    CurlClientUnavailableError,
    HTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
    UnsupportedOptionError,
)
from squall.loop import IOLoop

if TYPE_CHECKING:
    from conftest import Server


@pytest.fixture(autouse=True)
def unconfigured() -> Iterator[None]:
    yield
    AsyncHTTPClient.configure(None)


class Recording(AsyncHTTPClient):
    """A subclass configure() may name."""


# -- one shared client per IOLoop ---------------------------------------------------------


def test_async_http_client_is_shared_per_loop_unless_forced() -> None:
    async def go() -> tuple[AsyncHTTPClient, AsyncHTTPClient, AsyncHTTPClient]:
        forced = AsyncHTTPClient(force_instance=True)
        forced.close()
        return AsyncHTTPClient(), AsyncHTTPClient(), forced

    first, again, forced = asyncio.run(go())
    assert first is again
    assert forced is not first
    other_loop, _, _ = asyncio.run(go())
    assert other_loop is not first


def test_the_shared_client_closes_its_connections_when_the_loop_shuts_down(
    server: Server,
) -> None:
    async def go() -> AsyncHTTPClient:
        client = AsyncHTTPClient()
        await client.fetch(server.url + "/echo")
        assert server.connections() == 1  # kept alive in the pool
        return client

    client = asyncio.run(go())
    assert server.wait_for_connections(0) == 0
    with pytest.raises(RuntimeError, match="closed AsyncHTTPClient"):
        client.fetch(server.url + "/echo")


def test_the_shared_client_of_an_ioloop_closes_with_it(server: Server) -> None:
    loop = IOLoop(make_current=False)
    client = loop.run_sync(lambda: AsyncHTTPClient().fetch(server.url + "/echo"))
    assert client.code == 200
    assert server.connections() == 1
    loop.close()
    assert server.wait_for_connections(0) == 0


def test_close_closes_the_pool_and_forgets_the_shared_client(server: Server) -> None:
    async def go() -> None:
        client = AsyncHTTPClient()
        await client.fetch(server.url + "/echo")
        client.close()
        client.close()  # twice: nothing
        with pytest.raises(RuntimeError, match="fetch\\(\\) called on closed AsyncHTTPClient"):
            client.fetch(server.url + "/echo")
        assert AsyncHTTPClient() is not client
        # the pool closes in a task of this loop: let it run, then ask the server
        for _ in range(1000):
            await asyncio.sleep(0.01)
            if server.connections() == 0:
                break
        assert server.connections() == 0

    asyncio.run(go())


def test_close_lets_the_fetches_already_started_finish(server: Server) -> None:
    # A handler doing `client = AsyncHTTPClient() ... finally: client.close()` closes the
    # shared client while other handlers' fetches on it are under way (Flower does this).
    async def go() -> None:
        shared = AsyncHTTPClient()
        started = shared.fetch(server.url + "/gate")
        await asyncio.sleep(0.05)
        AsyncHTTPClient().close()
        with pytest.raises(RuntimeError, match="closed AsyncHTTPClient"):
            shared.fetch(server.url + "/echo")
        server.open_gate()
        response = await started
        assert (response.code, response.body) == (200, b"opened")
        for _ in range(1000):
            await asyncio.sleep(0.01)
            if server.connections() == 0:
                break
        assert server.connections() == 0

    asyncio.run(go())


def test_kwargs_with_an_http_request_are_refused() -> None:
    async def go() -> None:
        with pytest.raises(ValueError, match="kwargs can't be used"):
            AsyncHTTPClient().fetch(HTTPRequest("http://127.0.0.1/"), method="POST")

    asyncio.run(go())


def test_fetch_returns_a_future_usable_with_gather(server: Server) -> None:
    async def go() -> list[int]:
        client = AsyncHTTPClient()
        futures = [client.fetch(f"{server.url}/echo?n={i}") for i in range(5)]
        assert all(isinstance(f, asyncio.Future) for f in futures)
        return [r.code for r in await asyncio.gather(*futures)]

    assert asyncio.run(go()) == [200] * 5


# -- configure ------------------------------------------------------------------------------


def test_configure_defaults_fill_fields_a_request_leaves_unset(server: Server) -> None:
    AsyncHTTPClient.configure(None, defaults={"user_agent": "configured/1"})

    async def go() -> list[str]:
        client = AsyncHTTPClient()
        await client.fetch(server.url + "/echo")
        await client.fetch(server.url + "/echo", user_agent="mine/2")
        return [r.headers["User-Agent"] for r in server.app.seen]

    assert asyncio.run(go()) == ["configured/1", "mine/2"]


def test_configure_max_clients_and_a_subclass() -> None:
    AsyncHTTPClient.configure(Recording, max_clients=3)

    async def go() -> AsyncHTTPClient:
        return AsyncHTTPClient()

    client = asyncio.run(go())
    assert type(client) is Recording
    assert client.max_clients == 3
    AsyncHTTPClient.configure(f"{__name__}.Recording")


class Stub(AsyncHTTPClient):
    """A client that answers from a table instead of the network (Tornado's fetch_impl)."""

    def initialize(self, answers: dict[str, bytes] | None = None, **kwargs: Any) -> None:
        super().initialize(**kwargs)
        self.answers = answers or {}
        self.seen: list[Any] = []

    def fetch_impl(self, request: HTTPRequest, callback: Callable[[HTTPResponse], None]) -> None:
        self.seen.append(request)
        body = self.answers.get(request.url)
        if body is None:
            callback(HTTPResponse(request, 404))
        else:
            callback(HTTPResponse(request, 200, buffer=io.BytesIO(body)))


def test_a_subclass_fetch_impl_answers_every_fetch() -> None:
    AsyncHTTPClient.configure(Stub, answers={"http://example.invalid/a": b"stubbed"})

    async def go() -> None:
        client = AsyncHTTPClient()
        assert type(client) is Stub
        request = HTTPRequest("http://example.invalid/a")
        response = await client.fetch(request)
        assert response.body == b"stubbed"
        assert response.request is request
        # fetch_impl sees the fields merged with the client's defaults, as in Tornado
        assert client.seen[0].request_timeout == 20.0
        with pytest.raises(HTTPClientError) as info:
            await client.fetch("http://example.invalid/b")
        assert info.value.code == 404
        response = await client.fetch("http://example.invalid/b", raise_error=False)
        assert response.code == 404

    asyncio.run(go())


def test_a_subclass_fetch_impl_may_fetch_with_the_base_one(server: Server) -> None:
    urls: list[str] = []

    class Logging(AsyncHTTPClient):
        def fetch_impl(
            self, request: HTTPRequest, callback: Callable[[HTTPResponse], None]
        ) -> None:
            urls.append(request.url)
            super().fetch_impl(request, callback)

    async def go() -> HTTPResponse:
        client = Logging(force_instance=True)
        try:
            return await client.fetch(server.url + "/echo")
        finally:
            client.close()

    assert asyncio.run(go()).code == 200
    assert urls == [server.url + "/echo"]


def test_a_subclass_initialize_takes_options_of_its_own() -> None:
    async def go() -> Stub:
        return Stub(force_instance=True, answers={"u": b"x"}, max_clients=4)

    client = asyncio.run(go())
    assert client.answers == {"u": b"x"}
    assert client.max_clients == 4
    AsyncHTTPClient.configure(Stub, answers={})  # passed on, not refused
    with pytest.raises(UnsupportedOptionError, match="answers"):
        AsyncHTTPClient.configure(None, answers={})


def test_configured_class_names_what_async_http_client_builds() -> None:
    assert AsyncHTTPClient.configured_class() is AsyncHTTPClient
    assert AsyncHTTPClient.configurable_base() is AsyncHTTPClient
    assert AsyncHTTPClient.configurable_default() is AsyncHTTPClient
    AsyncHTTPClient.configure(Recording)
    assert AsyncHTTPClient.configured_class() is Recording
    assert Recording.configured_class() is Recording


def test_configure_refuses_tornados_curl_client_as_an_import_error_too() -> None:
    with pytest.raises(CurlClientUnavailableError, match="impl: tornado.curl_httpclient") as info:
        AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")
    assert isinstance(info.value, ImportError) and isinstance(info.value, UnsupportedOptionError)
    with pytest.raises(UnsupportedOptionError, match="not a subclass of AsyncHTTPClient"):
        AsyncHTTPClient.configure(dict)  # type: ignore[arg-type]


def test_the_curl_or_simple_fallback_of_tornado_programs_keeps_squalls_client() -> None:
    try:
        AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient", max_clients=9)
    except ImportError:
        AsyncHTTPClient.configure("tornado.simple_httpclient.SimpleAsyncHTTPClient", max_clients=9)

    async def go() -> AsyncHTTPClient:
        return AsyncHTTPClient(force_instance=True)

    try:
        client = asyncio.run(go())
        assert type(client) is AsyncHTTPClient and client.max_clients == 9
        # Its options are checked as squall's own: one the simple client had is refused.
        with pytest.raises(UnsupportedOptionError, match="hostname_mapping"):
            AsyncHTTPClient.configure(
                "tornado.simple_httpclient.SimpleAsyncHTTPClient", hostname_mapping={}
            )
    finally:
        AsyncHTTPClient.configure(None)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"hostname_mapping": {"a": "b"}}, "hostname_mapping"),
        ({"max_header_size": 1024}, "max_header_size"),
        ({"max_body_size": 0}, "max_body_size"),
        ({"max_buffer_size": "big"}, "max_buffer_size"),
        ({"max_clients": 0}, "max_clients"),
        ({"defaults": {"colour": "red"}}, "defaults"),
    ],
)
def test_options_squall_cannot_honour_are_refused(options: dict[str, Any], named: str) -> None:
    with pytest.raises(UnsupportedOptionError, match=f"^{named}: ") as info:
        AsyncHTTPClient.configure(None, **options)
    assert info.value.option == named

    async def go() -> None:
        AsyncHTTPClient(force_instance=True, **options)

    with pytest.raises(UnsupportedOptionError, match=f"^{named}: "):
        asyncio.run(go())


# -- the blocking HTTPClient -------------------------------------------------------------------


def test_http_client_fetches_blocking(server: Server) -> None:
    client = HTTPClient()
    try:
        response = client.fetch(server.url + "/echo", method="POST", body="b=2")
        assert response.code == 200
        assert response.request.method == "POST"
        with pytest.raises(HTTPClientError) as info:
            client.fetch(server.url + "/status/404")
        assert info.value.code == 404
        assert client.fetch(server.url + "/status/404", raise_error=False).code == 404
    finally:
        client.close()
    assert server.wait_for_connections(0) == 0
    with pytest.raises(RuntimeError, match="closed HTTPClient"):
        client.fetch(server.url + "/echo")


def test_http_client_does_not_become_the_current_loop(server: Server) -> None:
    IOLoop.clear_current()
    client = HTTPClient()
    try:
        client.fetch(server.url + "/echo")
        assert IOLoop.current(instance=False) is None
    finally:
        client.close()


def test_http_client_cannot_run_inside_a_running_loop(server: Server) -> None:
    client = HTTPClient()

    async def go() -> None:
        with pytest.raises(RuntimeError, match="use AsyncHTTPClient there"):
            client.fetch(server.url + "/echo")

    try:
        asyncio.run(go())
    finally:
        client.close()


def test_http_client_made_inside_a_running_loop_is_one_clear_error(
    caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    async def go() -> None:
        with pytest.raises(RuntimeError, match="use AsyncHTTPClient there"):
            HTTPClient()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(go())
    # Nothing else: no second traceback from closing a loop that could not run.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [str(w.message) for w in recwarn if "never awaited" in str(w.message)] == []


def test_http_client_passes_options_to_its_async_client(server: Server) -> None:
    client = HTTPClient(defaults={"user_agent": "blocking/1"})
    try:
        client.fetch(server.url + "/echo")
    finally:
        client.close()
    assert server.app.seen[-1].headers["User-Agent"] == "blocking/1"
