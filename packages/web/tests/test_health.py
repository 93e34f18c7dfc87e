"""The built-in health route of the ``health_path`` setting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

import squall.web
from squall.web.testing import LiveServer


class Hello(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


def test_health_route_answers_ok_when_health_path_is_set(
    squall_live_server: Callable[..., LiveServer],
) -> None:
    app = squall.web.Application([(r"/", Hello)], health_path="/healthz")
    server = squall_live_server(app)
    r = httpx.get(server.url + "/healthz")
    assert (r.status_code, r.text) == (200, "ok\n")
    assert r.headers["cache-control"] == "no-store"
    assert "etag" not in r.headers


def test_no_health_route_without_the_setting(
    squall_live_server: Callable[..., LiveServer],
) -> None:
    server = squall_live_server(squall.web.Application([(r"/", Hello)]))
    assert httpx.get(server.url + "/healthz").status_code == 404


def test_health_route_answers_503_once_shutdown_began(
    squall_live_server: Callable[..., LiveServer],
) -> None:
    app = squall.web.Application([(r"/", Hello)], health_path="/ready")
    server = squall_live_server(app)
    asyncio.run(app.shutdown(timeout=1))
    r = httpx.get(server.url + "/ready")
    assert (r.status_code, r.text) == (503, "draining\n")


def test_health_path_must_be_an_absolute_path() -> None:
    with pytest.raises(squall.web.ConfigurationError, match="health_path"):
        squall.web.Application([], health_path="healthz")
