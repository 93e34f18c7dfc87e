"""The ``squall`` command's parts: arguments, finding the app, sockets, TLS, logging, errors.

The command run as a real process (serving, signals, --processes, --reload) is tested in
``integration_tests/test_cli.py``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from squall.web import Application
from squall.web import _cli as cli
from squall.web._cli_app import (
    AppImportError,
    AppLoadError,
    import_target,
    resolve_app,
    split_target,
)
from squall.web._cli_serve import TLSSetupError, configure_logging, tls_context
from squall.web._cli_sockets import (
    SocketSetupError,
    address_url,
    forget_systemd_vars,
    inherited_socket,
    socket_url,
    systemd_fds,
    tcp_sockets,
    unix_socket,
)


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["run", "m:app", *argv])


# -- arguments ------------------------------------------------------------------------------


def test_run_defaults():
    args = parse()
    assert args.target == "m:app"
    assert (args.port, args.address, args.uds, args.fd) == (None, None, None, None)
    assert (args.processes, args.reload, args.factory) == (1, False, False)
    assert (args.access_log, args.log_level, args.uvloop, args.config) == (True, "info", None, None)
    assert args.shutdown_timeout == 10.0


def test_boolean_pairs_and_repeated_fd():
    args = parse("--no-access-log", "--no-uvloop", "--fd", "3", "--fd", "4")
    assert (args.access_log, args.uvloop, args.fd) == (False, False, [3, 4])
    assert parse("--uvloop").uvloop is True


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--port", "abc"], "error: argument --port: invalid port 'abc'"),
        (["--port", "65536"], "error: argument --port: invalid port '65536'"),
        (["--processes", "-1"], "error: argument --processes: invalid count '-1'"),
        (["--fd", "x"], "error: argument --fd: invalid file descriptor 'x'"),
        (["--shutdown-timeout", "0"], "error: argument --shutdown-timeout: invalid number"),
        (["--log-level", "loud"], "error: argument --log-level: invalid choice: 'loud'"),
    ],
)
def test_bad_values_are_one_line_errors_with_status_2(capsys, argv, expected):
    with pytest.raises(SystemExit) as info:
        parse(*argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(expected), err
    assert err.count("\n") == 1


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args([])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("error: the following arguments are required")


def test_version_names_the_three_layers():
    line = cli.version_line()
    assert line.startswith(f"squall-web {cli.__version__} (squall-loop ")
    assert "squall-http " in line and line.endswith(f"{platform.python_version()})")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--reload", "--processes", "2"], "--reload cannot be used with --processes 2"),
        (["--reload", "--processes", "0"], "--reload cannot be used with --processes 0"),
        (["--reload", "--fd", "3"], "--reload cannot be used with --fd"),
        (["--port", "1", "--uds", "x"], "--port/--address and --uds given"),
        (["--address", "::1", "--fd", "3"], "--port/--address and --fd given"),
        (["--uds", "x", "--fd", "3"], "--uds and --fd given"),
    ],
)
def test_options_that_cannot_go_together_are_refused(argv, message):
    with pytest.raises(cli.UsageError, match="^" + message.replace("/", ".")):
        cli.check_combinations(parse(*argv))


def test_uvloop_demanded_but_missing_is_refused(monkeypatch):
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(cli.UsageError, match=r"--uvloop: uvloop is not installed"):
        cli.check_combinations(parse("--uvloop"))
    cli.check_combinations(parse("--no-uvloop"))  # plain asyncio needs nothing


# -- finding the application --------------------------------------------------------------


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder for throw-away modules and a unique name prefix; both forgotten afterwards."""
    prefix = f"cliapp_{uuid.uuid4().hex[:8]}"
    yield tmp_path, prefix
    for name in [m for m in sys.modules if m.startswith(prefix)]:
        del sys.modules[name]
    with_path = str(tmp_path)
    while with_path in sys.path:
        sys.path.remove(with_path)


def write_module(folder: Path, name: str, source: str) -> None:
    (folder / f"{name}.py").write_text(source)


