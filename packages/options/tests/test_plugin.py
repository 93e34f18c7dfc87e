"""The squall.web plugin: access log on/off from ``options.logging``, and the app options.

Real applications answer real requests: in this process (an HTTPServer on a socket bound to
127.0.0.1 port 0, httpx as the client) and in scripts run with ``sys.executable``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

import squall.options
from squall.http import HTTPServer
from squall.loop import bind_sockets
from squall.options import _plugin
from squall.web import Application, RequestHandler


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("hello word")


def fetch(app: Application, path: str = "/") -> httpx.Response:
    """One real request to ``app`` over a socket, then everything closed."""

    async def go() -> httpx.Response:
        sockets = bind_sockets(0, "127.0.0.1")
        port = sockets[0].getsockname()[1]
        server = HTTPServer(app)
        server.add_sockets(sockets)
        try:
            async with httpx.AsyncClient() as client:
                return await client.get(f"http://127.0.0.1:{port}{path}", timeout=10)
        finally:
            server.stop()
            await server.shutdown(timeout=5)

    return asyncio.run(go())


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "squall.access"]


# --------------------------------------------------------------------------------------
# Installed as an entry point, alone with web
# --------------------------------------------------------------------------------------


def test_plugin_is_found_through_the_squall_web_entry_point() -> None:
    app = Application([(r"/", Hello)])
    assert app.plugin_manager.get_plugin("options") is _plugin


def test_web_does_not_import_options() -> None:
    code = "import sys, squall.web; print('squall.options' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout == "False\n"


# --------------------------------------------------------------------------------------
# Access log
# --------------------------------------------------------------------------------------


def test_access_log_line_per_request_by_default(
    squall_options: squall.options.OptionParser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="squall.access")
    response = fetch(Application([(r"/", Hello)]))
    assert response.text == "hello word"
    assert len(access_records(caplog)) == 1


@pytest.mark.parametrize("value", [None, "none", "NONE"])
def test_logging_none_makes_the_access_log_a_no_op(
    squall_options: squall.options.OptionParser,
    caplog: pytest.LogCaptureFixture,
    value: str | None,
) -> None:
    caplog.set_level(logging.INFO, logger="squall.access")
    squall_options.logging = value
    app = Application([(r"/", Hello)])
    assert fetch(app).status_code == 200
    assert fetch(app, "/missing").status_code == 404  # not even a warning for a 404
    assert access_records(caplog) == []


def test_logging_is_decided_when_the_application_is_built(
    squall_options: squall.options.OptionParser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="squall.access")
    app = Application([(r"/", Hello)])  # built while logging is "info"
    squall_options.logging = None
    fetch(app)
    assert len(access_records(caplog)) == 1


def test_user_log_function_wins_over_the_plugin(
    squall_options: squall.options.OptionParser,
) -> None:
    squall_options.logging = None
    seen: list[int] = []
    app = Application([(r"/", Hello)], log_function=lambda h: seen.append(h.get_status()))
    fetch(app)
    assert seen == [200]


# --------------------------------------------------------------------------------------
# App options
# --------------------------------------------------------------------------------------


def test_app_options_are_opt_in(squall_options: squall.options.OptionParser) -> None:
    assert "port" not in squall_options or squall_options.option("port").group != "application"
    squall_options.define("debug", default=True)  # the script's own option: not applied
    assert Application([(r"/", Hello)], autoreload=False).settings["debug"] is False


def test_define_app_options_defines_port_address_debug(
    squall_options: squall.options.OptionParser,
) -> None:
    squall.options.define_app_options(port=9000)
    assert squall_options.group_dict("application") == {
        "port": 9000,
        "address": "",
        "debug": False,
    }
    squall_options.parse_command_line(["p", "--port=9100", "--address=127.0.0.1"], final=False)
    assert (squall_options.port, squall_options.address) == (9100, "127.0.0.1")


def test_define_app_options_keeps_an_existing_port(
    squall_options: squall.options.OptionParser,
) -> None:
    squall.options.define("port", default=8000, type=int, help="哈哈")
    squall.options.define_app_options()
    assert squall_options.option("port").help == "哈哈"
    assert "debug" in squall_options


def test_debug_option_becomes_the_application_debug_setting(
    squall_options: squall.options.OptionParser,
) -> None:
    squall.options.define_app_options()
    squall_options.parse_command_line(["p", "--debug"], final=False)
    # autoreload given explicitly (a test must not start a reloader); the rest of what
    # debug implies follows, as if debug=True had been passed.
    settings = Application([(r"/", Hello)], autoreload=False).settings
    assert settings["debug"] is True
    assert settings["serve_traceback"] is True
    assert settings["autoreload"] is False


def test_an_explicit_debug_setting_wins_over_the_option(
    squall_options: squall.options.OptionParser,
) -> None:
    squall.options.define_app_options(debug=True)
    settings = Application([(r"/", Hello)], debug=False).settings
    assert settings["debug"] is False and settings["serve_traceback"] is False


# --------------------------------------------------------------------------------------
# Real scripts: the notes' server, with and without logging
# --------------------------------------------------------------------------------------

SERVER = """
import squall.http
import squall.loop
import squall.options
import squall.web
from squall.options import options

