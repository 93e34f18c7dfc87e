"""关闭命令行日志: ``--logging=none`` on the command line, or ``options.logging = None`` in code.

Statements checked: by default ``parse_command_line()`` sets up logging and each request
prints an access-log line (status, method, path) on stderr; ``--logging=none`` prints
none; ``options.logging = None`` before ``parse_command_line()`` prints none either.
"""

from __future__ import annotations

import re
import time

import httpx


def _hit(srv, path: str) -> None:
    r = httpx.get(srv.url + path)
    assert r.status_code == 200
    assert r.text == "hello word"


def _access_lines(text: str, marker: str) -> list[str]:
    return [line for line in text.splitlines() if marker in line]


def test_access_log_is_on_by_default(launcher):
    with launcher.running_example("logging_off.py") as srv:
        _hit(srv, "/?access=default")
        err = srv.wait_stderr("access=default")
        lines = _access_lines(err, "access=default")
        assert len(lines) == 1, err
        # status, method, uri, remote ip, time in ms
        line = lines[0]
        assert "200" in line and "GET /?access=default" in line and "127.0.0.1" in line, line
        assert re.search(r"\d ?ms\b", line), line
        # A 404 is logged too (at warning level).
        httpx.get(srv.url + "/missing-page")
        assert "404" in _access_lines(srv.wait_stderr("missing-page"), "missing-page")[0]


def test_logging_none_on_the_command_line_prints_no_access_line(launcher):
    with launcher.running_example("logging_off.py", ["--logging=none"]) as srv:
        _quiet_after_requests(srv)


def test_options_logging_none_in_code_prints_no_access_line(launcher):
    with launcher.running_example("logging_off_in_code.py") as srv:
        _quiet_after_requests(srv)


def _quiet_after_requests(srv) -> None:
    for i in range(3):
        _hit(srv, f"/?quiet={i}")
    httpx.get(srv.url + "/missing-page")
    # The access line would be written before the next request is read; one more request
    # on the same connection and a short grace period bound the wait.
    _hit(srv, "/?quiet=last")
    time.sleep(0.3)
    assert "quiet" not in srv.stderr(), srv.stderr()
    assert "missing-page" not in srv.stderr(), srv.stderr()
    assert srv.stderr().strip() == "", srv.stderr()