APP_SOURCE = """
import squall.web
app = squall.web.Application([])
class Holder:
    inner = app
holder = Holder()
def make_app():
    return squall.web.Application([], from_factory=True)
def make_nothing():
    return 42
def make_boom():
    raise RuntimeError("factory exploded")
number = 7
"""


@pytest.mark.parametrize(
    ("target", "module", "attr"),
    [("a:b", "a", "b"), ("pkg.mod:obj.app", "pkg.mod", "obj.app"), (" a : b ", "a", "b")],
)
def test_target_is_module_colon_attribute(target, module, attr):
    assert split_target(target) == (module, attr)


@pytest.mark.parametrize("target", ["app", "mod:", ":app", ""])
def test_target_without_both_parts_is_refused(target):
    with pytest.raises(AppLoadError, match="is not of the form module:attribute"):
        split_target(target)


def test_module_is_found_in_the_given_directory_and_the_app_resolved(modules):
    folder, name = modules
    write_module(folder, name, APP_SOURCE)
    module = import_target(name, str(folder))
    assert sys.path[0] == str(folder)
    app = resolve_app(module, "app")
    assert isinstance(app, Application)
    assert resolve_app(module, "holder.inner") is app  # a dotted path


def test_factory_is_called_and_must_return_an_application(modules):
    folder, name = modules
    write_module(folder, name, APP_SOURCE)
    module = import_target(name, str(folder))
    assert resolve_app(module, "make_app", factory=True).settings["from_factory"] is True
    with pytest.raises(AppLoadError, match=rf"the factory {name}:make_nothing returned a int"):
        resolve_app(module, "make_nothing", factory=True)
    with pytest.raises(AppLoadError, match=r"--factory: .*:number is a int, not callable"):
        resolve_app(module, "number", factory=True)
    with pytest.raises(AppImportError, match="calling the factory .* failed") as info:
        resolve_app(module, "make_boom", factory=True)
    assert isinstance(info.value.__cause__, RuntimeError)
    # an Application given with --factory is a usage error (one line), not a crash of its
    # __call__ reported as the app's own failure
    with pytest.raises(AppLoadError, match=rf"--factory: {name}:app is already a squall") as err:
        resolve_app(module, "app", factory=True)
    assert not isinstance(err.value, AppImportError)


def test_wrong_attributes_name_what_is_wrong(modules):
    folder, name = modules
    write_module(folder, name, APP_SOURCE)
    module = import_target(name, str(folder))
    with pytest.raises(AppLoadError, match=rf"^module '{name}' has no attribute 'application'$"):
        resolve_app(module, "application")
    with pytest.raises(AppLoadError, match=rf"^{name}:holder has no attribute 'missing'$"):
        resolve_app(module, "holder.missing")
    with pytest.raises(AppLoadError, match=r"is a function, not a squall.web.Application \(pass"):
        resolve_app(module, "make_app")
    with pytest.raises(AppLoadError, match=r"is a int, not a squall.web.Application$"):
        resolve_app(module, "number")


def test_unknown_module_is_a_load_error_naming_it(modules):
    folder, name = modules
    with pytest.raises(AppLoadError, match=rf"^no module named '{name}_absent'") as info:
        import_target(f"{name}_absent", str(folder))
    assert not isinstance(info.value, AppImportError)


def test_a_module_that_fails_at_import_keeps_its_exception(modules):
    folder, name = modules
    write_module(folder, name, "import squall_no_such_dependency_xyz\n")
    write_module(folder, f"{name}_raises", "raise ValueError('broken at import')\n")
    with pytest.raises(AppImportError) as missing_dep:
        import_target(name, str(folder))
    assert isinstance(missing_dep.value.__cause__, ModuleNotFoundError)
    with pytest.raises(AppImportError, match="broken at import") as raised:
        import_target(f"{name}_raises", str(folder))
    assert isinstance(raised.value.__cause__, ValueError)


# -- sockets --------------------------------------------------------------------------------


