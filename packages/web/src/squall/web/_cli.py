"""The ``squall`` command (also ``python -m squall``): ``squall run module:app [options]``.

What ``uvicorn app:app --reload --workers 4`` does for ASGI apps, for squall.web apps::

    squall run examples.hello:app --port 8000
    squall run myapp:make_app --factory --processes 0 --address 0.0.0.0
    squall run myapp:app --reload
    squall run myapp:app --uds /run/myapp.sock          # behind nginx
    squall run myapp:app --fd 3                          # a socket its parent opened

Errors the user can fix from the command line (a bad option value, an unknown module or
attribute, an object that is not an Application, a busy port, a missing certificate, options
that cannot go together) are one line on stderr, ``error: ...``, and exit status 2. An
exception raised by the application's own code while it is imported or built is shown with
its traceback, then one ``error:`` line, and exit status 1.

Layering: this module belongs to squall.web and imports only web and the layers below.
``--config`` needs squall-options, which web must not import: it is looked up by name when
the option is used, and its absence is reported in one line naming the package. The same
goes for ``--interface asgi|wsgi`` (an ASGI or WSGI application served by squall.http):
squall-asgi is imported by name only then.

How the run proceeds (load, bind, fork, serve) is in :func:`run`; the pieces are in
``_cli_app`` (finding the Application), ``_cli_sockets`` (listening sockets) and
``_cli_serve`` (logging, TLS, the serving loop and graceful shutdown).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import logging
import os
import platform
import socket
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

from squall.http import __version__ as http_version
from squall.loop import ForkError, LoopError, fork_processes, task_id
from squall.loop import __version__ as loop_version
from squall.web import _autoreload
from squall.web._application import Application
from squall.web._cli_app import (
    AppImportError,
    AppLoadError,
    import_target,
    resolve_app,
    split_target,
)
from squall.web._cli_serve import TLSSetupError, configure_logging, serve, tls_context
from squall.web._cli_sockets import (
    SocketSetupError,
    forget_systemd_vars,
    inherited_socket,
    socket_url,
    systemd_fds,
    tcp_sockets,
    unix_socket,
)
from squall.web._errors import ConfigurationError
from squall.web._version import __version__

DEFAULT_PORT = 8000
DEFAULT_ADDRESS = "127.0.0.1"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
OPTIONS_PACKAGE = "squall.options"
OPTIONS_MISSING = (
    "--config needs squall-options, which is not installed "
    "(pip install ./packages/options from a squall checkout, or squall-options from an index)"
)
ASGI_PACKAGE = "squall.asgi._cli"
ASGI_MISSING = (
    "--interface {} needs squall-asgi, which is not installed "
    "(pip install ./packages/asgi from a squall checkout, or squall-asgi from an index)"
)
INTERFACES = ("squall", "asgi", "wsgi")


class UsageError(Exception):
    """A command line that cannot be honoured; the message is the one line the user sees."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: ...``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: message`` (and where to find help) on one line; exit 2."""
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _whole_number(low: int, high: int | None, message: str) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number ``>= low`` (and ``<= high`` unless None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(message.format(text=text))
        return value

    return parse


_port = _whole_number(0, 65535, "invalid port {text!r}: a number from 0 to 65535")
_count = _whole_number(0, None, "invalid count {text!r}: a number >= 0")
_fd = _whole_number(0, None, "invalid file descriptor {text!r}")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"invalid number of seconds {text!r}")
    return value


