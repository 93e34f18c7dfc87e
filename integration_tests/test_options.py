"""optinon: ``define``, ``parse_command_line``, ``options.x``, ``multiple``, ``--help``, errors.

Statements checked: ``python t1.py --port=9900 --pppp=a,1,2,3,4`` prints 9900 and the list
['a', '1', '2', '3', '4'] and listens on 9900; ``--port=sdf`` is an error (类型不对会报错):
one line naming the option and the bad value, exit status 2, no traceback; ``--help``
lists every option with its help (哈哈) and exits 0; the default (8000, []) applies when an
option is not given; ``multiple`` with neither default nor value gives [].
"""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("options.py", ["--pppp=a,1,2,3,4"]) as srv:
        yield srv


def test_port_and_pppp_are_printed_as_the_notes_show(server):
    out = server.wait_stdout("]")
    lines = out.splitlines()
    assert lines[0] == str(server.port)
    assert lines[1] == "['a', '1', '2', '3', '4']"


def test_server_listens_on_the_port_option(server):
    r = httpx.get(f"http://127.0.0.1:{server.port}/")
    assert r.text == "hello word"


def test_multiple_values_are_a_list_of_the_option_type(launcher):
    # multiple=True, type=str: "1,2" gives the list of two str (not ints, not one string)
    with launcher.running_example("options.py", ["--pppp=1,2"]) as srv:
        out = srv.wait_stdout("]")
    assert out.splitlines()[1] == "['1', '2']"


def test_bad_int_value_is_one_line_error_with_status_2(launcher):
    # python t1.py --port=sdf --pppp=a,1,2,3,4  # 类型不对会报错
    result = launcher.run("options.py", ["--port=sdf", "--pppp=a,1,2,3,4"])
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "port" in lines[0] and "sdf" in lines[0] and "int" in lines[0], lines[0]
    assert result.stdout == ""


def test_unknown_option_is_an_error_suggesting_the_close_name(launcher):
    result = launcher.run("options.py", ["--prot=9900"])
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert "prot" in result.stderr and "port" in result.stderr.replace("prot", "", 1)


def test_help_lists_every_option_and_exits_0(launcher):
    result = launcher.run("options.py", ["--help"])
    assert result.returncode == 0, result
    text = result.stdout + result.stderr
    assert "--port" in text and "--pppp" in text
    assert "哈哈" in text  # help='哈哈'
    assert "8000" in text  # the default is shown
    assert "options.py" in text  # grouped by the file that defined them
    # squall.options' own logging option is listed as well
    assert "--logging" in text


def test_defaults_apply_when_options_are_not_given(tmp_path, launcher):
    # default=[] for pppp; port has a default of 8000 but the test must pick a free port:
    # run a copy that prints the defaults and exits.
    script = tmp_path / "defaults.py"
    script.write_text(
        "import squall.options\n"
        "squall.options.define('port', default=8000, type=int, help='哈哈')\n"
        "squall.options.define('pppp', default=[], type=str, multiple=True)\n"
        "squall.options.define('qqqq', type=str, multiple=True)\n"
        "squall.options.define('inferred', default=1.5)\n"
        "squall.options.define('untyped')\n"
        "squall.options.parse_command_line()\n"
        "o = squall.options.options\n"
        "print(o.port, o.pppp, o.qqqq, o['port'])\n"
        "print(type(o.inferred).__name__, repr(o.untyped))\n"
    )
    result = launcher.run(script, [])
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[0] == "8000 [] [] 8000"
    assert result.stdout.splitlines()[1] == "float None"
    result = launcher.run(script, ["--inferred=2", "--untyped=abc", "--qqqq=x"])
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[0] == "8000 [] ['x'] 8000"
    assert result.stdout.splitlines()[1] == "float 'abc'"
    result = launcher.run(script, ["--inferred=zz"])
    assert result.returncode == 2 and "inferred" in result.stderr and "zz" in result.stderr


def test_int_multiple_accepts_ranges_and_datetime_timedelta_types(tmp_path, launcher):
    script = tmp_path / "option_types.py"
    script.write_text(
        "import datetime, squall.options\n"
        "squall.options.define('ids', type=int, multiple=True)\n"
        "squall.options.define('when', type=datetime.datetime)\n"
        "squall.options.define('wait', type=datetime.timedelta)\n"
        "squall.options.define('flag', type=bool, default=False)\n"
        "squall.options.parse_command_line()\n"
        "o = squall.options.options\n"
        "print(o.ids, o.when.isoformat(), o.wait.total_seconds(), o.flag)\n"
    )
    result = launcher.run(
        script, ["--ids=1:3,7", "--when=2024-05-06 07:08:09", "--wait=1h30m", "--flag"]
    )
    assert result.returncode == 0, result
    assert result.stdout.strip() == "[1, 2, 3, 7] 2024-05-06T07:08:09 5400.0 True"
