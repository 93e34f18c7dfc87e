"""Config files (Python and TOML), the environment, and the precedence between sources."""

from __future__ import annotations

import datetime
import errno
from collections.abc import Callable
from pathlib import Path

import pytest

from squall.options import (
    ConfigFileError,
    ConfigFileNotFoundError,
    Error,
    OptionParser,
    OptionValueError,
    UnknownOptionError,
)


@pytest.fixture
def parser() -> OptionParser:
    p = OptionParser(env_prefix="TESTSQ_")
    p.define("port", default=8000, type=int)
    p.define("pppp", default=[], type=str, multiple=True)
    return p


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------------------
# Python config files
# --------------------------------------------------------------------------------------


def test_notes_python_config_file(parser: OptionParser, tmp_path: Path) -> None:
    path = write(tmp_path, "config", "port = 8000\npppp = ['sdf', '123']\n['sdf', '123']\n")
    parser.port = 1
    parser.parse_config_file(path)
    assert parser.port == 8000
    assert parser.pppp == ["sdf", "123"]
    assert parser.source_of("pppp") == "config file"


def test_python_config_skips_code_and_underscore_names_and_parses_strings(
    parser: OptionParser, tmp_path: Path
) -> None:
    parser.define("timeout", default=datetime.timedelta(seconds=1))
    text = (
        "import os\nfrom os import path\n_helper = 3\ndef f(): pass\nclass C: pass\n"
        "port = str(9100 + _helper - 3)\npppp = 'a,b'\ntimeout = '2m'\n"
    )
    parser.parse_config_file(write(tmp_path, "conf.py", text))
    assert (parser.port, parser.pppp) == (9100, ["a", "b"])
    assert parser.timeout == datetime.timedelta(minutes=2)
    assert "_helper" not in parser and "f" not in parser


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = 1\nprot = 2\n", ":2: unknown option --prot (did you mean --port?); "),
        ("\nsettings = {'a': 1}\n", ":2: unknown option --settings; "),
    ],
)
def test_python_config_unknown_name_is_an_error_like_toml(
    parser: OptionParser, tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, "config", text)
    with pytest.raises(UnknownOptionError) as info:
        parser.parse_config_file(path)
    assert str(info.value) == f"{path}{message}a name that is not an option must start with _"


def test_python_config_bad_value_names_file_and_assignment_line(
    parser: OptionParser, tmp_path: Path
) -> None:
    path = write(tmp_path, "config", "# comment\n\nport = 'sdf'\n")
    with pytest.raises(OptionValueError) as info:
        parser.parse_config_file(path)
    assert str(info.value) == f"{path}:3: option --port: invalid int value: 'sdf'"


def test_python_config_wrong_python_type_names_line(parser: OptionParser, tmp_path: Path) -> None:
    path = write(tmp_path, "config", "port = 1\npppp = 5\n")
    with pytest.raises(Error, match=rf"^{path}:2: option --pppp: .*expected a list"):
        parser.parse_config_file(path)


def test_python_config_syntax_error_names_file_and_line(
    parser: OptionParser, tmp_path: Path
) -> None:
    path = write(tmp_path, "config", "port = 1\nport = = 2\n")
    with pytest.raises(ConfigFileError, match=rf"^{path}:2: syntax error"):
        parser.parse_config_file(path)


def test_python_config_exception_names_file_and_line(parser: OptionParser, tmp_path: Path) -> None:
    path = write(tmp_path, "config", "port = 1\n\nport = undefined_name\n")
    with pytest.raises(ConfigFileError, match=rf"^{path}:3: NameError: .*undefined_name"):
        parser.parse_config_file(path)


