"""Autoreload: real processes restarted by real edits, and the reloader's rules in-process.

Subprocess tests start a script from ``tmp_path`` on a free port, edit a file and poll the
server until it serves the new value (bounded); every process is killed in a ``finally``.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import squall.web
import squall.web.autoreload
from squall.web import ConfigurationError, _autoreload
from squall.web.testing import wait_until

RELOAD_TIMEOUT = 15.0

APP = """\
import sys
import squall.loop
import squall.web

VALUE = "one"


class Value(squall.web.RequestHandler):
    def get(self):
        self.write(VALUE)


app = squall.web.Application([(r"/", Value)], {settings})
app.listen(int(sys.argv[1]), "127.0.0.1")
squall.loop.IOLoop.current().start()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Proc:
    """A server process whose stdout/stderr go to files (read while it runs)."""

    def __init__(self, popen: subprocess.Popen[bytes], port: int, err: Path) -> None:
        self.popen = popen
        self.port = port
        self.err = err

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def get(self) -> str:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/", timeout=2.0).text
        except httpx.TransportError as exc:  # restarting: refused or reset
            return repr(exc)

    def wait_body(self, want: str, timeout: float = RELOAD_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            last = self.get()
            if last == want:
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"never served {want!r}; last {last!r}; exit {self.popen.poll()}; "
            f"stderr:\n{self.stderr()[-3000:]}"
        )

    def wait_stderr(self, *needles: str, timeout: float = RELOAD_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stderr()
            if all(n in text for n in needles):
                return text
            time.sleep(0.05)
        raise AssertionError(f"stderr never showed {needles!r}:\n{self.stderr()[-3000:]}")


@contextmanager
def running(tmp_path: Path, args: list[str], cwd: Path | None = None) -> Iterator[Proc]:
    port = free_port()
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out, "wb") as fout, open(err, "wb") as ferr:
        popen = subprocess.Popen(
            [sys.executable, *args, str(port)],
            stdout=fout,
            stderr=ferr,
            cwd=cwd or tmp_path,
            start_new_session=True,
        )
    try:
        yield Proc(popen, port, err)
    finally:
        if popen.poll() is None:
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(10)


