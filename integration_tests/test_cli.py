"""The ``squall`` command, run as a real process: ``squall run module:app [options]``.

Each test starts the installed ``squall`` script (or ``python -m squall``) in its own
session, with ``--port 0`` so the kernel picks a free port, and reads the port from the
``serving on http://127.0.0.1:PORT/`` line the command prints once it accepts. Processes
are stopped by signal and waited for; whatever is left is killed by its process-group id.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
TLS = Path(__file__).resolve().parent / "tls"  # a self-signed certificate for 127.0.0.1
BIN = Path(sys.executable).parent
SQUALL = str(BIN / "squall")
SERVING = re.compile(r"^serving on (\S+)$", re.M)
START_TIMEOUT = 20.0


@dataclass
class Run:
    """A running ``squall`` process and its captured output."""

    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stdout(self) -> str:
        return self.out.read_text("utf-8", "replace")

    def stderr(self) -> str:
        return self.err.read_text("utf-8", "replace")

    def urls(self, count: int = 1) -> list[str]:
        """Wait for ``count`` ``serving on URL`` lines; fail if the process dies first."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            found = SERVING.findall(self.stdout())
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                pytest.fail(f"squall exited with {self.proc.returncode}:\n{self.stderr()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no 'serving on' line after {START_TIMEOUT} s:\n{self.stderr()}")
            time.sleep(0.05)

    def url(self) -> str:
        return self.urls()[0]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send ``sig`` to the squall process (not its group) and wait for its exit status."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"squall did not exit within {timeout} s of signal {sig}")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


