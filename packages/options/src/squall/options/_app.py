"""Opt-in command-line options for an Application: ``--port``, ``--address``, ``--debug``.

``define_app_options()`` defines them (group ``application``) on the global options; the
web plugin (``_plugin.py``) then gives every Application built afterwards
``debug=options.debug`` unless the Application was given ``debug`` explicitly. ``port``
and ``address`` are for the script to read: ``app.listen(options.port, options.address)``.
"""

from __future__ import annotations

from squall.options._globals import options as global_options
from squall.options._parser import OptionParser

APP_GROUP = "application"
"""The group of the application options (``--help`` section, ``group_dict``, TOML table)."""


def define_app_options(
    options: OptionParser | None = None,
    *,
    port: int = 8000,
    address: str = "",
    debug: bool = False,
) -> None:
    """Define ``--port``, ``--address`` and ``--debug`` (group ``application``).

    Args:
        options: the parser (default: the global ``options``).
        port: default of ``--port``.
        address: default of ``--address`` (``""``: every interface).
        debug: default of ``--debug``.

    Each is defined only if no option of that name exists yet, so a script that already
    defines ``port`` itself keeps its own. An Application built after this takes
    ``debug`` from the options when its own settings do not set it.
    """
    parser = global_options if options is None else options
    specs = (
        ("port", port, int, "port the application listens on"),
        ("address", address, str, "address the application listens on ('' = all)"),
        ("debug", debug, bool, "Application debug mode (autoreload, tracebacks, no caches)"),
    )
    for name, default, type_, help_ in specs:
        if name not in parser:
            parser.define(name, default=default, type=type_, help=help_, group=APP_GROUP)
