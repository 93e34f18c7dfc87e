"""配置文件: options from a Python config file, from TOML, and the "import config" module.

Statements checked: a config file of any name (``config``) holding ``port = 8000`` and
``pppp = ['sdf', '123']`` is read by ``parse_config_file("./config")`` (the one line
added) and the script runs as usual; TOML files are read too and hold dicts (what the
Python form cannot, 不支持字典); the recommended way, ``import config`` and
``config.port``, needs nothing from squall; errors in a config file name the file and line.
"""

from __future__ import annotations

import httpx

READ_CONFIG = (
    "import sys, squall.options\n"
    "squall.options.define('port', default=1, type=int)\n"
    "squall.options.define('pppp', default=[], type=str, multiple=True)\n"
    "squall.options.define('database', default={}, type=dict)\n"
    "squall.options.parse_config_file(sys.argv[1])\n"
    "o = squall.options.options\n"
    "print(o.port, o.pppp, sorted(o.database.items()))\n"
)


def test_python_config_file_sets_port_and_pppp(examples_copy, launcher, get_free_port):
    # The notes' file, with the test's free port instead of 8000, read by the example.
    port = get_free_port()
    (examples_copy / "config").write_text(f"port = {port}\npppp = ['sdf', '123']\n")
    with launcher.running_example(
        examples_copy / "config_file.py", [], port=port, port_arg=False
    ) as srv:
        lines = srv.wait_stdout("/\n").splitlines()
        assert lines[0] == str(port)
        assert lines[1] == "['sdf', '123']"
        # after the notes' three lines, the URL line every example prints
        assert lines[3] == f"serving on http://127.0.0.1:{port}/"
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello word"


def test_command_line_wins_over_the_config_file(examples_copy, launcher):
    (examples_copy / "config").write_text("port = 1\npppp = ['sdf', '123']\n")
    with launcher.running_example(examples_copy / "config_file.py", ["--pppp=x"]) as srv:
        lines = srv.wait_stdout("}").splitlines()
        assert lines[0] == str(srv.port)
        assert lines[1] == "['x']"
        assert httpx.get(srv.url + "/").text == "hello word"


def test_toml_config_file_sets_options_and_a_dict(examples_copy, launcher, get_free_port):
    port = get_free_port()
    (examples_copy / "config.toml").write_text(
        f'port = {port}\npppp = ["sdf", "123"]\n\n[database]\nhost = "127.0.0.1"\nname = "squall"\n'
    )
    with launcher.running_example(
        examples_copy / "config_file.py", ["--config=config.toml"], port=port, port_arg=False
    ) as srv:
        lines = srv.wait_stdout("}").splitlines()
        assert lines[0] == str(port)
        assert lines[1] == "['sdf', '123']"
        assert lines[2] == "{'host': '127.0.0.1', 'name': 'squall'}"
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello word"


def test_config_option_takes_its_path_in_the_next_argument(
    examples_copy, launcher, get_free_port, tmp_path
):
    # `--config PATH` as well as `--config=PATH`; relative to the current directory, which
    # is not the example's directory here.
    port = get_free_port()
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "app.toml").write_text(f'port = {port}\n[database]\nname = "x"\n')
    with launcher.running_example(
        examples_copy / "config_file.py",
        ["--config", "conf/app.toml"],
        port=port,
        port_arg=False,
        cwd=tmp_path,
    ) as srv:
        lines = srv.wait_stdout("}").splitlines()
        assert lines[0] == str(port)
        assert lines[2] == "{'name': 'x'}"
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello word"


def test_bad_config_file_given_to_the_example_is_one_line_and_exit_2(examples_copy, launcher):
    (examples_copy / "bad.toml").write_text('pppp = ["a"]\nport = "sdf"\n')
    (examples_copy / "unknown.toml").write_text("port = 1\n\n[databse]\nname = 'x'\n")
    cases = [
        (["--config=bad.toml"], "bad.toml:2: option --port: invalid int value: 'sdf'"),
        (["--config", "bad.toml"], "bad.toml:2: option --port: invalid int value: 'sdf'"),
        (
            ["--config=unknown.toml"],
            "unknown.toml:3: unknown table [databse]: no option or group of that name"
            " (did you mean [database]?)",
        ),
    ]
    for args, line in cases:
        result = launcher.run(examples_copy / "config_file.py", args)
        assert (result.returncode, result.stdout) == (2, ""), (args, result)
        assert result.stderr == f"error: {line}\n", args