class Squall:
    """Starts ``squall`` processes for one test (given as ``squall``); kills leftovers."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.runs: list[Run] = []

    def start(
        self,
        args: list[str],
        *,
        cwd: Path = ROOT,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> Run:
        n = len(self.runs)
        out, err = self.logs / f"{n}.out", self.logs / f"{n}.err"
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        full_env.pop("PYTHONWARNINGS", None)
        with open(out, "wb") as o, open(err, "wb") as e:
            proc = subprocess.Popen(
                [*(command or [SQUALL]), *args],
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=o,
                stderr=e,
                env=full_env,
                start_new_session=True,
                pass_fds=pass_fds,
            )
        run = Run(proc, out, err)
        self.runs.append(run)
        return run

    def fails(self, args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        """Run ``squall args`` expecting it to exit on its own (an error)."""
        return subprocess.run(
            [SQUALL, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    def close(self) -> None:
        for run in self.runs:
            run.kill()


@pytest.fixture
def squall(tmp_path: Path) -> Iterator[Squall]:
    logs = tmp_path / "logs"
    logs.mkdir()
    launcher = Squall(logs)
    try:
        yield launcher
    finally:
        launcher.close()


def assert_clean_exit(run: Run, status: int) -> None:
    __tracebackhide__ = True
    assert status == 0, run.stderr()
    assert "Traceback" not in run.stderr(), run.stderr()
    assert "KeyboardInterrupt" not in run.stderr(), run.stderr()


APP_MODULE = textwrap.dedent(
    """
    import asyncio, os
    import squall.web

    class Hello(squall.web.RequestHandler):
        def get(self):
            self.write("hello from " + NAME)

    class Pid(squall.web.RequestHandler):
        def get(self):
            self.write(str(os.getpid()))

    class Slow(squall.web.RequestHandler):
        async def get(self):
            print("slow started", flush=True)
            await asyncio.sleep(float(self.get_argument("s", "1")))
            self.write("slow done")

    NAME = "module"
    RULES = [(r"/", Hello), (r"/pid", Pid), (r"/slow", Slow)]
    app = squall.web.Application(RULES)

    def make_app():
        global NAME
        NAME = "factory"
        return squall.web.Application(RULES)
    """
)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """A folder holding ``myapp.py`` (an ``app`` and a ``make_app`` factory)."""
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "myapp.py").write_text(APP_MODULE)
    return folder


# -- serving and stopping -----------------------------------------------------------------


def test_run_serves_the_hello_example_and_sigterm_exits_0(squall):
    run = squall.start(["run", "examples.hello:app", "--port", "0"])
    url = run.url()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    r = httpx.get(url)
    assert (r.status_code, r.text) == (200, "hello word")
    assert_clean_exit(run, run.stop(signal.SIGTERM))


def test_ctrl_c_exits_0_without_a_traceback(squall):
    run = squall.start(["run", "examples.hello:app", "--port", "0"])
    assert httpx.get(run.url()).text == "hello word"
    assert_clean_exit(run, run.stop(signal.SIGINT))


@pytest.mark.parametrize("loop", ["--uvloop", "--no-uvloop"])
def test_signals_sent_as_soon_as_serving_is_printed_stop_it_cleanly(squall, loop):
    # The moment an orchestrator sees the line it may stop the process; Ctrl-C pressed twice.
    if loop == "--uvloop" and importlib.util.find_spec("uvloop") is None:
        loop = "--no-uvloop"  # the asyncio case then runs twice rather than not at all
    for signals in ([signal.SIGTERM], [signal.SIGINT, signal.SIGINT]):
        run = squall.start(["run", "examples.hello:app", "--port", "0", loop])
        run.url()
        for sig in signals:
            run.proc.send_signal(sig)
        assert_clean_exit(run, run.proc.wait(15))


@pytest.mark.parametrize("loop", ["--uvloop", "--no-uvloop"])
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_stop_signal_again_while_stopping_and_while_exiting_changes_nothing(
    squall, app_dir, stop, loop
):
    # Ctrl-C pressed twice, or an orchestrator repeating its SIGTERM: once while a request
    # in flight holds the shutdown, once more as the interpreter exits (from an atexit hook
    # of the app's module, so the moment is certain, not a race). Each used to be able to
    # end the process with a KeyboardInterrupt traceback, or killed by the signal (-2).
    (app_dir / "lateapp.py").write_text(
        "import atexit, os, signal\n"
        "from myapp import app\n"
        f"atexit.register(os.kill, os.getpid(), signal.{stop.name})\n"
    )
    if loop == "--uvloop" and importlib.util.find_spec("uvloop") is None:
        loop = "--no-uvloop"  # the asyncio case then runs twice rather than not at all
    run = squall.start(["run", "lateapp:app", "--port", "0", loop], cwd=app_dir)
    url = run.url()
    with httpx.Client(timeout=10) as client:
        result: dict[str, httpx.Response] = {}
        t = threading.Thread(target=lambda: result.update(r=client.get(url + "slow?s=1")))
        t.start()
        deadline = time.monotonic() + START_TIMEOUT
        while "slow started" not in run.stdout():
            assert time.monotonic() < deadline, run.stderr()
            time.sleep(0.02)
        run.proc.send_signal(stop)
        time.sleep(0.1)  # the server is stopping now, the slow handler still sleeping
        run.proc.send_signal(stop)
        t.join(15)
    assert result["r"].status_code == 200 and result["r"].text == "slow done"
    assert_clean_exit(run, run.proc.wait(15))


def test_sigterm_lets_a_request_in_flight_finish(squall, app_dir):
    run = squall.start(["run", "myapp:app", "--port", "0"], cwd=app_dir)
    url = run.url()
    with httpx.Client(timeout=10) as client:
        result: dict[str, httpx.Response] = {}
        t = threading.Thread(target=lambda: result.update(r=client.get(url + "slow?s=1")))
        t.start()
        deadline = time.monotonic() + START_TIMEOUT
        while "slow started" not in run.stdout():  # the request is in the handler now
            assert time.monotonic() < deadline, run.stderr()
            time.sleep(0.02)
        run.proc.send_signal(signal.SIGTERM)
        t.join(15)
    assert result["r"].status_code == 200 and result["r"].text == "slow done"
    assert_clean_exit(run, run.proc.wait(15))


def test_python_dash_m_squall_is_the_same_command(squall):
    run = squall.start(
        ["-m", "squall", "run", "examples.hello:app", "--port", "0"], command=[sys.executable]
    )
    assert httpx.get(run.url()).text == "hello word"
    assert_clean_exit(run, run.stop())


def test_factory_is_called_to_build_the_application(squall, app_dir):
    run = squall.start(["run", "myapp:make_app", "--factory", "--port", "0"], cwd=app_dir)
    assert httpx.get(run.url()).text == "hello from factory"
    assert_clean_exit(run, run.stop())


def test_access_log_is_on_by_default_and_off_with_no_access_log(squall):
    on = squall.start(["run", "examples.hello:app", "--port", "0"])
    httpx.get(on.url() + "?seen=1")
    off = squall.start(["run", "examples.hello:app", "--port", "0", "--no-access-log"])
    httpx.get(off.url() + "?seen=1")
    assert_clean_exit(on, on.stop())
    assert_clean_exit(off, off.stop())
    assert "200 GET /?seen=1 (127.0.0.1)" in on.stderr()
    assert "GET /" not in off.stderr()


def test_log_level_warning_hides_the_info_access_lines(squall):
    run = squall.start(["run", "examples.hello:app", "--port", "0", "--log-level", "warning"])
    httpx.get(run.url())
    httpx.get(run.url() + "missing")
    assert_clean_exit(run, run.stop())
    assert "200 GET / " not in run.stderr()
    assert "404 GET /missing" in run.stderr()  # 4xx lines are warnings


# -- where to listen ----------------------------------------------------------------------


def test_uds_serves_on_a_unix_socket_and_removes_it_at_exit(squall, tmp_path):
    path = tmp_path / "squall.sock"
    run = squall.start(["run", "examples.hello:app", "--uds", str(path)])
    assert run.url() == f"unix:{path}"
    transport = httpx.HTTPTransport(uds=str(path))
    with httpx.Client(transport=transport) as client:
        r = client.get("http://localhost/")
    assert (r.status_code, r.text) == (200, "hello word")
    assert_clean_exit(run, run.stop())
    assert not path.exists()


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


def test_fd_serves_a_socket_inherited_from_the_parent(squall):
    sock = _listening_socket()
    port = sock.getsockname()[1]
    fd = sock.fileno()
    try:
        run = squall.start(["run", "examples.hello:app", "--fd", str(fd)], pass_fds=(fd,))
        assert run.url() == f"http://127.0.0.1:{port}/"
    finally:
        sock.close()  # the child holds its own copy
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello word"
    assert_clean_exit(run, run.stop())


def test_systemd_socket_activation_listen_fds(squall):
    sock = _listening_socket()
    port = sock.getsockname()[1]
    fd = sock.fileno()
    # systemd's contract: the sockets start at descriptor 3 and LISTEN_PID is the pid of the
    # process meant to use them. This wrapper moves the socket to 3, sets the variables and
    # execs squall in place (same pid), as systemd itself does.
    wrapper = (
        "import os, sys; os.dup2(int(sys.argv[1]), 3); os.close(int(sys.argv[1])); "
        "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid())); "
        "os.execv(sys.argv[2], sys.argv[2:])"
    )
    try:
        run = squall.start(
            ["run", "examples.hello:app"],
            command=[sys.executable, "-c", wrapper, str(fd), SQUALL],
            pass_fds=(fd,),
        )
        assert run.url() == f"http://127.0.0.1:{port}/"
    finally:
        sock.close()
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello word"
    assert_clean_exit(run, run.stop())


def test_tls_with_certfile_and_keyfile(squall):
    certfile, keyfile = TLS / "localhost.crt", TLS / "localhost.key"
    run = squall.start(
        ["run", "examples.hello:app", "--port", "0"]
        + ["--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile)]
    )
    url = run.url()
    assert url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(certfile))
    assert httpx.get(url, verify=context).text == "hello word"
    assert_clean_exit(run, run.stop())


# -- processes, reload, loops ---------------------------------------------------------------


def test_processes_2_serve_from_two_children_and_sigterm_stops_all(squall, app_dir):
    run = squall.start(["run", "myapp:app", "--port", "0", "--processes", "2"], cwd=app_dir)
    url = run.url()
    pids: set[str] = set()
    deadline = time.monotonic() + START_TIMEOUT
    while len(pids) < 2 and time.monotonic() < deadline:
        with httpx.Client() as client:  # a new connection each time: the kernel spreads them
            pids.add(client.get(url + "pid").text)
    assert len(pids) == 2, pids
    assert str(run.proc.pid) not in pids  # the parent only supervises
    assert_clean_exit(run, run.stop())
    for pid in pids:  # the parent waited for its children before exiting
        assert not Path(f"/proc/{pid}").exists()


def test_reload_serves_the_edited_source(squall, tmp_path):
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "examples", tmp_path / "ex", ignore=ignore)
    source = tmp_path / "ex" / "hello.py"
    run = squall.start(["run", "hello:app", "--port", "0", "--reload"], cwd=tmp_path / "ex")
    url = run.url()
    assert httpx.get(url).text == "hello word"
    # The reloader recorded the file before the "serving on" line; the size changes too.
    source.write_text(source.read_text().replace('"hello word"', '"hello reloaded"'))
    # The restarted process prints its own line (--port 0: a new port, read from it).
    run.urls(count=2)

    def served() -> str | None:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(run.urls()[-1], timeout=2).text
        return None

    deadline = time.monotonic() + START_TIMEOUT
    while served() != "hello reloaded":
        assert time.monotonic() < deadline, run.stderr()
        assert run.proc.poll() is None, run.stderr()
        time.sleep(0.1)
    assert_clean_exit(run, run.stop())


def test_reload_waits_for_the_fix_of_an_app_that_fails_at_import(squall, app_dir):
    broken = app_dir / "myapp.py"
    good = broken.read_text()
    broken.write_text(good + "\nraise RuntimeError('half-edited')\n")
    run = squall.start(["run", "myapp:app", "--port", "0", "--reload"], cwd=app_dir)
    deadline = time.monotonic() + START_TIMEOUT
    while "waiting for a change" not in run.stderr():
        assert time.monotonic() < deadline and run.proc.poll() is None, run.stderr()
        time.sleep(0.05)
    assert "RuntimeError: half-edited" in run.stderr()  # the traceback, then the wait
    broken.write_text(good)
    assert httpx.get(run.url()).text == "hello from module"
    assert run.stop() == 0, run.stderr()  # (the traceback above is the broken import's)


def test_no_uvloop_runs_plain_asyncio_and_uvloop_demands_uvloop(squall, app_dir):
    (app_dir / "loopapp.py").write_text(
        textwrap.dedent(
            """
            import asyncio
            import squall.web

            class Loop(squall.web.RequestHandler):
                def get(self):
                    self.write(type(asyncio.get_running_loop()).__module__)

            app = squall.web.Application([(r"/", Loop)])
            """
        )
    )
    plain = squall.start(["run", "loopapp:app", "--port", "0", "--no-uvloop"], cwd=app_dir)
    assert httpx.get(plain.url()).text.startswith("asyncio")
    assert_clean_exit(plain, plain.stop())
    if importlib.util.find_spec("uvloop") is None:
        refused = squall.fails(["run", "loopapp:app", "--uvloop"], cwd=app_dir)
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: --uvloop: uvloop is not installed")
        return
    fast = squall.start(["run", "loopapp:app", "--port", "0", "--uvloop"], cwd=app_dir)
    assert httpx.get(fast.url()).text.startswith("uvloop")
    assert_clean_exit(fast, fast.stop())


def test_config_file_sets_options_the_factory_reads(squall, app_dir):
    (app_dir / "confapp.py").write_text(
        textwrap.dedent(
            """
            import squall.web
            from squall.options import define, options

            define("greeting", default="default greeting")

            class Greet(squall.web.RequestHandler):
                def get(self):
                    self.write(self.settings["greeting"])

            def make_app():
                return squall.web.Application([(r"/", Greet)], greeting=options.greeting)
            """
        )
    )
    (app_dir / "conf.toml").write_text('greeting = "from the toml file"\n')
    run = squall.start(
        ["run", "confapp:make_app", "--factory", "--port", "0", "--config", "conf.toml"],
        cwd=app_dir,
    )
    assert httpx.get(run.url()).text == "from the toml file"
    assert_clean_exit(run, run.stop())


def test_version_and_help(squall):
    version = squall.fails(["--version"])
    assert version.returncode == 0
    assert re.match(r"squall-web \d+\.\d+\.\d+ \(squall-loop ", version.stdout)
    helped = squall.fails(["run", "--help"])
    assert helped.returncode == 0
    for option in ("--factory", "--uds", "--fd", "--processes", "--reload", "--config"):
        assert option in helped.stdout


# -- errors: one line, status 2 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "nosuchmodule:app"], "error: no module named 'nosuchmodule'"),
        (
            ["run", "examples.hello:application"],
            "error: module 'examples.hello' has no attribute 'application'",
        ),
        (["run", "examples.hello:IndexHandler"], "not a squall.web.Application"),
        (["run", "examples.debug:make_app"], "(pass --factory to call it)"),
        (["run", "examples.hello:app", "--port", "99999"], "error: argument --port: invalid port"),
        (
            ["run", "examples.hello:app", "--reload", "--processes", "2"],
            "error: --reload cannot be used with --processes 2",
        ),
        (
            ["run", "examples.hello:app", "--ssl-certfile", "/nonexistent/cert.pem"],
            "error: --ssl-certfile '/nonexistent/cert.pem'",
        ),
        (["run", "examples.hello"], "is not of the form module:attribute"),
    ],
)
def test_errors_are_one_line_with_status_2(squall, args, message):
    result = squall.fails(args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert result.stdout == ""


def test_busy_port_is_one_line_with_status_2(squall):
    sock = _listening_socket()
    try:
        result = squall.fails(["run", "examples.hello:app", "--port", str(sock.getsockname()[1])])
    finally:
        sock.close()
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot bind 127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1


# -- the deploy guide's systemd unit ------------------------------------------------------


def test_the_systemd_unit_command_serves_the_deploy_app(squall):
    unit = (ROOT / "deploy" / "systemd" / "squall@.service").read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    argv = exec_start.replace("%i", "0").split()
    assert argv[0] == "/srv/squall/venv/bin/squall"
    run = squall.start(argv[1:], cwd=ROOT / "deploy")
    url = run.url()
    answer = httpx.get(url, headers={"X-Real-IP": "203.0.113.9"}).json()
    assert answer["remote_ip"] == "203.0.113.9"  # --xheaders, as behind nginx
    assert httpx.get(url + "healthz").status_code == 200
    assert_clean_exit(run, run.stop())