def test_missing_config_file_is_an_error(parser: OptionParser, tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read config file"):
        parser.parse_config_file(tmp_path / "nope")


@pytest.mark.parametrize("name", ["nope", "nope.toml"])
def test_missing_config_file_is_also_a_file_not_found_error(
    parser: OptionParser, tmp_path: Path, name: str
) -> None:
    # Tornado's optional config catches IOError around parse_config_file.
    path = str(tmp_path / name)
    with pytest.raises(FileNotFoundError) as info:
        parser.parse_config_file(path)
    assert isinstance(info.value, ConfigFileNotFoundError)
    assert (info.value.errno, info.value.filename) == (errno.ENOENT, path)
    assert str(info.value) == f"{path}: cannot read config file: No such file or directory"


# --------------------------------------------------------------------------------------
# TOML config files
# --------------------------------------------------------------------------------------


def test_toml_top_level_groups_and_dict_options(parser: OptionParser, tmp_path: Path) -> None:
    parser.define("host", default="", group="db")
    parser.define("pool-size", default=1, group="db")
    parser.define("extra", type=dict, default={})
    text = (
        "port = 9000\n"
        "pppp = ['sdf', '123']\n"
        "[db]\nhost = 'h'\npool_size = 4\n"
        "[extra]\nkey = 'v'\nnested = { a = 1 }\n"
    )
    parser.parse_config_file(write(tmp_path, "app.toml", text))
    assert (parser.port, parser.pppp) == (9000, ["sdf", "123"])
    assert parser.group_dict("db") == {"host": "h", "pool-size": 4}
    assert parser.extra == {"key": "v", "nested": {"a": 1}}


def test_toml_native_dates_durations_and_booleans(parser: OptionParser, tmp_path: Path) -> None:
    parser.define("start", type=datetime.datetime)
    parser.define("day", type=datetime.datetime)
    parser.define("timeout", type=datetime.timedelta)
    parser.define("debug", default=False)
    parser.define("ids", type=int, multiple=True)
    text = "start = 2024-05-01T10:00:00\nday = 2024-05-02\ntimeout = '1h'\ndebug = true\n"
    text += "ids = [1, 2]\n"
    parser.parse_config_file(write(tmp_path, "app.toml", text))
    assert parser.start == datetime.datetime(2024, 5, 1, 10)
    assert parser.day == datetime.datetime(2024, 5, 2)
    assert parser.timeout == datetime.timedelta(hours=1)
    assert (parser.debug, parser.ids) == (True, [1, 2])


def test_toml_bad_value_names_file_and_line(parser: OptionParser, tmp_path: Path) -> None:
    parser.define("size", default=1, group="other")
    path = write(tmp_path, "app.toml", "port = 1\n[other]\nsize = 'big'\n")
    with pytest.raises(OptionValueError) as info:
        parser.parse_config_file(path)
    assert str(info.value) == f"{path}:3: option --size: invalid int value: 'big'"


def test_toml_unknown_key_is_an_error_with_suggestion(parser: OptionParser, tmp_path: Path) -> None:
    path = write(tmp_path, "app.toml", "\nprot = 1\n")
    with pytest.raises(UnknownOptionError) as info:
        parser.parse_config_file(path)
    assert str(info.value) == f"{path}:2: unknown option --prot (did you mean --port?)"


def test_toml_unknown_key_in_a_group(parser: OptionParser, tmp_path: Path) -> None:
    parser.define("host", default="", group="db")
    path = write(tmp_path, "app.toml", "[db]\nhots = 'x'\n")
    with pytest.raises(UnknownOptionError, match=rf"^{path}:2: unknown option 'hots' in group"):
        parser.parse_config_file(path)


def test_toml_unknown_table_is_an_error_naming_it(parser: OptionParser, tmp_path: Path) -> None:
    parser.define("host", default="", group="db")
    path = write(tmp_path, "app.toml", "port = 1\n\n[dbb]\nhost = 'x'\n")
    with pytest.raises(UnknownOptionError) as info:
        parser.parse_config_file(path)
    assert str(info.value) == (
        f"{path}:3: unknown table [dbb]: no option or group of that name (did you mean [db]?)"
    )


def test_toml_syntax_error_names_file_and_line(parser: OptionParser, tmp_path: Path) -> None:
    path = write(tmp_path, "app.toml", "port = 1\nport = \n")
    with pytest.raises(ConfigFileError, match=rf"^{path}:2: invalid TOML"):
        parser.parse_config_file(path)


# --------------------------------------------------------------------------------------
# Environment and precedence
# --------------------------------------------------------------------------------------


def test_environment_variables_set_options(parser: OptionParser) -> None:
    parser.parse_environment(environ={"TESTSQ_PORT": "9000", "TESTSQ_PPPP": "a,b", "OTHER": "1"})
    assert (parser.port, parser.pppp) == (9000, ["a", "b"])
    assert parser.source_of("port") == "environment"


def test_environment_prefix_is_configurable_and_can_be_off(parser: OptionParser) -> None:
    parser.parse_environment(prefix="MYAPP_", environ={"MYAPP_PORT": "1", "TESTSQ_PORT": "2"})
    assert parser.port == 1
    parser.env_prefix = None
    parser.parse_environment(environ={"TESTSQ_PORT": "3"})
    assert parser.port == 1


def test_environment_bad_value_names_the_variable(parser: OptionParser) -> None:
    with pytest.raises(
        OptionValueError,
        match=r"^environment variable TESTSQ_PORT: option --port: invalid int value: 'x'$",
    ):
        parser.parse_environment(environ={"TESTSQ_PORT": "x"})


def test_parse_command_line_reads_the_environment_unless_told_not_to(
    parser: OptionParser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTSQ_PORT", "9001")
    parser.parse_command_line(["p"], environment=False)
    assert parser.port == 8000
    parser.parse_command_line(["p"])
    assert parser.port == 9001


@pytest.mark.parametrize("order", ["cli-env-file", "file-env-cli", "env-file-cli"])
def test_precedence_is_independent_of_call_order(
    parser: OptionParser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    parser.define("a", default="default")  # only the default
    parser.define("b", default="default")  # config file
    parser.define("c", default="default")  # config file + environment
    parser.define("d", default="default")  # config file + environment + command line
    path = write(tmp_path, "config", "b = 'file'\nc = 'file'\nd = 'file'\n")
    monkeypatch.setenv("TESTSQ_C", "env")
    monkeypatch.setenv("TESTSQ_D", "env")
    steps: dict[str, Callable[[], object]] = {
        "cli": lambda: parser.parse_command_line(["p", "--d=cli"], environment=False),
        "env": lambda: parser.parse_environment(),
        "file": lambda: parser.parse_config_file(path),
    }
    for step in order.split("-"):
        steps[step]()
    assert [parser.a, parser.b, parser.c, parser.d] == ["default", "file", "env", "cli"]
    assert [parser.source_of(n) for n in "abcd"] == [
        "default",
        "config file",
        "environment",
        "command line",
    ]


def test_code_assignment_wins_until_a_source_sets_the_option(parser: OptionParser) -> None:
    parser.parse_command_line(["p", "--port=1"])
    parser.port = 2  # code always applies ...
    assert parser.port == 2
    parser.parse_environment(environ={"TESTSQ_PORT": "3"})  # ... and later sources replace it
    assert parser.port == 3
