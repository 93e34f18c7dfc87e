"""正则提取url: path parts captured by the rule's groups are passed to the method.

Statements checked: named groups ``(?P<name1>.+)`` arrive as keyword arguments (by name,
not by position), unnamed groups ``(.+)`` as positional arguments, in order; captured
values are percent-decoded text; the regex must match the whole path, else 404.
"""

from __future__ import annotations

import time

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("regex_urls.py") as srv:
        yield srv


def _two_lines(srv, path: str) -> list[str]:
    mark = srv.mark()
    r = httpx.get(srv.url + path)
    assert r.status_code == 200, (path, r.status_code)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = srv.stdout_since(mark).splitlines()
        if len(lines) >= 2:
            return lines[:2]
        time.sleep(0.02)
    raise AssertionError(srv.describe(f"{path}: two lines expected"))


def test_named_groups(server):
    assert _two_lines(server, "/show/abc/def") == ["abc", "def"]


def test_named_groups_greedy_first_group(server):
    # .+ is greedy and [a-z]+ takes what is left after the last slash.
    assert _two_lines(server, "/show/a/b/cde") == ["a/b", "cde"]


def test_unnamed_groups_are_positional(server):
    assert _two_lines(server, "/check/xyz/abc") == ["xyz", "abc"]


def test_captured_values_are_percent_decoded(server):
    assert _two_lines(server, "/check/%E4%BD%A0%20%E5%A5%BD/ok") == ["你 好", "ok"]
    assert _two_lines(server, "/show/%E5%B0%8F%E6%98%8E/ming") == ["小明", "ming"]


def test_non_matching_paths_are_404(server):
    for path in ("/show/abc/DEF", "/show/abc", "/check/abc/123", "/show/abc/def/"):
        assert httpx.get(server.url + path).status_code == 404, path
