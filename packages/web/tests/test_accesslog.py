"""The access log on ``squall.access`` and the ``log_function`` setting."""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import pytest

from squall.web import Application, RequestHandler
from squall.web._accesslog import log_request
from squall.web.testing import wait_until


class Status(RequestHandler):
    def get(self, code: str) -> None:
        self.set_status(int(code))


def test_one_line_per_request_with_level_by_status(
    squall_live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = squall_live_server(Application([(r"/(\d+)", Status)]))
    with caplog.at_level(logging.INFO, logger="squall.access"):
        for code in (200, 302, 404, 503):
            httpx.get(f"{server.url}/{code}?x=1")
        wait_until(lambda: len([r for r in caplog.records if r.name == "squall.access"]) == 4)
    records = [r for r in caplog.records if r.name == "squall.access"]
    assert [r.levelno for r in records] == [
        logging.INFO,
        logging.INFO,
        logging.WARNING,
        logging.ERROR,
    ]
    assert re.fullmatch(r"200 GET /200\?x=1 \(127\.0\.0\.1\) \d+\.\d\dms", records[0].getMessage())


def test_nothing_is_formatted_when_the_level_is_off(caplog: pytest.LogCaptureFixture) -> None:
    class Boom:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"request.{name} was read while the log is off")

    class FakeHandler:
        _status_code = 200
        request = Boom()

    logger = logging.getLogger("squall.access")
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        log_request(FakeHandler())  # type: ignore[arg-type]
    finally:
        logger.setLevel(old)


def test_log_function_setting_replaces_the_access_log(squall_live_server: Any) -> None:
    seen: list[tuple[int, str]] = []

    def log_function(handler: RequestHandler) -> None:
        seen.append((handler.get_status(), handler.request.uri))

    server = squall_live_server(Application([(r"/(\d+)", Status)], log_function=log_function))
    httpx.get(server.url + "/201")
    wait_until(lambda: seen)
    assert seen == [(201, "/201")]


def test_log_function_must_be_callable() -> None:
    from squall.web import ConfigurationError

    with pytest.raises(ConfigurationError, match="log_function"):
        Application([], log_function="not callable")


def test_records_name_the_access_log_module_and_function(
    squall_live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = squall_live_server(Application([(r"/(\d+)", Status)]))
    with caplog.at_level(logging.INFO, logger="squall.access"):
        httpx.get(server.url + "/200")
        wait_until(lambda: any(r.name == "squall.access" for r in caplog.records))
    record = next(r for r in caplog.records if r.name == "squall.access")
    assert record.module == "_accesslog"
    assert record.funcName == "log_request"
    assert record.lineno > 0


def test_application_log_request_calls_the_chosen_function() -> None:
    seen: list[object] = []
    app = Application([], autoload_plugins=False, log_function=seen.append)
    marker = object()
    app.log_request(marker)  # type: ignore[arg-type]
    assert seen == [marker]