def test_systemd_fds_only_for_this_process():
    env = {"LISTEN_PID": "1234", "LISTEN_FDS": "2"}
    assert systemd_fds(env, 1234) == [3, 4]
    assert systemd_fds(env, 999) == []  # meant for another process
    assert systemd_fds({}, 1234) == []
    with pytest.raises(SocketSetupError, match="LISTEN_FDS='two'"):
        systemd_fds({"LISTEN_PID": "1234", "LISTEN_FDS": "two"}, 1234)


def test_systemd_vars_are_forgotten_once_read():
    env = {"LISTEN_PID": "1", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "web", "PATH": "/bin"}
    forget_systemd_vars(env)
    assert env == {"PATH": "/bin"}


def test_systemd_sockets_and_a_port_on_the_command_line_are_refused(monkeypatch):
    monkeypatch.setenv("LISTEN_PID", str(os.getpid()))
    monkeypatch.setenv("LISTEN_FDS", "1")
    with pytest.raises(cli.UsageError, match=r"systemd passed 1 socket\(s\) \(LISTEN_FDS\)"):
        cli.open_sockets(parse("--port", "0"))
    assert "LISTEN_PID" not in os.environ


def test_inherited_listening_socket_is_served_non_blocking():
    listener = socket.create_server(("127.0.0.1", 0))
    fd = os.dup(listener.fileno())
    listener.close()
    sock = inherited_socket(fd, "--fd")
    try:
        assert sock.fileno() == fd and sock.getblocking() is False
        assert socket_url(sock, "http").startswith("http://127.0.0.1:")
    finally:
        sock.close()


def test_inherited_descriptor_that_is_no_listening_socket_is_refused_and_left_open():
    read_end, write_end = os.pipe()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(SocketSetupError, match=rf"^--fd {read_end}: .* is not a socket$"):
            inherited_socket(read_end, f"--fd {read_end}")
        with pytest.raises(SocketSetupError, match="is not a stream socket"):
            inherited_socket(udp.fileno(), "--fd")
        with pytest.raises(SocketSetupError, match="is not listening"):
            inherited_socket(tcp.fileno(), "--fd")
        os.fstat(tcp.fileno())  # still open: the descriptor belongs to whoever passed it
    finally:
        for fd in (read_end, write_end):
            os.close(fd)
        udp.close()
        tcp.close()
    with pytest.raises(SocketSetupError, match=rf"descriptor {read_end} is not open"):
        inherited_socket(read_end, "--fd")


