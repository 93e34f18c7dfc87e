"""OptionParser: define, the namespace, parse_command_line, callbacks, groups, help."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest

from squall.options import (
    DuplicateOptionError,
    Error,
    OptionParser,
    OptionValueError,
    UnknownOptionError,
)


@pytest.fixture
def parser() -> OptionParser:
    # No environment: these tests must not depend on the SQUALL_* variables of the runner.
    return OptionParser(env_prefix=None)


# --------------------------------------------------------------------------------------
# define
# --------------------------------------------------------------------------------------


def test_defining_a_name_twice_names_both_places(parser: OptionParser) -> None:
    parser.define("port", default=1)
    with pytest.raises(DuplicateOptionError) as info:
        parser.define("port", default=2)
    message = str(info.value)
    assert message.count("test_parser.py:") == 2
    assert isinstance(info.value, Error)


def test_dash_and_underscore_are_the_same_name(parser: OptionParser) -> None:
    parser.define("log-dir", default="a")
    assert parser.log_dir == "a"
    assert parser["log-dir"] == "a"
    assert "log_dir" in parser
    with pytest.raises(DuplicateOptionError):
        parser.define("log_dir")
    parser.parse_command_line(["prog", "--log_dir=b"])
    assert parser["log-dir"] == "b"


def test_type_is_inferred_from_the_default(parser: OptionParser) -> None:
    parser.define("port", default=8000)
    parser.define("ratio", default=0.5)
    parser.define("ids", default=[1, 2], multiple=True)
    parser.define("names", default=[], multiple=True)
    parser.define("raw")
    parser.parse_command_line(["--port=9", "--ratio=2", "--ids=3,4", "--names=a", "--raw=7"])
    assert (parser.port, parser.ratio, parser.ids, parser.names) == (9, 2.0, [3, 4], ["a"])
    assert parser.raw == "7"


def test_a_default_that_does_not_fit_the_type_is_refused(parser: OptionParser) -> None:
    with pytest.raises(OptionValueError, match="default of option 'port'"):
        parser.define("port", default="x", type=int)


def test_multiple_without_default_or_value_is_an_empty_list(parser: OptionParser) -> None:
    parser.define("pppp", type=str, multiple=True)
    assert parser.pppp == []


# --------------------------------------------------------------------------------------
# The namespace
# --------------------------------------------------------------------------------------


def test_attribute_and_item_access_and_assignment(parser: OptionParser) -> None:
    parser.define("port", default=8000, type=int)
    assert parser.port == parser["port"] == 8000
    parser.port = 9000
    assert parser.port == 9000
    parser["port"] = 9001
    assert parser.port == 9001
    assert parser.source_of("port") == "code"


def test_assignment_is_type_checked(parser: OptionParser) -> None:
    parser.define("port", default=8000, type=int)
    with pytest.raises(OptionValueError) as info:
        parser.port = "sdf"
    assert str(info.value) == (
        "option --port: invalid int value: 'sdf' (a str assigned in code; text is parsed "
        "only from the command line, the environment and config files)"
    )
    assert (info.value.option, info.value.expected, info.value.value) == ("port", "int", "sdf")
    with pytest.raises(OptionValueError, match="got list"):
        parser.port = [1]
    assert parser.port == 8000


def test_none_can_be_assigned_to_any_option(parser: OptionParser) -> None:
    parser.define("level", default="info")
    parser.level = None
    assert parser.level is None


def test_undefined_name_is_an_attribute_error_listing_close_matches(
    parser: OptionParser,
) -> None:
    parser.define("port", default=1)
    parser.define("ports", default=1)
    with pytest.raises(AttributeError, match=r"--port.*--ports|--ports.*--port"):
        _ = parser.prot
    with pytest.raises(AttributeError) as info:
        _ = parser.zzzzzz
    assert "did you mean" not in str(info.value)
    with pytest.raises(UnknownOptionError):
        _ = parser["prot"]
    with pytest.raises(UnknownOptionError):
        parser.prot = 1


def test_iteration_membership_groups_and_dicts(parser: OptionParser) -> None:
    parser.define("port", default=1, group="app")
    parser.define("debug", default=False, group="app")
    parser.define("name", default="x")
    assert list(parser) == ["help", "port", "debug", "name"]
    assert "port" in parser and "nope" not in parser and 1 not in parser
    assert parser.group_dict("app") == {"port": 1, "debug": False}
    assert parser.groups() >= {"app", "help", __file__}
    assert parser.group_dict(__file__) == {"name": "x"}
    assert parser.as_dict() == {"help": None, "port": 1, "debug": False, "name": "x"}
    assert len(parser) == 4
    assert "port" in dir(parser)


# --------------------------------------------------------------------------------------
# parse_command_line
# --------------------------------------------------------------------------------------


def test_notes_example_port_and_comma_separated_multiple(parser: OptionParser) -> None:
    parser.define("port", default=8000, type=int, help="哈哈")
    parser.define("pppp", default=[], type=str, multiple=True)
    rest = parser.parse_command_line(["t1.py", "--port=9900", "--pppp=a,1,2,3,4"])
    assert rest == []
    assert parser.port == 9900
    assert parser.pppp == ["a", "1", "2", "3", "4"]
    assert parser.source_of("port") == "command line"


def test_bad_value_raises_error_naming_option_type_and_value(parser: OptionParser) -> None:
    parser.define("port", default=8000, type=int)
    with pytest.raises(Error, match=r"^option --port: invalid int value: 'sdf'$"):
        parser.parse_command_line(["t1.py", "--port=sdf"])


def test_a_bad_value_is_also_a_value_error_as_in_tornado(parser: OptionParser) -> None:
    # Tornado lets int("abc")'s ValueError out of parse_command_line(args): ported code
    # written `except ValueError` around it must still catch squall's error.
    parser.define("port", default=8000, type=int)
    with pytest.raises(ValueError, match=r"^option --port: invalid int value: 'abc'$"):
        parser.parse_command_line(["prog", "--port=abc"])


def test_unknown_option_suggests_the_closest_name(parser: OptionParser) -> None:
    parser.define("port", default=8000)
    with pytest.raises(UnknownOptionError) as info:
        parser.parse_command_line(["t1.py", "--prot=1"])
    assert str(info.value) == "unknown option --prot (did you mean --port?)"
    assert info.value.suggestions == ["port"]


def test_suggestions_ignore_dash_versus_underscore(parser: OptionParser) -> None:
    parser.define("log_file", default="")
    with pytest.raises(UnknownOptionError, match=r"did you mean --log_file\?"):
        parser.parse_command_line(["p", "--log-fle=x"])


def test_help_wins_wherever_it_is(parser: OptionParser, capsys: pytest.CaptureFixture[str]) -> None:
    parser.define("port", default=1)
    with pytest.raises(SystemExit) as info:
        parser.parse_command_line(["p", "--port", "sdf", "--help"])
    assert info.value.code == 0
    assert "--port=INT" in capsys.readouterr().out


def test_leftover_positionals_and_double_dash(parser: OptionParser) -> None:
    parser.define("port", default=1)
    assert parser.parse_command_line(["p", "--port=2", "a", "--port=3"]) == ["a", "--port=3"]
    assert parser.port == 2
    assert parser.parse_command_line(["p", "--", "--port=4", "b"]) == ["--port=4", "b"]
    assert parser.port == 2
    assert parser.parse_command_line(["--port=5"]) == []  # no program name: still an option
    assert parser.port == 5


def test_bool_flag_alone_and_with_values(parser: OptionParser) -> None:
    parser.define("debug", default=False)
    parser.parse_command_line(["p", "--debug"])
    assert parser.debug is True
    for text, expected in [("false", False), ("yes", True), ("0", False), ("on", True)]:
        parser.parse_command_line(["p", f"--debug={text}"])
        assert parser.debug is expected
    with pytest.raises(OptionValueError, match="invalid bool value: 'ture'"):
        parser.parse_command_line(["p", "--debug=ture"])


def test_value_in_the_next_argument_and_missing_value(parser: OptionParser) -> None:
    parser.define("port", default=1)
    parser.parse_command_line(["p", "--port", "7"])
    assert parser.port == 7
    with pytest.raises(OptionValueError, match="expected a value"):
        parser.parse_command_line(["p", "--port"])


def test_int_multiple_accepts_ranges(parser: OptionParser) -> None:
    parser.define("ids", type=int, multiple=True)
    parser.parse_command_line(["p", "--ids=1:3,7,10:11"])
    assert parser.ids == [1, 2, 3, 7, 10, 11]
    with pytest.raises(OptionValueError, match="invalid int value: 'x:2'"):
        parser.parse_command_line(["p", "--ids=x:2"])


def test_datetime_and_timedelta_options(parser: OptionParser) -> None:
    parser.define("start", type=datetime.datetime)
    parser.define("timeout", default=datetime.timedelta(seconds=5))
    parser.parse_command_line(["p", "--start=2024-05-01T10:00", "--timeout=1h30m"])
    assert parser.start == datetime.datetime(2024, 5, 1, 10, 0)
    assert parser.timeout == datetime.timedelta(minutes=90)
    with pytest.raises(OptionValueError, match="invalid timedelta value: 'soon'"):
        parser.parse_command_line(["p", "--timeout=soon"])


def test_dict_option_from_the_command_line(parser: OptionParser) -> None:
    parser.define("db", type=dict, default={})
    parser.parse_command_line(["p", '--db={"host": "h", "port": 5}'])
    assert parser.db == {"host": "h", "port": 5}
    parser.parse_command_line(["p", "--db=host=x,user=u"])
    assert parser.db == {"host": "x", "user": "u"}


def test_choices_are_checked_case_insensitively(parser: OptionParser) -> None:
    parser.define("mode", default="size", choices=("size", "time"))
    parser.parse_command_line(["p", "--mode=TIME"])
    assert parser.mode == "time"
    with pytest.raises(OptionValueError, match=r"invalid value: 'x' \(choose from size, time\)"):
        parser.parse_command_line(["p", "--mode=x"])


def test_help_prints_every_option_and_exits_zero(
    parser: OptionParser, capsys: pytest.CaptureFixture[str]
) -> None:
    parser.define("port", default=8000, type=int, help="哈哈")
    parser.define("pppp", default=[], type=str, multiple=True)
    parser.define("when", type=datetime.datetime, metavar="WHEN", group="times", help="start")
    with pytest.raises(SystemExit) as info:
        parser.parse_command_line(["p", "--port=1", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--port=INT" in out and "哈哈" in out and "(default: 8000)" in out
    assert "--pppp=STR[,STR...]" in out
    assert "times:" in out and "--when=WHEN" in out and f"{__file__}:" in out
    assert out.index(f"{__file__}:") < out.index("help:")  # the user's groups first


def test_print_help_to_a_file(parser: OptionParser) -> None:
    parser.define("debug", default=False, help="debug mode")
    buffer = io.StringIO()
    parser.print_help(buffer)
    assert "--debug " in buffer.getvalue() and "debug mode (default: False)" in buffer.getvalue()


# --------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------


def test_parse_callbacks_run_after_a_final_parse_only(parser: OptionParser) -> None:
    calls: list[str] = []
    parser.add_parse_callback(lambda: calls.append("a"))
    parser.add_parse_callback(lambda: calls.append("b"))
    parser.parse_command_line(["p"], final=False)
    assert calls == []
    parser.parse_command_line(["p"])
    assert calls == ["a", "b"]
    parser.run_parse_callbacks()
    assert calls == ["a", "b", "a", "b"]


def test_option_callback_gets_each_new_value(parser: OptionParser) -> None:
    seen: list[Any] = []
    parser.define("port", default=1, callback=seen.append)
    parser.parse_command_line(["p", "--port=2"])
    parser.port = 3
    assert seen == [2, 3]
