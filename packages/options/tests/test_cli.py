"""Real command lines: scripts written to tmp_path and run with ``sys.executable``.

These check what only a real process shows: exit statuses, the exact stderr line (and no
traceback), ``--help`` on stdout, and the environment of a real process.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NOTES_T1 = """
import squall.options

squall.options.define('port', default=8000, type=int, help='哈哈')
squall.options.define('pppp', default=[], type=str, multiple=True)

if __name__ == "__main__":
    rest = squall.options.parse_command_line()
    print(squall.options.options.port)
    print(squall.options.options.pppp)
    if rest:
        print("rest", rest)
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUALL_")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run(
    tmp_path: Path, source: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "t1.py"
    script.write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_notes_t1_port_and_multiple(tmp_path: Path) -> None:
    proc = run(tmp_path, NOTES_T1, "--port=9900", "--pppp=a,1,2,3,4")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "9900\n['a', '1', '2', '3', '4']\n"


def test_notes_t1_defaults_and_leftover_arguments(tmp_path: Path) -> None:
    proc = run(tmp_path, NOTES_T1, "--port=1", "--", "x", "--y")
    assert proc.stdout == "1\n[]\nrest ['x', '--y']\n"


def test_bad_value_is_one_stderr_line_and_exit_2(tmp_path: Path) -> None:
    proc = run(tmp_path, NOTES_T1, "--port=sdf", "--pppp=a,1,2,3,4")
    assert proc.returncode == 2
    assert proc.stderr == "error: option --port: invalid int value: 'sdf'\n"
    assert proc.stdout == ""


def test_unknown_option_suggests_closest_and_exits_2(tmp_path: Path) -> None:
    proc = run(tmp_path, NOTES_T1, "--prot=9000")
    assert proc.returncode == 2
    assert proc.stderr == "error: unknown option --prot (did you mean --port?)\n"


def test_help_lists_every_option_and_exits_0(tmp_path: Path) -> None:
    proc = run(tmp_path, NOTES_T1, "--help")
    assert proc.returncode == 0
    out = proc.stdout
    assert out.startswith("Usage: t1.py [OPTIONS]")
    assert "t1.py:" in out
    for expected in ("--port=INT", "哈哈", "(default: 8000)", "--pppp=STR[,STR...]"):
        assert expected in out
    for expected in ("logging:", "--logging=", "--log_to_stderr", "--log_file_prefix=PATH"):
        assert expected in out
    assert "--help" in out
    assert proc.stderr == ""