def test_busy_port_is_a_one_line_error_naming_address_and_port():
    busy = socket.create_server(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    try:
        with pytest.raises(SocketSetupError, match=rf"^cannot bind 127.0.0.1:{port} "):
            tcp_sockets(port, "127.0.0.1")
    finally:
        busy.close()


def test_tcp_and_unix_sockets_and_their_urls(tmp_path):
    (sock,) = tcp_sockets(0, "127.0.0.1")
    try:
        port = sock.getsockname()[1]
        assert socket_url(sock, "https") == f"https://127.0.0.1:{port}/"
    finally:
        sock.close()
    path = tmp_path / "s.sock"
    usock = unix_socket(str(path))
    try:
        assert socket_url(usock, "http") == f"unix:{path}"
        assert path.stat().st_mode & 0o777 == 0o666
    finally:
        usock.close()
    regular = tmp_path / "file"
    regular.write_text("x")
    with pytest.raises(SocketSetupError, match="^--uds: cannot bind unix socket .*not a socket"):
        unix_socket(str(regular))


def test_ipv6_address_url_has_brackets():
    assert address_url("::1", 8000, "http") == "http://[::1]:8000/"
    assert address_url("0.0.0.0", 80, "https") == "https://0.0.0.0:80/"


def test_unix_socket_file_is_removed_by_the_process_that_bound_it(tmp_path):
    path = tmp_path / "gone.sock"
    sock = unix_socket(str(path))
    with cli._removing_unix_socket([sock]):
        assert path.exists()
    sock.close()
    assert not path.exists()


# -- TLS, logging, config -----------------------------------------------------------------


def test_tls_refuses_a_key_without_certificate_and_missing_or_bad_files(tmp_path):
    assert tls_context(None, None) is None
    with pytest.raises(TLSSetupError, match="^--ssl-keyfile needs --ssl-certfile$"):
        tls_context(None, "key.pem")
    with pytest.raises(TLSSetupError, match=r"^--ssl-certfile '/nonexistent.pem': No such file"):
        tls_context("/nonexistent.pem", None)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(TLSSetupError, match=r"^--ssl-keyfile '/nonexistent.key'"):
        tls_context(str(garbage), "/nonexistent.key")
    with pytest.raises(TLSSetupError, match="^cannot load the certificate and key from"):
        tls_context(str(garbage), None)


@pytest.fixture
def clean_logging() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    access = logging.getLogger("squall.access")
    saved = (root.level, list(root.handlers), access.level)
    yield root
    root.setLevel(saved[0])
    root.handlers = saved[1]
    access.setLevel(saved[2])


def test_logging_level_handler_and_access_log_switch(clean_logging):
    clean_logging.handlers = []  # here, not in the fixture: pytest adds its own per phase
    configure_logging(logging.WARNING, access_log=True)
    assert clean_logging.level == logging.WARNING
    (handler,) = clean_logging.handlers
    assert isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr
    access = logging.getLogger("squall.access")
    assert access.isEnabledFor(logging.WARNING) and not access.isEnabledFor(logging.INFO)
    configure_logging(logging.INFO, access_log=False)
    assert len(clean_logging.handlers) == 1  # the program's (or our first) handler is kept
    assert not access.isEnabledFor(logging.CRITICAL)
    assert logging.getLogger("squall.general").isEnabledFor(logging.INFO)


def test_config_without_squall_options_names_the_package(monkeypatch, tmp_path):
    config = tmp_path / "conf.toml"
    config.write_text("x = 1\n")
    monkeypatch.setitem(sys.modules, "squall.options", None)  # as if not installed
    with pytest.raises(cli.UsageError, match="^--config needs squall-options, which is not"):
        cli.apply_config(str(config))


def test_interface_asgi_without_squall_asgi_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "squall.asgi._cli", None)  # as if not installed
    with pytest.raises(cli.UsageError, match="^--interface asgi needs squall-asgi, which is not"):
        cli._foreign_app(object(), "asgi", "m:app")


def test_interface_defaults_to_squall_and_refuses_unknown_names(capsys):
    parser = cli.build_parser()
    assert parser.parse_args(["run", "m:app"]).interface == "squall"
    assert parser.parse_args(["run", "m:app", "--interface", "wsgi"]).interface == "wsgi"
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "m:app", "--interface", "rsgi"])
    assert "invalid choice: 'rsgi'" in capsys.readouterr().err


def test_config_file_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(cli.UsageError, match=r"^--config '.*nope.toml': no such file$"):
        cli.apply_config(str(tmp_path / "nope.toml"))


# -- main: status and output -------------------------------------------------------------


def test_main_unknown_module_is_one_line_and_status_2(capsys, modules, clean_logging):
    _folder, name = modules
    with pytest.raises(SystemExit) as info:
        cli.main(["run", f"{name}_nothing:app"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no module named '{name}_nothing'") and err.count("\n") == 1


def test_main_app_that_raises_at_import_shows_its_traceback_and_status_1(
    capsys, modules, monkeypatch, clean_logging
):
    # clean_logging: main() sets the root level (--log-level error); later tests need theirs.
    folder, name = modules
    write_module(folder, name, "def broken():\n    raise KeyError('oops')\nbroken()\n")
    monkeypatch.chdir(folder)
    with pytest.raises(SystemExit) as info:
        cli.main(["run", f"{name}:app", "--log-level", "error"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "in broken" in err
    assert err.strip().splitlines()[-1].startswith(f"error: importing '{name}' failed: KeyError")
