"""web's own built-in plugin: it declares the settings squall.web itself owns.

It goes through the same hook as every other plugin (listed in ``DEFAULT_PLUGINS``), so the
settings of web and of its plugins are declared, validated and documented the same way.
"""

from __future__ import annotations

from squall.web._handler import RequestHandler
from squall.web._settings import SettingsRegistry
from squall.web.hookspecs import hookimpl

OWNER = "squall-web"


def _is_handler_class(value: object) -> bool:
    return value is None or (isinstance(value, type) and issubclass(value, RequestHandler))


@hookimpl
def squall_web_add_settings(registry: SettingsRegistry) -> None:
    """Declare ``debug`` and what it implies, the access-log function and the 404 handler."""
    add = registry.add
    add(
        "debug",
        default=False,
        type=bool,
        owner=OWNER,
        doc="development mode: autoreload, no template/static caches, tracebacks on 500 pages",
    )
    add(
        "autoreload",
        default=False,
        type=bool,
        owner=OWNER,
        doc="restart the process when a source file changes (implied by debug)",
    )
    add(
        "compiled_template_cache",
        default=True,
        type=bool,
        owner=OWNER,
        doc="keep compiled templates (False under debug: edits show without a restart)",
    )
    add(
        "static_hash_cache",
        default=True,
        type=bool,
        owner=OWNER,
        doc="keep static_url() content hashes (False under debug)",
    )
    add(
        "serve_traceback",
        default=False,
        type=bool,
        owner=OWNER,
        doc="500 pages show the HTML-escaped traceback (implied by debug)",
    )
    add(
        "log_function",
        default=None,
        owner=OWNER,
        validate=lambda v: v is None or callable(v),
        doc="f(handler) called once per finished request instead of the access log",
    )
    add(
        "default_handler_class",
        default=None,
        owner=OWNER,
        validate=_is_handler_class,
        doc="RequestHandler subclass answering requests no rule matches (404 otherwise)",
    )
    add(
        "default_handler_args",
        default=None,
        type=dict,
        owner=OWNER,
        doc="keyword arguments given to default_handler_class's initialize()",
    )
