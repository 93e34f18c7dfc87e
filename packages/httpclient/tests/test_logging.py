"""Logging of fetches: none per request, as Tornado's client (httpx's INFO and httpcore's
DEBUG lines kept quiet)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from squall.httpclient import AsyncHTTPClient

if TYPE_CHECKING:
    from conftest import Server


def test_a_fetch_logs_no_info_line_with_the_root_logger_at_info(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> int:
        response = await AsyncHTTPClient().fetch(server.url + "/echo")
        return response.code

    with caplog.at_level(logging.INFO):  # what parse_command_line() does to the root logger
        assert asyncio.run(go()) == 200
    assert [r.getMessage() for r in caplog.records if r.name.startswith("httpx")] == []


def test_a_fetch_logs_no_line_with_the_root_logger_at_debug(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async def go() -> int:
        response = await AsyncHTTPClient().fetch(server.url + "/echo")
        return response.code

    with caplog.at_level(logging.DEBUG):  # logging.basicConfig(level=logging.DEBUG)
        assert asyncio.run(go()) == 200
    names = {r.name for r in caplog.records}
    assert [n for n in names if n.startswith(("httpx", "httpcore"))] == []


def test_a_level_the_application_chose_for_httpcore_is_kept() -> None:
    code = (
        "import logging; logging.getLogger('httpcore').setLevel(logging.DEBUG);"
        "import squall.httpclient._pools;"
        "print(logging.getLogger('httpcore').level)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(logging.DEBUG)


def test_a_level_the_application_chose_for_httpx_is_kept() -> None:
    code = (
        "import logging; logging.getLogger('httpx').setLevel(logging.DEBUG);"
        "import squall.httpclient._pools;"
        "print(logging.getLogger('httpx').level)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(logging.DEBUG)
