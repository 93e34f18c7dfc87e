"""The errors of squall.options.

Every problem a user can cause (a bad value, an unknown name, a broken config file, a name
defined twice) is an :class:`Error`, so one ``except squall.options.Error`` catches them all;
the subclasses say which kind it was for code that cares::

    Error
    ├── OptionValueError        a value does not fit the option's type (also a ValueError)
    ├── UnknownOptionError      a name that no ``define`` made (command line, TOML)
    ├── DuplicateOptionError    ``define`` of a name already defined
    └── ConfigFileError         a config file that cannot be read or run (syntax, exception)
        └── ConfigFileNotFoundError   the file does not exist (also a FileNotFoundError)

Messages are one line and name what is wrong and where (option, value, file:line), because
``parse_command_line`` prints exactly ``error: <message>`` when it parses a real command
line.
"""

from __future__ import annotations

import errno
import os


class Error(Exception):
    """Any error of squall.options: a bad value, an unknown option, a broken config file.

    ``str(error)`` is a complete one-line message, e.g.
    ``option --port: invalid int value: 'sdf'``.
    """


class OptionValueError(Error, ValueError):
    """A value does not fit an option: wrong type, not one of its choices, bad range.

    Also a ``ValueError``: Tornado lets the type's own ``ValueError`` out of
    ``parse_command_line(args)`` (``--port=abc``), so ported code catching ``ValueError``
    around it still catches squall's error.

    Attributes:
        option: the option's name as defined.
        expected: the name of the expected type (``int``, ``timedelta``, ...).
        value: the offending value (the text as given, or the Python object).
    """

    def __init__(self, message: str, *, option: str, expected: str, value: object) -> None:
        super().__init__(message)
        self.option = option
        self.expected = expected
        self.value = value


class UnknownOptionError(Error):
    """A name that was never defined was given (command line, TOML file, ``options[name]``).

    Attributes:
        name: the name as given.
        suggestions: defined names that look like it, closest first (may be empty).
    """

    def __init__(self, message: str, *, name: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.name = name
        self.suggestions = suggestions


class DuplicateOptionError(Error):
    """``define`` was called for a name that is already defined; names both places."""


class ConfigFileError(Error):
    """A config file could not be read, parsed or run; the message names file and line."""


class ConfigFileNotFoundError(ConfigFileError, FileNotFoundError):
    """The config file does not exist.

    Also a ``FileNotFoundError`` (``errno`` and ``filename`` set), so that Tornado's
    optional config file, ``try: parse_config_file(path) except IOError: pass``, catches
    it. It is raised even where other bad files end the program with one line (the
    module-level function's ``exit_on_error``). ``str()`` is the one-line message
    (``conf/app.toml: cannot read config file: No such file or directory``).
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.errno = errno.ENOENT
        self.strerror = os.strerror(errno.ENOENT)
        self.filename = path

    def __str__(self) -> str:
        return str(self.args[0])
