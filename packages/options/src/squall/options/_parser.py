"""``OptionParser``: the collection of defined options, and the global ``options``.

Theory of operation
-------------------
Each ``define`` records an :class:`~squall.options._option.Option` under its normalized
name (``-`` and ``_`` are the same). Sources (``parse_command_line``,
``parse_config_file``, ``parse_environment``, assignment in code) all go through the same
two steps: turn the input into a checked value (``Option.parse`` for text,
``Option.coerce`` for Python values), then ``Option.set`` with the source's name, which
applies the precedence rule (defaults < config file < environment < command line, whatever
the call order). Every error is a :class:`~squall.options.Error` whose message is one
line; ``parse_command_line()`` on the real command line turns it into
``error: <message>`` on stderr and exit status 2, as command-line tools do.

Attribute access is the option namespace: ``options.port`` reads, ``options.port = 1``
writes (type-checked). Names starting with ``_`` and the names of this class's own
attributes are never options, so methods always win over an option of the same name
(use ``options["name"]`` for such an option).
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any, NoReturn

from squall.options import _help, _sources
from squall.options._errors import (
    ConfigFileNotFoundError,
    DuplicateOptionError,
    Error,
    OptionValueError,
    UnknownOptionError,
)
from squall.options._option import Option, normalize_name
from squall.options._state import OverrideMixin

_THIS_FILE = os.path.normcase(os.path.abspath(__file__))
_PACKAGE_DIR = os.path.dirname(_THIS_FILE)
# Frames in these files only forward a define call; the definer is further out.
_FORWARDERS = frozenset({_THIS_FILE, os.path.join(_PACKAGE_DIR, "_globals.py")})

DEFAULT_ENV_PREFIX = "SQUALL_"
"""The prefix of environment variables read by ``parse_command_line``: ``SQUALL_PORT``."""


def _caller_location() -> tuple[str, str, bool]:
    """(``file:line``, file, defined-by-squall.options) of the code that called define."""
    frame = sys._getframe(1)
    while frame.f_back is not None and (
        os.path.normcase(os.path.abspath(frame.f_code.co_filename)) in _FORWARDERS
    ):
        frame = frame.f_back
    file_name = frame.f_code.co_filename
    builtin = os.path.dirname(os.path.normcase(os.path.abspath(file_name))) == _PACKAGE_DIR
    return f"{file_name}:{frame.f_lineno}", file_name, builtin


def _located(error: Error, place: str) -> Error:
    """The same error with ``place: `` in front of its message (file:line, variable)."""
    message = f"{place}: {error}"
    if isinstance(error, OptionValueError):
        return OptionValueError(
            message, option=error.option, expected=error.expected, value=error.value
        )
    if isinstance(error, UnknownOptionError):
        return UnknownOptionError(message, name=error.name, suggestions=error.suggestions)
    return type(error)(message)


def _infer_type(default: Any, multiple: bool) -> Any:
    if multiple and isinstance(default, list | tuple):
        return type(default[0]) if default else str
    return type(default) if default is not None else str


class OptionParser(OverrideMixin):
    """A set of options. squall.options keeps one global instance, ``options``.

    Args:
        env_prefix: the prefix of the environment variables this parser reads
            (``SQUALL_`` → ``SQUALL_PORT``); ``None`` turns the environment off.
    """

    def __init__(self, env_prefix: str | None = DEFAULT_ENV_PREFIX) -> None:
        object.__setattr__(self, "_options", {})
        object.__setattr__(self, "_parse_callbacks", [])
        object.__setattr__(self, "env_prefix", env_prefix)
        self.define("help", type=bool, help="show this help message and exit", group="help")
        self._options["help"].builtin = True

    # ----------------------------------------------------------------------------------
    # Declaring options
    # ----------------------------------------------------------------------------------

    def define(
        self,
        name: str,
        default: Any = None,
        type: Any = None,
        help: str | None = None,
        metavar: str | None = None,
        multiple: bool = False,
        group: str | None = None,
        callback: Callable[[Any], None] | None = None,
        *,
        choices: Sequence[str] | None = None,
    ) -> None:
        """Define an option (see ``squall.options.define`` for the arguments)."""
        key = normalize_name(name)
        location, file_name, builtin = _caller_location()
        existing = self._options.get(key)
        if existing is not None:
            raise DuplicateOptionError(
                f"option {name!r} already defined at {existing.location}, "
                f"defined again at {location}"
            )
        if type is None:
            type = _infer_type(default, multiple)
        if multiple and default is None:
            default = []
        if multiple and isinstance(default, tuple):
            default = list(default)
        option = Option(
            name=name,
            type=type,
            default=default,
            help=help,
            metavar=metavar,
            multiple=multiple,
            group=group,
            callback=callback,
            choices=tuple(c.lower() for c in choices) if choices is not None else None,
            location=location,
            file_name=file_name,
            builtin=builtin,
        )
        if default is not None:
            try:
                option.default = option.coerce(default)
            except Error as exc:
                raise _located(exc, f"default of option {name!r} at {location}") from None
            option.reset()
        self._options[key] = option

    # ----------------------------------------------------------------------------------
    # The namespace
    # ----------------------------------------------------------------------------------

    def _unknown(self, name: str) -> UnknownOptionError:
        # Compared normalized, so "--log-fle" finds "log_file"; reported as defined.
        by_key = {o.key: o.name for o in self._options.values()}
        keys = difflib.get_close_matches(normalize_name(name), by_key, n=3, cutoff=0.6)
        close = [by_key[k] for k in keys]
        hint = f" (did you mean {', '.join('--' + c for c in close)}?)" if close else ""
        return UnknownOptionError(f"unknown option --{name}{hint}", name=name, suggestions=close)

    def option(self, name: str) -> Option:
        """The :class:`Option` record of ``name``; raises ``UnknownOptionError``."""
        try:
            return self._options[normalize_name(name)]
        except KeyError:
            raise self._unknown(name) from None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        option = self._options.get(normalize_name(name))
        if option is None:
            raise AttributeError(f"{self._unknown(name)}") from None
        return option.value

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or hasattr(type(self), name) or name == "env_prefix":
            object.__setattr__(self, name, value)
            return
        self[name] = value

    def __getitem__(self, name: str) -> Any:
        return self.option(name).value

    def __setitem__(self, name: str, value: Any) -> None:
        option = self.option(name)
        if isinstance(value, str) and option.type is not str:
            # Code assigns values of the option's type, as in Tornado: text is parsed only
            # where it comes in as text (command line, environment, config files).
            raise option.wrong_type(value)
        option.set(option.coerce(value), "code", "code", force=True)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_name(name) in self._options

    def __iter__(self) -> Iterator[str]:
        return iter([o.name for o in self._options.values()])

    def __len__(self) -> int:
        return len(self._options)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {o.name for o in self._options.values()})

    def items(self) -> list[tuple[str, Any]]:
        """``(name, value)`` of every option."""
        return [(o.name, o.value) for o in self._options.values()]

    def as_dict(self) -> dict[str, Any]:
        """Every option's name and value."""
        return dict(self.items())

    def groups(self) -> set[str]:
        """The group names (explicit groups, else the defining files)."""
        return {o.group_name for o in self._options.values()}

    def group_dict(self, group: str | None) -> dict[str, Any]:
        """Name → value of the options of ``group`` (of every option if ``group`` is falsy).

        Handy for Application settings: ``Application(routes, **options.group_dict("app"))``.
        """
        return {
            o.name: o.value for o in self._options.values() if not group or o.group_name == group
        }

    def source_of(self, name: str) -> str:
        """Where the current value of ``name`` came from: ``default``, ``code``,
        ``config file``, ``environment`` or ``command line``."""
        return self.option(name).source

    # ----------------------------------------------------------------------------------
    # Sources
    # ----------------------------------------------------------------------------------

    def parse_command_line(
        self, args: Sequence[str] | None = None, final: bool = True, *, environment: bool = True
    ) -> list[str]:
        """Parse ``--name=value`` arguments; return the positional arguments left over.

        Args:
            args: like ``sys.argv`` (``args[0]``, the program, is skipped unless it starts
                with ``-``); ``None`` means the real command line, ``sys.argv``.
            final: run the parse callbacks afterwards (logging setup among them).
            environment: also read the environment variables (``SQUALL_PORT``; see
                ``env_prefix``) first; they rank below the command line.

        Returns:
            The arguments after the first positional one or after ``--``.

        Raises:
            Error: a bad value or an unknown option, only when ``args`` is given: on the
                real command line the message is printed as ``error: ...`` on stderr and
                the process exits with status 2 (no traceback).
            SystemExit: ``--help`` prints the help and exits with status 0.
        """
        real = args is None
        # sys.argv[0] is always the program (even "-c" under ``python -c``); in a given
        # list a first item starting with "-" is taken as an option (no program given).
        if args is None:
            argv = list(sys.argv[1:])
        else:
            argv = list(args[1:] if args and not args[0].startswith("-") else args)
        try:
            return self._parse_args(argv, final=final, environment=environment)
        except Error as exc:
            if not real:
                raise
            _fail(str(exc))

    def _parse_args(self, argv: list[str], *, final: bool, environment: bool) -> list[str]:
        # --help anywhere before "--" wins over everything, even over a bad value.
        end = argv.index("--") if "--" in argv else len(argv)
        for arg in argv[:end]:
            if not arg.startswith("-"):
                continue
            key = normalize_name(arg.lstrip("-").partition("=")[0])
            if key == "help" or (key == "h" and "h" not in self):
                self.print_help()
                sys.exit(0)
        if environment:
            self.parse_environment(final=False)
        remaining: list[str] = []
        i = 0
        while i < len(argv):
            arg = argv[i]
            if arg == "--":
                remaining = argv[i + 1 :]
                break
            if not arg.startswith("-") or arg == "-":
                remaining = argv[i:]
                break
            name, has_value, text = arg.lstrip("-").partition("=")
            option = self.option(name)
            if not has_value:
                if option.type is bool and not option.multiple:
                    text = "true"
                elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                    i += 1
                    text = argv[i]
                else:
                    raise OptionValueError(
                        f"option {option.flag}: expected a value ({option.flag}=VALUE)",
                        option=option.name,
                        expected=option.type_label(),
                        value=None,
                    )
            option.set(option.parse(text), "command line", f"--{name}")
            i += 1
        if final:
            self.run_parse_callbacks()
        return remaining

    def parse_environment(
        self,
        prefix: str | None = None,
        environ: Mapping[str, str] | None = None,
        final: bool = False,
    ) -> None:
        """Read options from environment variables: ``SQUALL_PORT=9000`` sets ``port``.

        Args:
            prefix: the variable prefix; default ``env_prefix`` (``SQUALL_``). With no
                prefix (``env_prefix = None``) nothing is read.
            environ: the variables; default ``os.environ``.
            final: run the parse callbacks afterwards.

        Variables that name no option are ignored (other programs use the prefix too).
        Environment values rank above config files and below the command line.
        """
        prefix = self.env_prefix if prefix is None else prefix
        if prefix:
            env = _sources.current_environ(environ)
            for option in list(self._options.values()):
                if option.key == "help":
                    continue
                variable = _sources.environment_variable(prefix, option.key)
                if variable in env:
                    try:
                        value = option.parse(env[variable])
                    except Error as exc:
                        raise _located(exc, f"environment variable {variable}") from None
                    option.set(value, "environment", variable)
        if final:
            self.run_parse_callbacks()

    def parse_config_file(
        self, path: str | os.PathLike[str], final: bool = True, *, exit_on_error: bool = False
    ) -> None:
        """Read options from a config file: Python (the notes' form) or TOML (``.toml``).

        A relative ``path`` is relative to the current directory. A Python file is
        executed; its top-level names that are defined options are taken (strings are
        parsed, other values type-checked, lists for multiple options). Any other name is an
        error, as in TOML, unless it is code (a module, class or function) or starts with
        ``_`` (a helper). A TOML file maps keys to options, a ``[table]`` to the options of
        that group or to a ``type=dict`` option; unknown keys and tables are errors.

        Args:
            path: the file.
            final: run the parse callbacks afterwards.
            exit_on_error: on a bad file, print ``error: <message>`` (one line) on stderr
                and exit with status 2, as a bad command-line value does, instead of
                raising. The module-level ``squall.options.parse_config_file`` (what a script
                calls) does this by default. A missing file raises all the same.

        Raises:
            ConfigFileNotFoundError: the file does not exist (also a ``FileNotFoundError``,
                as Tornado raises), whatever ``exit_on_error`` says.
            Error: naming the file and the line (syntax error, exception, bad value,
                unknown name), unless ``exit_on_error``.
        """
        path = os.fspath(path)
        try:
            if _sources.is_toml(path):
                self._apply_toml(_sources.read_toml_config(path))
            else:
                self._apply_python(_sources.read_python_config(path), path)
        except ConfigFileNotFoundError:
            # Raised even under exit_on_error: it is a FileNotFoundError, and Tornado's
            # optional config file (try: parse_config_file(p) except IOError: ...) must work
            # after renaming the import.
            raise
        except Error as exc:
            if not exit_on_error:
                raise
            _fail(str(exc))
        if final:
            self.run_parse_callbacks()

    def _apply_python(self, entries: list[_sources.ConfigEntry], path: str) -> None:
        for entry in entries:
            option = self._options.get(normalize_name(entry.name))
            if option is not None:
                self._apply_config(option, entry.value, path, entry.line)
            elif not _sources.is_helper(entry.name, entry.value):
                # A typo ("prot = 9000") would otherwise leave the default in force unseen.
                unknown = self._unknown(entry.name)
                error = UnknownOptionError(
                    f"{unknown}; a name that is not an option must start with _",
                    name=unknown.name,
                    suggestions=unknown.suggestions,
                )
                raise _located(error, _sources.where(path, entry.line))

    def _apply_config(self, option: Option, value: Any, path: str, line: int | None) -> None:
        place = _sources.where(path, line)
        try:
            checked = option.coerce(value)
        except Error as exc:
            raise _located(exc, place) from None
        option.set(checked, "config file", place)

    def _apply_toml(self, doc: _sources.TomlDocument) -> None:
        groups = self.groups()
        for key, value in doc.data.items():
            option = self._options.get(normalize_name(key))
            if option is not None:
                self._apply_config(option, value, doc.path, doc.line_of(None, key))
            elif isinstance(value, dict) and key in groups:
                members = {o.key: o for o in self._options.values() if o.group_name == key}
                for sub_key, sub_value in value.items():
                    member = members.get(normalize_name(sub_key))
                    line = doc.line_of(key, sub_key)
                    if member is None:
                        error = UnknownOptionError(
                            f"unknown option {sub_key!r} in group [{key}]",
                            name=sub_key,
                            suggestions=difflib.get_close_matches(sub_key, members, n=3),
                        )
                        raise _located(error, _sources.where(doc.path, line))
                    self._apply_config(member, sub_value, doc.path, line)
            elif isinstance(value, dict):
                # A table is a group or a dict option: suggest either.
                tables = groups | {o.name for o in self._options.values() if o.type is dict}
                close = difflib.get_close_matches(key, sorted(tables), n=3)
                hint = f" (did you mean {', '.join(f'[{c}]' for c in close)}?)" if close else ""
                error = UnknownOptionError(
                    f"unknown table [{key}]: no option or group of that name{hint}",
                    name=key,
                    suggestions=close,
                )
                raise _located(error, _sources.where(doc.path, doc.line_of(None, key)))
            else:
                line = doc.line_of(None, key)
                raise _located(self._unknown(key), _sources.where(doc.path, line))

    # ----------------------------------------------------------------------------------
    # Callbacks and help
    # ----------------------------------------------------------------------------------

    def add_parse_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when a final parse finishes (``final=True``)."""
        self._parse_callbacks.append(callback)

    def run_parse_callbacks(self) -> None:
        """Run the parse callbacks, in the order they were added."""
        for callback in list(self._parse_callbacks):
            callback()

    def format_help(self) -> str:
        """The ``--help`` text."""
        return _help.format_help(self._options.values(), _sources.script_name())

    def print_help(self, file: IO[str] | None = None) -> None:
        """Print every option (name, type or metavar, default, help), grouped by the file
        or group that defined it, to ``file`` (default ``sys.stdout``)."""
        print(self.format_help(), file=file or sys.stdout, end="")


def _fail(message: str) -> NoReturn:
    """One line on stderr, exit status 2: how a command line error ends a script."""
    sys.stderr.write(f"error: {_sources.one_line(message)}\n")
    sys.stderr.flush()
    sys.exit(2)
