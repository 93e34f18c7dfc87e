"""The global ``options`` and the module-level functions that act on it (Tornado's API).

``squall.options.define(...)`` is ``options.define(...)``, and so on: scripts and the
modules they import share one set of options, which is what the notes rely on
(``define`` at the top of a module, ``parse_command_line()`` in ``__main__``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from squall.options._logging import define_logging_options, setup_logging
from squall.options._parser import OptionParser

options = OptionParser()
"""The global options: ``options.port``, ``options["port"]``, ``options.port = 9000``."""

define_logging_options(options)


def define(
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
    """Define an option on the global ``options``.

    Args:
        name: the option's name; ``-`` and ``_`` are the same (``log-file`` is ``log_file``).
        default: its value until a source sets one (``[]`` for ``multiple`` without one).
        type: ``str``, ``int``, ``float``, ``bool``, ``datetime.datetime``,
            ``datetime.timedelta``, ``dict`` or any callable taking the text. Inferred from
            ``default`` when not given (from its first element for a list); with neither,
            values stay strings.
        help: one line for ``--help``.
        metavar: what ``--help`` shows after ``=`` (default: the type's name, upper case).
        multiple: comma-separated values become a list (int ranges ``1:3`` → 1, 2, 3).
        group: the ``--help`` section and the ``group_dict``/TOML table name (default: the
            defining file).
        callback: called with the new value whenever a source changes it.
        choices: allowed values (strings, any case), e.g. ``("size", "time")``.

    Raises:
        Error: the name is already defined (the message names both places), or the default
            does not fit the type.
    """
    options.define(
        name,
        default=default,
        type=type,
        help=help,
        metavar=metavar,
        multiple=multiple,
        group=group,
        callback=callback,
        choices=choices,
    )


def parse_command_line(
    args: Sequence[str] | None = None, final: bool = True, *, environment: bool = True
) -> list[str]:
    """Parse the command line into the global ``options``; see
    :meth:`OptionParser.parse_command_line`."""
    return options.parse_command_line(args, final, environment=environment)


def parse_config_file(
    path: str | os.PathLike[str], final: bool = True, *, exit_on_error: bool = True
) -> None:
    """Read a Python or TOML config file into the global ``options``; see
    :meth:`OptionParser.parse_config_file`.

    A bad file ends the program with one line, ``error: <file>:<line>: <problem>``, on
    stderr and exit status 2, like a bad value on the real command line (this is the call
    a script makes); pass ``exit_on_error=False`` to get the :class:`Error` instead. A
    missing file raises :class:`ConfigFileNotFoundError`, a ``FileNotFoundError``, as
    Tornado does: ``try: parse_config_file(path) except IOError: pass`` works unchanged.
    """
    options.parse_config_file(path, final, exit_on_error=exit_on_error)


def parse_environment(
    prefix: str | None = None, environ: Mapping[str, str] | None = None, final: bool = False
) -> None:
    """Read ``SQUALL_*`` environment variables into the global ``options``; see
    :meth:`OptionParser.parse_environment`."""
    options.parse_environment(prefix, environ, final)


def print_help(file: IO[str] | None = None) -> None:
    """Print the help of the global ``options`` (default to stdout)."""
    options.print_help(file)


def add_parse_callback(callback: Callable[[], None]) -> None:
    """Call ``callback()`` after each final parse of the global ``options``."""
    options.add_parse_callback(callback)


def run_parse_callbacks() -> None:
    """Run the parse callbacks of the global ``options``."""
    options.run_parse_callbacks()


def enable_pretty_logging(
    options: OptionParser | None = None, logger: logging.Logger | None = None
) -> None:
    """Set up logging from the logging options (what ``parse_command_line`` does).

    Args:
        options: the parser holding the logging options (default: the global one).
        logger: the logger to configure (default: the root logger).
    """
    setup_logging(_global_if_none(options), logger)


def _global_if_none(parser: OptionParser | None) -> OptionParser:
    return options if parser is None else parser