def version_line() -> str:
    """``squall-web X (squall-loop Y, squall-http Z; CPython 3.11.7)``."""
    return (
        f"squall-web {__version__} (squall-loop {loop_version}, squall-http {http_version}; "
        f"{platform.python_implementation()} {platform.python_version()})"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``squall`` argument parser (``run`` is its one command)."""
    parser = _Parser(
        prog="squall",
        description="Run a squall.web application.",
        epilog="squall run --help lists the options of run.",
    )
    parser.add_argument("--version", action="version", version=version_line())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run_parser = commands.add_parser(
        "run",
        help="serve an Application: squall run module:app",
        description=(
            "Serve the squall.web Application named module:attribute until SIGTERM or "
            "SIGINT, which finish the requests in flight and exit with status 0."
        ),
    )
    add = run_parser.add_argument
    add("target", metavar="module:app", help="where the Application is: examples.hello:app")
    add("--factory", action="store_true", help="module:app is a function returning the Application")
    add(
        "--interface",
        choices=INTERFACES,
        default="squall",
        help="what module:app is: a squall.web Application (default), an ASGI or a WSGI "
        "application (asgi and wsgi need squall-asgi)",
    )
    where = run_parser.add_argument_group("where to listen (one of)")
    where.add_argument(
        "--port", type=_port, help=f"TCP port (default {DEFAULT_PORT}; 0: any free one)"
    )
    where.add_argument(
        "--address", help=f'address to bind (default {DEFAULT_ADDRESS}; "" or 0.0.0.0: all)'
    )
    where.add_argument("--uds", metavar="PATH", help="a Unix domain socket at PATH instead of TCP")
    where.add_argument(
        "--fd",
        type=_fd,
        action="append",
        metavar="N",
        help="serve the listening socket inherited on file descriptor N (repeatable); "
        "systemd's LISTEN_FDS/LISTEN_PID are used when no other place is given",
    )
    how = run_parser.add_argument_group("how to serve")
    how.add_argument(
        "--processes",
        type=_count,
        default=1,
        metavar="N",
        help="fork N processes sharing the sockets (0: one per CPU; default 1: no fork)",
    )
    how.add_argument(
        "--reload", action="store_true", help="restart when a source file changes (development)"
    )
    how.add_argument(
        "--uvloop",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="demand uvloop, or plain asyncio with --no-uvloop "
        "(default: uvloop when installed, unless SQUALL_NO_UVLOOP=1)",
    )
    how.add_argument("--ssl-certfile", metavar="FILE", help="serve HTTPS with this certificate")
    how.add_argument("--ssl-keyfile", metavar="FILE", help="its key, if not in the certfile")
    how.add_argument(
        "--xheaders",
        action="store_true",
        help="trust X-Real-IP/X-Forwarded-For/X-Scheme (only behind a proxy you control)",
    )
    how.add_argument(
        "--shutdown-timeout",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="at SIGTERM/SIGINT, how long requests in flight may take (default 10)",
    )
    logs = run_parser.add_argument_group("logging and configuration")
    logs.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one line per request on the squall.access logger (default: on)",
    )
    logs.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="default: info")
    logs.add_argument(
        "--config",
        metavar="FILE",
        help="read squall.options values from FILE (Python or .toml) after importing the "
        "module and before calling a --factory (needs squall-options)",
    )
    return parser


def check_combinations(args: argparse.Namespace) -> None:
    """Refuse options that cannot go together, naming them.

    Raises:
        UsageError: ``--reload`` with several processes or an inherited socket, two places
            to listen, a uvloop that is not installed.
    """
    if args.reload and args.processes != 1:
        raise UsageError(
            f"--reload cannot be used with --processes {args.processes}: autoreload restarts "
            "one process and cannot supervise several"
        )
    if args.reload and args.fd:
        raise UsageError(
            "--reload cannot be used with --fd: the restarted process would not inherit the socket"
        )
    tcp = args.port is not None or args.address is not None
    places = [name for name, given in (("--uds", args.uds), ("--fd", args.fd)) if given]
    if tcp:
        places.insert(0, "--port/--address")
    if len(places) > 1:
        raise UsageError(f"{' and '.join(places)} given: choose one place to listen")
    if args.uvloop and importlib.util.find_spec("uvloop") is None:
        raise UsageError("--uvloop: uvloop is not installed (pip install 'squall-loop[uvloop]')")


def apply_config(path: str) -> None:
    """Read ``path`` into squall.options' global options (without reconfiguring logging).

    Raises:
        UsageError: squall-options is not installed, or the file is missing or wrong.
    """
    if not os.path.isfile(path):
        raise UsageError(f"--config {path!r}: no such file")
    try:
        options: Any = importlib.import_module(OPTIONS_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name in (OPTIONS_PACKAGE, "squall"):
            raise UsageError(OPTIONS_MISSING) from None
        raise
    try:
        # final=False: the parse callbacks would set up logging, which --log-level owns here.
        options.parse_config_file(path, final=False)
    except options.Error as exc:
        raise UsageError(f"--config: {exc}") from None


def open_sockets(args: argparse.Namespace) -> list[socket.socket]:
    """The listening sockets the arguments (or systemd) ask for.

    Raises:
        SocketSetupError: a socket cannot be made.
        UsageError: systemd passed sockets but another place was named too.
    """
    activated = systemd_fds(os.environ, os.getpid())
    forget_systemd_vars(os.environ)
    if activated:
        named = args.fd or args.uds or args.port is not None or args.address is not None
        if named:
            raise UsageError(
                f"systemd passed {len(activated)} socket(s) (LISTEN_FDS) and the command line "
                "names another place to listen: use one or the other"
            )
        return [inherited_socket(fd, "LISTEN_FDS") for fd in activated]
    if args.fd:
        return [inherited_socket(fd, f"--fd {fd}") for fd in args.fd]
    if args.uds:
        return [unix_socket(args.uds)]
    port = DEFAULT_PORT if args.port is None else args.port
    address = DEFAULT_ADDRESS if args.address is None else args.address
    return tcp_sockets(port, address)


@contextlib.contextmanager
def _removing_unix_socket(sockets: list[socket.socket]) -> Iterator[None]:
    """Remove the socket files bound here once this (first) process is done with them."""
    owner = os.getpid()
    files: list[tuple[str, int]] = []
    for sock in sockets:
        if sock.family == socket.AF_UNIX:
            path = sock.getsockname()
            if isinstance(path, str) and path:
                with contextlib.suppress(OSError):
                    files.append((path, os.stat(path).st_ino))
    try:
        yield
    finally:
        # Children of --processes return through here too: only the first process removes.
        if os.getpid() == owner and task_id() is None:
            for path, inode in files:
                with contextlib.suppress(OSError):
                    if os.stat(path).st_ino == inode:
                        os.remove(path)


def _load_app(args: argparse.Namespace) -> Application:
    module_name, attr = split_target(args.target)
    module = import_target(module_name)
    if args.config is not None:
        apply_config(args.config)
        if args.reload:
            _autoreload.watch(args.config)
    interface = getattr(args, "interface", "squall")
    if interface == "squall":
        app: Application = resolve_app(module, attr, factory=args.factory)
        return app
    obj = resolve_app(module, attr, factory=args.factory, any_object=True)
    # not an Application, but what serve() needs of one (startup, shutdown, requests)
    served: Application = _foreign_app(obj, interface, args.target)
    return served


def _foreign_app(obj: object, interface: str, target: str) -> Any:
    """``obj`` (an ASGI or WSGI app) in the shape ``serve()`` drives, made by squall-asgi.

    Raises:
        UsageError: squall-asgi is not installed, or ``obj`` is not such an application.
    """
    try:
        adapter: Any = importlib.import_module(ASGI_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name in (ASGI_PACKAGE, "squall.asgi", "squall"):
            raise UsageError(ASGI_MISSING.format(interface)) from None
        raise
    try:
        return adapter.cli_app(obj, interface, target)
    except adapter.CLIAppError as exc:
        raise UsageError(f"--interface {interface}: {exc}") from None


def _report(exc: BaseException) -> None:
    if isinstance(exc, AppImportError) and exc.__cause__ is not None:
        traceback.print_exception(exc.__cause__, file=sys.stderr)
    print(f"error: {exc}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> None:
    """Load, bind, fork (``--processes``), serve; see the module docstring for errors.

    Raises:
        UsageError, AppLoadError, SocketSetupError, TLSSetupError: reported by :func:`main`.
    """
    check_combinations(args)
    configure_logging(getattr(logging, args.log_level.upper()), args.access_log)
    context = tls_context(args.ssl_certfile, args.ssl_keyfile)
    try:
        app = _load_app(args)
    except (AppLoadError, UsageError) as exc:
        # The module ran (and failed, or lacks the attribute): there are files to watch.
        # A module that does not exist at all leaves nothing to wait for.
        imported = isinstance(exc, AppImportError) or args.target.partition(":")[0] in sys.modules
        if not args.reload or not imported:
            raise
        # Under --reload a broken app waits for the fix instead of exiting.
        _report(exc)
        # The files' state is recorded before the line is printed (an edit made right
        # after it must count as a change).
        _autoreload._wait_for_change(exc.__cause__, "squall: waiting for a change to restart")
        raise  # pragma: no cover - _wait_for_change ends in a restart or runs forever
    sockets = open_sockets(args)
    scheme = "https" if context is not None else "http"
    lines = [f"serving on {socket_url(sock, scheme)}" for sock in sockets]
    with _removing_unix_socket(sockets):
        if args.reload:
            _autoreload.start()
        if args.processes != 1:
            for line in lines:
                print(line, flush=True)
            lines = []
            fork_processes(args.processes)
        serve(
            app,
            sockets,
            ssl_context=context,
            use_uvloop=args.uvloop,
            xheaders=args.xheaders,
            shutdown_timeout=args.shutdown_timeout,
            ready_lines=lines,
        )


def main(argv: Sequence[str] | None = None) -> None:
    """The entry point of the ``squall`` script and of ``python -m squall``."""
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except AppImportError as exc:
        _report(exc)
        raise SystemExit(1) from None
    except (
        UsageError,
        AppLoadError,
        SocketSetupError,
        TLSSetupError,
        ConfigurationError,
        ForkError,
        LoopError,
    ) as exc:
        _report(exc)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        # Ctrl-C before the server's own handlers were installed (while importing the app):
        # stop quietly, with the shell's status for SIGINT.
        raise SystemExit(130) from None