def write_app(tmp_path: Path, settings: str = "debug=True", name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(APP.format(settings=settings))
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# -- real restarts -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("settings", ["debug=True", "autoreload=True"])
def test_an_edited_script_is_served_after_an_automatic_restart(
    tmp_path: Path, settings: str
) -> None:
    script = write_app(tmp_path, settings)
    with running(tmp_path, [str(script)]) as proc:
        proc.wait_body("one")
        pid = proc.popen.pid
        edit(script, 'VALUE = "one"', 'VALUE = "two!"')
        proc.wait_body("two!")  # on the same port: the old listening socket was closed
        edit(script, 'VALUE = "two!"', 'VALUE = "three"')
        proc.wait_body("three")
        assert proc.popen.poll() is None and proc.popen.pid == pid  # exec keeps the pid


@pytest.mark.slow
def test_an_edited_imported_module_restarts_the_process(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text('VALUE = "helper one"\n')
    script = tmp_path / "app.py"
    script.write_text(
        APP.replace('VALUE = "one"', "from helper import VALUE").format(settings="debug=True")
    )
    with running(tmp_path, [str(script)]) as proc:
        proc.wait_body("helper one")
        edit(tmp_path / "helper.py", "helper one", "helper two")
        proc.wait_body("helper two")


@pytest.mark.slow
def test_a_syntax_error_is_reported_and_the_fix_is_picked_up(tmp_path: Path) -> None:
    script = write_app(tmp_path)
    with running(tmp_path, [str(script)]) as proc:
        proc.wait_body("one")
        edit(script, 'VALUE = "one"', 'VALUE = "broken')
        text = proc.wait_stderr("SyntaxError", str(script), "line 5")
        assert "waiting for the next change" in text
        assert proc.get() == "one"  # still up, serving the old code
        edit(script, 'VALUE = "broken', 'VALUE = "fixed"')
        proc.wait_body("fixed")


@pytest.mark.slow
def test_a_watched_file_restarts_the_process(tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("data one")
    script = write_app(tmp_path)
    edit(
        script,
        'VALUE = "one"',
        f"import squall.web.autoreload\n"
        f"VALUE = open({str(data)!r}).read()\n"
        f"squall.web.autoreload.watch({str(data)!r})",
    )
    with running(tmp_path, [str(script)]) as proc:
        proc.wait_body("data one")
        data.write_text("data two, longer")
        proc.wait_body("data two, longer")


@pytest.mark.slow
def test_a_program_run_with_dash_m_restarts_as_a_module(tmp_path: Path) -> None:
    package = tmp_path / "mysite"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = write_app(package, name="server.py")
    edit(module, 'VALUE = "one"', 'VALUE = "one " + __spec__.name')
    with running(tmp_path, ["-m", "mysite.server"]) as proc:
        proc.wait_body("one mysite.server")
        edit(module, 'VALUE = "one "', 'VALUE = "two "')
        proc.wait_body("two mysite.server")


@pytest.mark.slow
def test_the_wrapper_waits_when_the_restarted_program_dies_at_import(tmp_path: Path) -> None:
    script = write_app(tmp_path)
    with running(tmp_path, ["-m", "squall.web.autoreload", str(script)]) as proc:
        proc.wait_body("one")
        # Compiles, so the reloader restarts; then the new run dies at import.
        edit(script, 'VALUE = "one"', "VALUE = undefined_name")
        proc.wait_stderr("NameError", "waiting for a change")
        assert proc.popen.poll() is None
        edit(script, "VALUE = undefined_name", 'VALUE = "back"')
        proc.wait_body("back")


@pytest.mark.slow
def test_autoreload_with_several_processes_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "fork.py"
    script.write_text(
        textwrap.dedent(
            """\
            import sys
            import squall.http, squall.loop, squall.web
            app = squall.web.Application([], debug=True)
            server = squall.http.HTTPServer(app)
            server.bind(int(sys.argv[1]), "127.0.0.1")
            server.start(2)
            print("forked", flush=True)
            squall.loop.IOLoop.current().start()
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script), str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "forked" not in result.stdout
    assert "autoreload" in result.stderr and "several processes" in result.stderr


# -- in-process rules ----------------------------------------------------------------------


def test_in_a_child_of_fork_processes_autoreload_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_autoreload, "task_id", lambda: 1)
    with pytest.raises(ConfigurationError, match="several processes"):
        squall.web.Application(debug=True)


def test_without_autoreload_the_application_starts_no_reloader() -> None:
    app = squall.web.Application()
    reloader = _autoreload._reloader
    assert reloader is None or app not in reloader.owners
    app = squall.web.Application(debug=True, autoreload=False)
    assert reloader is None or app not in reloader.owners


def test_the_reloader_of_an_application_stops_when_the_application_is_gone() -> None:
    app = squall.web.Application(autoreload=True)
    assert squall.web.autoreload.is_running()
    reloader = _autoreload._reloader
    assert reloader is not None and app in reloader.owners
    del app
    gc.collect()
    wait_until(lambda: not squall.web.autoreload.is_running(), timeout=5.0)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, changed: list[str]) -> None:
        self.calls.append(sorted(changed))


def make_reloader(files: list[Path]) -> tuple[_autoreload._Reloader, Recorder]:
    recorder = Recorder()
    names = {str(f) for f in files}
    return _autoreload._Reloader(restart=recorder, files=lambda: set(names)), recorder


def test_a_changed_file_asks_for_a_restart(tmp_path: Path) -> None:
    mod = tmp_path / "m.py"
    mod.write_text("x = 1\n")
    reloader, recorder = make_reloader([mod])
    assert reloader.check() is False
    mod.write_text("x = 22\n")
    assert reloader.check() is True
    assert recorder.calls == [[str(mod)]]
    assert reloader.check() is False  # nothing changed since


def test_a_restart_removes_the_changed_modules_cached_bytecode(tmp_path: Path) -> None:
    # The cache is trusted on size + whole-second mtime: an edit keeping the size within
    # that second (VALUE = "one" -> "two") would restart into the old code.
    import importlib.util
    import py_compile

    mod, other = tmp_path / "m.py", tmp_path / "other.py"
    mod.write_text('VALUE = "one"\n')
    other.write_text("y = 1\n")
    for path in (mod, other):
        py_compile.compile(str(path), doraise=True)
    cached = Path(importlib.util.cache_from_source(str(mod)))
    other_cached = Path(importlib.util.cache_from_source(str(other)))
    reloader, recorder = make_reloader([mod, other])
    mod.write_text('VALUE = "two"\n')
    assert reloader.check() is True
    assert recorder.calls == [[str(mod)]]
    assert not cached.exists()
    assert other_cached.exists()  # unchanged: its cache is still right


def test_a_file_that_does_not_compile_is_logged_and_waited_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good, other = tmp_path / "good.py", tmp_path / "other.py"
    good.write_text("x = 1\n")
    other.write_text("y = 1\n")
    reloader, recorder = make_reloader([good, other])
    caplog.set_level(logging.ERROR, logger="squall.general")
    good.write_text("x = 1\ndef f(:\n")
    assert reloader.check() is False
    assert recorder.calls == []
    assert str(good) in caplog.text and "line 2" in caplog.text and "SyntaxError" in caplog.text
    # Another file changes while good.py is still broken: still no restart.
    other.write_text("y = 22\n")
    assert reloader.check() is False and recorder.calls == []
    good.write_text("x = 333\n")
    assert reloader.check() is True
    assert recorder.calls == [[str(good)]]


def test_a_broken_main_script_blocks_a_restart_asked_by_another_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The script was saved broken after the last check; another module's change must not
    # restart into a process that dies at import.
    script, mod = tmp_path / "app.py", tmp_path / "mod.py"
    script.write_text("x = 1\n")
    mod.write_text("y = 1\n")
    recorder = Recorder()
    reloader = _autoreload._Reloader(
        restart=recorder, files=lambda: {str(mod)}, main=lambda: str(script)
    )
    caplog.set_level(logging.ERROR, logger="squall.general")
    script.write_text("x = (\n")
    mod.write_text("y = 22\n")
    assert reloader.check() is False
    assert recorder.calls == []
    assert str(script) in caplog.text
    script.write_text("x = 2\n")
    mod.write_text("y = 333\n")
    assert reloader.check() is True
    assert recorder.calls == [[str(mod)]]


def test_new_and_missing_files_are_not_changes(tmp_path: Path) -> None:
    present, later = tmp_path / "a.py", tmp_path / "b.py"
    present.write_text("a = 1\n")
    reloader, recorder = make_reloader([present, later])
    later.write_text("b = 1\n")  # first seen now: its reference, not a change
    present.unlink()  # an editor replacing it: looked at again next time
    assert reloader.check() is False
    present.write_text("a = 22\n")
    assert reloader.check() is True
    assert recorder.calls == [[str(present)]]


def test_a_watched_non_python_file_is_not_compiled(tmp_path: Path) -> None:
    conf = tmp_path / "settings.toml"
    conf.write_text("a = 1\n")
    reloader, recorder = make_reloader([conf])
    conf.write_text("this is not python (\n")
    assert reloader.check() is True
    assert recorder.calls == [[str(conf)]]


def test_watch_adds_a_file_to_the_watched_set(tmp_path: Path) -> None:
    conf = tmp_path / "extra.cfg"
    conf.write_text("x")
    squall.web.autoreload.watch(str(conf))
    try:
        assert str(conf) in _autoreload.module_files()
        assert __file__ in _autoreload.module_files() or os.path.abspath(__file__) in (
            _autoreload.module_files()
        )
    finally:
        _autoreload._extra_files.discard(str(conf))


def test_a_file_watched_before_the_reloader_starts_compares_with_its_state_at_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "extra.cfg"
    conf.write_text("x")
    monkeypatch.setattr(_autoreload, "_reloader", None)  # no reloader runs yet
    squall.web.autoreload.watch(conf)
    try:
        conf.write_text("x changed before the start")
        reloader, recorder = make_reloader([conf])
        assert reloader.check() is True
        assert recorder.calls == [[str(conf)]]
    finally:
        _autoreload._extra_files.discard(str(conf))
        _autoreload._pending_signatures.pop(str(conf), None)


class _Waited(Exception):
    """Raised instead of waiting forever, to end the wrapper in-process."""


def test_the_wrapper_records_the_files_before_it_says_it_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A user edits the file as soon as the "waiting" line shows: by then the reference
    # state must be recorded, or the edit becomes the reference and is never a change.
    script = tmp_path / "broken.py"
    script.write_text("raise RuntimeError('boom at start-up')\n")
    said_before_record: list[bool] = []

    def start(owner: object, check_time: float) -> None:  # no thread that could exec pytest
        said_before_record.append("waiting" in capsys.readouterr().err)
        reloader = _autoreload._Reloader(restart=Recorder(), files=_autoreload.module_files)
        assert str(script) in reloader.signatures

    class Event:
        def wait(self) -> None:
            raise _Waited

    monkeypatch.setattr(_autoreload, "_reloader", None)
    monkeypatch.setattr(_autoreload, "_start", start)
    monkeypatch.setattr(_autoreload.threading, "Event", Event)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        with pytest.raises(_Waited):
            _autoreload.main([str(script)])
    finally:
        _autoreload._extra_files.discard(str(script))
        _autoreload._pending_signatures.pop(str(script), None)
    assert said_before_record == [False]
    assert "waiting for a change to restart" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("orig_argv", "argv", "spec", "expected"),
    [
        (["python3", "app.py", "--port=1"], ["app.py", "--port=1"], None, ["app.py", "--port=1"]),
        (
            ["python3", "-X", "dev", "-m", "site.app", "-p", "1"],
            ["/abs/site/app.py", "-p", "1"],
            "site.app",
            ["-X", "dev", "-m", "site.app", "-p", "1"],
        ),
        (None, ["/abs/site/app.py", "-p", "1"], "site.app", ["-m", "site.app", "-p", "1"]),
        (None, ["/abs/site/__main__.py"], "site.__main__", ["-m", "site"]),
        (None, ["app.py", "x"], None, ["app.py", "x"]),
    ],
)
def test_the_restart_runs_the_same_command_line(
    orig_argv: list[str] | None, argv: list[str], spec: str | None, expected: list[str]
) -> None:
    assert _autoreload.restart_argv("/py", orig_argv, argv, spec) == ["/py", *expected]
