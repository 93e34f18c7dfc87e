"""squall.options: `define`, `options`, `parse_command_line`, `parse_config_file` (Python and
TOML), environment variables, logging setup.

The notes' example in squall form::

    import squall.options
    squall.options.define("port", default=8000, type=int, help="哈哈")
    squall.options.define("pppp", default=[], type=str, multiple=True)
    squall.options.parse_command_line()      # python t1.py --port=9900 --pppp=a,1,2
    print(squall.options.options.port)       # 9900

Precedence of the sources, whatever the order of the calls: defaults < config file <
environment (``SQUALL_PORT``) < command line.

Importing this package costs almost nothing: each public name is loaded from its module on
first access (PEP 562 ``__getattr__``). The web plugin of this package is imported at every
``squall.web.Application()`` through its entry point, so an application that does not use
options must not pay for the parser, TOML, datetime and logging.handlers (≈ 15-20 ms of
start-up, measured with ``python -X importtime``).
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from squall.options._app import define_app_options
    from squall.options._errors import (
        ConfigFileError,
        ConfigFileNotFoundError,
        DuplicateOptionError,
        Error,
        OptionValueError,
        UnknownOptionError,
    )
    from squall.options._globals import (
        add_parse_callback,
        define,
        enable_pretty_logging,
        options,
        parse_command_line,
        parse_config_file,
        parse_environment,
        print_help,
        run_parse_callbacks,
    )
    from squall.options._loggers import access_log, app_log, gen_log
    from squall.options._logging import LogFormatter, define_logging_options
    from squall.options._option import Option
    from squall.options._parser import OptionParser
    from squall.options._version import __version__

__all__ = [
    "ConfigFileError",
    "ConfigFileNotFoundError",
    "DuplicateOptionError",
    "Error",
    "LogFormatter",
    "Option",
    "OptionParser",
    "OptionValueError",
    "UnknownOptionError",
    "__version__",
    "access_log",
    "add_parse_callback",
    "app_log",
    "define",
    "define_app_options",
    "define_logging_options",
    "enable_pretty_logging",
    "gen_log",
    "options",
    "parse_command_line",
    "parse_config_file",
    "parse_environment",
    "print_help",
    "run_parse_callbacks",
]

# Public name -> the module defining it, imported on first access (see the docstring).
_LAZY = {
    "define_app_options": "squall.options._app",
    "ConfigFileError": "squall.options._errors",
    "ConfigFileNotFoundError": "squall.options._errors",
    "DuplicateOptionError": "squall.options._errors",
    "Error": "squall.options._errors",
    "OptionValueError": "squall.options._errors",
    "UnknownOptionError": "squall.options._errors",
    "add_parse_callback": "squall.options._globals",
    "define": "squall.options._globals",
    "enable_pretty_logging": "squall.options._globals",
    "options": "squall.options._globals",
    "parse_command_line": "squall.options._globals",
    "parse_config_file": "squall.options._globals",
    "parse_environment": "squall.options._globals",
    "print_help": "squall.options._globals",
    "run_parse_callbacks": "squall.options._globals",
    "access_log": "squall.options._loggers",
    "app_log": "squall.options._loggers",
    "gen_log": "squall.options._loggers",
    "LogFormatter": "squall.options._logging",
    "define_logging_options": "squall.options._logging",
    "Option": "squall.options._option",
    "OptionParser": "squall.options._parser",
    "__version__": "squall.options._version",  # one module fewer at every Application()
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'squall.options' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses are plain attribute lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