squall.options.define('port', default=8000, type=int, help='哈哈')
{before}

class IndexHandler(squall.web.RequestHandler):
    def get(self):
        self.write("hello word")

if __name__ == "__main__":
    squall.options.parse_command_line()
    app = squall.web.Application([(r'/', IndexHandler)])
    sockets = squall.loop.bind_sockets(options.port, "127.0.0.1")
    http_server = squall.http.HTTPServer(app)
    http_server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    squall.loop.IOLoop.current().start()
"""


def serve_and_get(tmp_path: Path, before: str, *args: str, wait_for: str = "") -> tuple[str, str]:
    """Run the server script, GET / and /missing (and / again), stop it; (stdout, stderr).

    The access line of a request is written just after its response is sent, so stderr is
    read until ``wait_for`` shows up (bounded) before the process is stopped; without it,
    the last request on the same keep-alive connection makes sure the server has finished
    (and logged) the ones before.
    """
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(SERVER.format(before=before)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUALL_")}
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port=0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    err = b""
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline().decode()
        port = int(first)
        with httpx.Client(timeout=10) as client:
            assert client.get(f"http://127.0.0.1:{port}/").text == "hello word"
            assert client.get(f"http://127.0.0.1:{port}/missing").status_code == 404
            assert client.get(f"http://127.0.0.1:{port}/").status_code == 200
        deadline = time.monotonic() + 20
        while wait_for and wait_for.encode() not in err and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 0.5)
            if ready:
                chunk = os.read(proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                err += chunk
    finally:
        proc.kill()
        out, rest = proc.communicate(timeout=30)
    return first + out.decode(), (err + rest).decode()


@pytest.mark.slow
def test_script_with_default_logging_prints_access_lines_on_stderr(tmp_path: Path) -> None:
    out, err = serve_and_get(tmp_path, "", wait_for="404 GET /missing")
    assert out.strip().isdigit()  # only what the script prints
    lines = err.splitlines()
    assert len(lines) >= 2  # the last request's line may or may not be out yet
    assert "200 GET / (127.0.0.1)" in lines[0] and lines[0].startswith("[I ")
    assert "404 GET /missing (127.0.0.1)" in lines[1] and lines[1].startswith("[W ")
    assert all(line.startswith("[") for line in lines)  # access lines only, no traceback


@pytest.mark.slow
def test_script_with_logging_none_prints_nothing(tmp_path: Path) -> None:
    out, err = serve_and_get(tmp_path, "", "--logging=none")
    assert out.strip().isdigit()
    assert err == ""


@pytest.mark.slow
def test_script_with_logging_none_in_code_prints_nothing(tmp_path: Path) -> None:
    out, err = serve_and_get(tmp_path, "options.logging = None")
    assert out.strip().isdigit()
    assert err == ""


APP_OPTIONS_SCRIPT = """
import squall.options
import squall.web
from squall.options import options

squall.options.define_app_options()
squall.options.parse_command_line()
app = squall.web.Application([])
print(app.settings["debug"], app.settings["serve_traceback"], options.port, repr(options.address))
"""


@pytest.mark.slow
def test_app_options_on_a_real_command_line(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(APP_OPTIONS_SCRIPT), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUALL_")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    assert run().stdout == "False False 8000 ''\n"
    proc = run("--debug", "--port=9001", "--address=127.0.0.1")
    assert proc.stdout == "True True 9001 '127.0.0.1'\n", proc.stderr
    help_text = run("--help").stdout
    assert "application:" in help_text
    assert "--port=INT" in help_text and "--address=STR" in help_text and "--debug" in help_text
    bad = run("--port=x")
    assert (bad.returncode, bad.stderr) == (2, "error: option --port: invalid int value: 'x'\n")