def test_missing_config_file_given_to_the_example_raises_file_not_found(examples_copy, launcher):
    # As in Tornado (an IOError a script may catch for an optional file); uncaught, the
    # last line names the file.
    result = launcher.run(examples_copy / "config_file.py", ["--config", "nope.toml"])
    assert (result.returncode, result.stdout) == (1, ""), result
    assert result.stderr.strip().splitlines()[-1] == (
        "squall.options._errors.ConfigFileNotFoundError: "
        "nope.toml: cannot read config file: No such file or directory"
    )


def test_shipped_config_files_hold_what_the_notes_show(launcher, tmp_path, examples_dir):
    script = tmp_path / "read_config.py"
    script.write_text(READ_CONFIG)
    result = launcher.run(script, [str(examples_dir / "config")])
    assert result.returncode == 0, result
    assert result.stdout.strip() == "8000 ['sdf', '123'] []"
    result = launcher.run(script, [str(examples_dir / "config.toml")])
    assert result.returncode == 0, result
    assert result.stdout.strip() == (
        "8000 ['sdf', '123'] [('host', '127.0.0.1'), ('name', 'squall')]"
    )


def test_bad_value_in_config_file_names_the_file_and_line(launcher, tmp_path):
    script = tmp_path / "read_config.py"
    script.write_text(READ_CONFIG)
    bad = tmp_path / "config"
    bad.write_text("# comment\npppp = ['a']\nport = 'sdf'\n")
    result = launcher.run(script, [str(bad)])
    assert result.returncode != 0
    # e.g. "/tmp/.../config:3: option --port: invalid int value: 'sdf'"
    assert f"{bad}:3" in result.stderr or (str(bad) in result.stderr and "line 3" in result.stderr)
    assert "port" in result.stderr and "sdf" in result.stderr, result.stderr
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text('pppp = ["a"]\nport = "sdf"\n')
    result = launcher.run(script, [str(bad_toml)])
    assert result.returncode != 0
    assert str(bad_toml) in result.stderr, result.stderr
    assert "port" in result.stderr and "sdf" in result.stderr, result.stderr
    syntax = tmp_path / "config_syntax"
    syntax.write_text("port = 1\npppp = [\n")
    result = launcher.run(script, [str(syntax)])
    assert result.returncode != 0
    assert f"{syntax}:2" in result.stderr or (
        str(syntax) in result.stderr and "line 2" in result.stderr
    ), result.stderr


def test_import_config_module_listens_on_config_port(examples_copy, launcher, get_free_port):
    # 推荐这种方式: config.py imported by the script; http_server.listen(config.port).
    port = get_free_port()
    (examples_copy / "config.py").write_text(f"port = {port}\n")
    with launcher.running_example(
        examples_copy / "config_module.py", [], port=port, port_arg=False
    ) as srv:
        assert srv.wait_stdout("\n").splitlines()[0] == str(port)
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello word"


def test_shipped_config_module_says_8800(examples_dir, launcher, tmp_path):
    script = tmp_path / "read_module.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(examples_dir)!r})\n"
        "import config\nprint(config.port)\n"
    )
    result = launcher.run(script, [])
    assert result.stdout.strip() == "8800"


def test_environment_variable_sets_an_option(examples_copy, launcher, get_free_port):
    # Beyond Tornado: the environment as a source, SQUALL_PORT=...
    port = get_free_port()
    (examples_copy / "config").write_text("pppp = ['sdf', '123']\n")
    with launcher.running_example(
        examples_copy / "config_file.py",
        [],
        port=port,
        port_arg=False,
        env={"SQUALL_PORT": str(port)},
    ) as srv:
        assert srv.wait_stdout("}").splitlines()[0] == str(port)