def test_config_file_of_the_notes(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("port = 8000\npppp = ['sdf', '123']\n['sdf', '123']\n")
    source = NOTES_T1.replace(
        "rest = squall.options.parse_command_line()",
        'rest = None\n    squall.options.parse_config_file("./config")',
    )
    proc = run(tmp_path, source)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "8000\n['sdf', '123']\n"


def test_environment_variable_below_the_command_line(tmp_path: Path) -> None:
    env = clean_env(SQUALL_PORT="9000", SQUALL_PPPP="e")
    proc = run(tmp_path, NOTES_T1, "--pppp=c", env=env)
    assert proc.stdout == "9000\n['c']\n"


def test_bad_environment_variable_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = run(tmp_path, NOTES_T1, env=clean_env(SQUALL_PORT="sdf"))
    assert proc.returncode == 2
    assert proc.stderr == (
        "error: environment variable SQUALL_PORT: option --port: invalid int value: 'sdf'\n"
    )


LOGGING_SCRIPT = """
import logging
import squall.options
{before}
squall.options.parse_command_line()
logging.getLogger("squall.general").info("hello from info")
logging.getLogger("squall.general").warning("hello from warning")
"""


def test_default_logging_prints_info_lines_on_stderr(tmp_path: Path) -> None:
    proc = run(tmp_path, LOGGING_SCRIPT.format(before=""))
    assert proc.returncode == 0
    lines = proc.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[I ") and lines[0].endswith("hello from info")
    assert "\033[" not in proc.stderr  # not a terminal: no colour
    assert proc.stdout == ""


def test_logging_none_on_the_command_line_configures_nothing(tmp_path: Path) -> None:
    proc = run(tmp_path, LOGGING_SCRIPT.format(before=""), "--logging=none")
    # Python's last-resort handler still shows warnings, bare; info is gone.
    assert proc.stderr == "hello from warning\n"


def test_logging_none_in_code_before_parse(tmp_path: Path) -> None:
    before = "squall.options.options.logging = None"
    proc = run(tmp_path, LOGGING_SCRIPT.format(before=before))
    assert proc.stderr == "hello from warning\n"


def test_log_file_prefix_writes_to_the_file_not_stderr(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    proc = run(tmp_path, LOGGING_SCRIPT.format(before=""), f"--log_file_prefix={log}")
    assert proc.returncode == 0
    assert proc.stderr == ""
    text = log.read_text(encoding="utf-8")
    assert "hello from info" in text and "hello from warning" in text


def test_python_dash_c_program_name_is_not_an_option(tmp_path: Path) -> None:
    code = (
        "import squall.options as o; o.define('port', default=1); "
        "print(o.parse_command_line(), o.options.port)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "--port=5", "rest"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "['rest'] 5\n", proc.stderr


def run_on_a_terminal(tmp_path: Path, source: str, env: dict[str, str]) -> str:
    """Run a script whose stderr is a pseudo-terminal; return what it wrote there."""
    script = tmp_path / "tty.py"
    script.write_text(textwrap.dedent(source), encoding="utf-8")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(script)], stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        os.close(master)
    return b"".join(chunks).decode("utf-8")


TTY_SCRIPT = """
import logging
import squall.options
squall.options.parse_command_line()
logging.getLogger("squall.general").warning("on a terminal")
"""


def test_log_lines_are_coloured_on_a_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in clean_env().items() if k not in ("NO_COLOR", "TERM")}
    text = run_on_a_terminal(tmp_path, TTY_SCRIPT, env)
    assert "\033[33m[W " in text and "on a terminal" in text


def test_no_color_turns_colour_off_on_a_terminal(tmp_path: Path) -> None:
    text = run_on_a_terminal(tmp_path, TTY_SCRIPT, clean_env(NO_COLOR="1"))
    assert "on a terminal" in text and "\033[" not in text


def test_an_unopenable_log_file_on_the_command_line_is_one_line_and_status_2(
    tmp_path: Path,
) -> None:
    log = tmp_path / "missing-dir" / "app.log"
    proc = run(tmp_path, LOGGING_SCRIPT.format(before=""), f"--log_file_prefix={log}")
    assert proc.returncode == 2
    assert proc.stderr == (
        f"error: option --log_file_prefix: cannot open '{log}' for writing: "
        "No such file or directory\n"
    )


# --------------------------------------------------------------------------------------
# A bad config file ends the program like a bad command-line value: one line, status 2
# --------------------------------------------------------------------------------------

CONFIG_SCRIPT = """
import squall.options

squall.options.define('port', default=8000, type=int)
squall.options.define('host', default='', group='db')
squall.options.define('config', default='none.toml', type=str)

if __name__ == "__main__":
    squall.options.parse_command_line(final=False)
    squall.options.parse_config_file(squall.options.options.config)
    print(squall.options.options.port, squall.options.options.host)
"""

# Tornado's documented way: the file is read by the option's callback, during the parse.
CALLBACK_SCRIPT = """
import squall.options

squall.options.define('port', default=8000, type=int)
squall.options.define('host', default='', group='db')
squall.options.define(
    'config', type=str,
    callback=lambda path: squall.options.parse_config_file(path, final=False),
)

if __name__ == "__main__":
    squall.options.parse_command_line()
    print(squall.options.options.port, squall.options.options.host)
"""

BAD_CONFIG_FILES = [
    # (file name under conf/, its text, the one stderr line after "error: conf/NAME")
    ("type.toml", "\nport = 'sdf'\n", ":2: option --port: invalid int value: 'sdf'"),
    ("unknown.toml", "port = 1\nprot = 2\n", ":2: unknown option --prot (did you mean --port?)"),
    (
        "table.toml",
        "port = 1\n\n[dbb]\nhost = 'x'\n",
        ":3: unknown table [dbb]: no option or group of that name (did you mean [db]?)",
    ),
    ("group.toml", "[db]\nhots = 'x'\n", ":2: unknown option 'hots' in group [db]"),
    ("syntax.toml", "port = 1\nport = \n", ":2: invalid TOML: Invalid value"),
    ("type.py", "# a comment\nport = 'sdf'\n", ":2: option --port: invalid int value: 'sdf'"),
    (
        "unknown.py",
        "import os\n_helper = 1\nprot = 2\n",
        ":3: unknown option --prot (did you mean --port?); "
        "a name that is not an option must start with _",
    ),
    ("syntax.py", "port = 1\nport = (\n", ":2: syntax error: '(' was never closed"),
    ("raises.py", "port = 1\nraise ValueError('two\\nlines')\n", ":2: ValueError: two lines"),
]


def run_in(
    tmp_path: Path, source: str, *args: str, files: dict[str, str | None]
) -> subprocess.CompletedProcess[str]:
    # The script lives elsewhere than the current directory: relative config paths must be
    # relative to the latter.
    (tmp_path / "bin").mkdir()
    work = tmp_path / "work"
    (work / "conf").mkdir(parents=True)
    for name, text in files.items():
        if text is not None:
            (work / "conf" / name).write_text(text, encoding="utf-8")
    script = tmp_path / "bin" / "app.py"
    script.write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


@pytest.mark.parametrize(("name", "text", "line"), BAD_CONFIG_FILES)
def test_bad_config_file_is_one_stderr_line_and_exit_2(
    tmp_path: Path, name: str, text: str | None, line: str
) -> None:
    proc = run_in(tmp_path, CONFIG_SCRIPT, f"--config=conf/{name}", files={name: text})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"error: conf/{name}{line}\n"


@pytest.mark.parametrize("form", ["--config=conf/{}", "--config conf/{}"])
@pytest.mark.parametrize(("name", "text", "line"), BAD_CONFIG_FILES[::3])
def test_bad_config_file_read_by_an_option_callback_is_one_line_and_exit_2(
    tmp_path: Path, form: str, name: str, text: str | None, line: str
) -> None:
    proc = run_in(tmp_path, CALLBACK_SCRIPT, *form.format(name).split(), files={name: text})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"error: conf/{name}{line}\n"


# Tornado's optional config file: a missing file is an IOError the script catches.
OPTIONAL_CONFIG_SCRIPT = """
import squall.options

squall.options.define('port', default=8000, type=int)

if __name__ == "__main__":
    try:
        squall.options.parse_config_file("conf/{name}")
    except IOError as exc:
        print("no config:", exc.filename)
    print(squall.options.options.port)
"""


@pytest.mark.parametrize("name", ["missing.toml", "missing.py"])
def test_missing_config_file_is_an_ioerror_the_tornado_idiom_catches(
    tmp_path: Path, name: str
) -> None:
    proc = run_in(tmp_path, OPTIONAL_CONFIG_SCRIPT.replace("{name}", name), files={})
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == f"no config: conf/{name}\n8000\n"


def test_missing_config_file_not_caught_ends_with_the_file_not_found_error(
    tmp_path: Path,
) -> None:
    proc = run_in(tmp_path, CONFIG_SCRIPT, "--config=conf/missing.toml", files={})
    assert (proc.returncode, proc.stdout) == (1, "")
    last = proc.stderr.strip().splitlines()[-1]
    assert last == (
        "squall.options._errors.ConfigFileNotFoundError: "
        "conf/missing.toml: cannot read config file: No such file or directory"
    )


@pytest.mark.parametrize("form", ["--config=conf/{}", "--config conf/{}"])
def test_good_config_file_is_read_relative_to_the_current_directory(
    tmp_path: Path, form: str
) -> None:
    name, text = "app.toml", "port = 9100\n[db]\nhost = 'h'\n"
    proc = run_in(tmp_path, CONFIG_SCRIPT, *form.format(name).split(), files={name: text})
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "9100 h\n"
