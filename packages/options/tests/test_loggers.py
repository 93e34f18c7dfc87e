"""``access_log``, ``app_log``, ``gen_log``: the loggers of Tornado's ``tornado.log``, in squall."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

import squall.options
import squall.web


def test_the_loggers_are_the_ones_squall_writes_to_by_name() -> None:
    assert squall.options.access_log is logging.getLogger("squall.access")
    assert squall.options.app_log is logging.getLogger("squall.application")
    assert squall.options.gen_log is logging.getLogger("squall.general")


class _Fails(squall.web.RequestHandler):
    def get(self) -> None:
        raise RuntimeError("handler bug")


@pytest.fixture
def app() -> squall.web.Application:
    return squall.web.Application([(r"/", _Fails)])


def test_an_uncaught_handler_error_is_logged_on_app_log_and_access_log(
    squall_client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        assert squall_client.get("/").status_code == 500
        # The server thread writes the access line once the answer is sent, so the client
        # can read the 500 before that record exists: wait for it (bounded).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            r.name == squall.options.access_log.name for r in caplog.records
        ):
            time.sleep(0.01)
    on_app_log = [r for r in caplog.records if r.name == squall.options.app_log.name]
    assert on_app_log and on_app_log[0].exc_info is not None
    assert "handler bug" in str(on_app_log[0].exc_info[1])
    on_access_log = [r for r in caplog.records if r.name == squall.options.access_log.name]
    assert [r.levelno for r in on_access_log] == [logging.ERROR]
