"""``python -m squall.httpclient``: Tornado's command-line fetcher."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Server


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "squall.httpclient", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_prints_the_body_of_each_url(server: Server) -> None:
    result = run(server.url + "/status/200", server.url + "/status/404")
    assert result.returncode == 0, result.stderr
    # a non-2xx answer is printed like any other
    assert result.stdout == "status body\nstatus body\n"


def test_print_headers_and_no_body(server: Server) -> None:
    result = run("--print_headers", "--print_body=false", server.url + "/cookie")
    assert result.returncode == 0, result.stderr
    assert "Set-Cookie: session=abc; Path=/\n" in result.stdout
    assert "set" not in result.stdout.splitlines()


def test_follow_redirects_false_prints_the_redirect(server: Server) -> None:
    result = run("--follow_redirects=false", "--print_headers", server.url + "/hops/1")
    assert "Location: /hops/0" in result.stdout
    assert result.stdout.endswith("hop body\n")


def test_a_fetch_without_an_answer_fails_the_command() -> None:
    result = run("http://127.0.0.1:1/")
    assert result.returncode == 1
    assert "ConnectionRefusedError" in result.stderr
