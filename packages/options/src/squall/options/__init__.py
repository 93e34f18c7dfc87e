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
"""

from __future__ import annotations

from squall.options._app import define_app_options
from squall.options._errors import (
    ConfigFileError,
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
from squall.options._logging import LogFormatter, define_logging_options
from squall.options._option import Option
from squall.options._parser import OptionParser
from squall.options._version import __version__

__all__ = [
    "ConfigFileError",
    "DuplicateOptionError",
    "Error",
    "LogFormatter",
    "Option",
    "OptionParser",
    "OptionValueError",
    "UnknownOptionError",
    "__version__",
    "add_parse_callback",
    "define",
    "define_app_options",
    "define_logging_options",
    "enable_pretty_logging",
    "options",
    "parse_command_line",
    "parse_config_file",
    "parse_environment",
    "print_help",
    "run_parse_callbacks",
]
