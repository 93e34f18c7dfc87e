"""The squall.web plugin of squall-options, found through the ``squall.web`` entry-point group.

squall.web never imports squall.options; this module reaches web only through its hooks,
each run once when an Application is built (so what the options say *then* counts):

- ``squall_web_log_request``: when ``options.logging`` is none (``--logging=none`` or
  ``options.logging = None``) the access log is a no-op, so a request prints nothing.
  Otherwise it returns an access log that writes the line straight into the log file
  ``--log_file_prefix`` opened, when nothing else would see the record, and runs web's own
  ``log_request`` (a record through the ``squall.access`` logger) in every other case
  (``_accesslog``).
  A ``log_function`` setting given by the user still wins (web's rule).
- ``squall_web_setting_defaults``: when the script opted in with ``define_app_options()``,
  the ``debug`` option supplies the Application's ``debug`` setting. web applies it only
  when the user did not pass ``debug`` to ``Application(...)``, and derives what ``debug``
  implies (autoreload and the rest) after it, as if the user had passed it.

Start-up cost: this module is imported at every ``Application()`` (entry points), so it
imports no part of squall.options at module level (the parser, TOML, datetime and
logging.handlers cost ≈ 15-20 ms, measured with ``python -X importtime``). When the script
never imported ``squall.options``'s parser, no option was defined or parsed, so both hooks
have nothing to do and return None.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from squall.web import Application, RequestHandler, hookimpl, log_request

if TYPE_CHECKING:
    from squall.options._parser import OptionParser

# Application settings that the app options fill when the user did not give them.
_SETTINGS_FROM_OPTIONS = ("debug",)

_GLOBALS_MODULE = "squall.options._globals"


def _options_in_use() -> OptionParser | None:
    """The global options once the script imported them (``squall.options.options``,
    ``define``, ``parse_command_line`` ...); None before: nothing was defined or parsed."""
    module = sys.modules.get(_GLOBALS_MODULE)
    if module is None:
        return None
    parser: OptionParser = module.options
    return parser


def app_option_defaults() -> dict[str, Any]:
    """The settings the app options give (only options made by ``define_app_options``)."""
    options = _options_in_use()
    if options is None:
        return {}
    # Loaded already with the parser (or ≈ 0.5 ms): a function-level import keeps this
    # module free of squall.options' imports at start-up (see the module docstring).
    from squall.options._app import APP_GROUP

    given: dict[str, Any] = {}
    for name in _SETTINGS_FROM_OPTIONS:
        if name in options:
            option = options.option(name)
            if option.group == APP_GROUP and option.value is not None:
                given[name] = option.value
    return given


def _no_access_log(handler: RequestHandler) -> None:
    """The access log under ``--logging=none``: nothing at all."""


@hookimpl
def squall_web_setting_defaults(given: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The app options' values for the settings (web lets the user's own keys win)."""
    return app_option_defaults() or None


@hookimpl
def squall_web_log_request(app: Application) -> Callable[[RequestHandler], None] | None:
    """No access log when ``options.logging`` is none; else one that knows our log file."""
    options = _options_in_use()
    if options is None:
        return None
    # Imported by the parser already (_globals imports _logging): no start-up cost here.
    from squall.options._accesslog import make_access_log
    from squall.options._logging import logging_disabled

    if logging_disabled(options.logging):
        return _no_access_log
    return make_access_log(log_request)
