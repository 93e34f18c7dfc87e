"""The pytest plugin's fixtures and LiveServer."""

from __future__ import annotations

import httpx
import pytest

from squall.web import Application, RequestHandler
from squall.web.testing import LiveServer, wait_until


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("hello word")


@pytest.fixture
def app() -> Application:
    return Application([(r"/", Hello)])


def test_squall_url_points_at_the_live_server(squall_url: str, squall_server: LiveServer) -> None:
    assert squall_url == squall_server.url == f"http://127.0.0.1:{squall_server.port}"
    assert httpx.get(squall_url + "/").text == "hello word"


def test_squall_client_is_bound_to_the_server(squall_client: httpx.Client) -> None:
    assert squall_client.get("/").text == "hello word"


def test_live_server_as_a_context_manager_stops_cleanly(app: Application) -> None:
    with LiveServer(app) as server:
        assert httpx.get(server.url + "/").status_code == 200
        assert server.call(lambda: 1 + 1) == 2
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/")
    server.stop()  # idempotent


def test_live_server_start_failure_is_reported() -> None:
    with pytest.raises(RuntimeError, match="failed to start"):
        LiveServer(Application([]), no_such_option=1).start()


def test_wait_until_fails_after_its_timeout() -> None:
    with pytest.raises(AssertionError, match="not met"):
        wait_until(lambda: False, timeout=0.05)


def test_serve_runs_the_app_on_the_callers_loop(app: Application) -> None:
    import asyncio

    from squall.web.testing import serve

    async def main() -> tuple[str, bool]:
        async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
            r = await client.get("/")
            return r.text, url.startswith("http://127.0.0.1:")

    assert asyncio.run(main()) == ("hello word", True)
