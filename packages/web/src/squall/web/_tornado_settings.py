"""Every application setting Tornado defines, and what squall does with each one.

Why this table exists: a Tornado app moved to squall by renaming its imports still passes
Tornado's settings to ``Application(...)``. A setting that squall accepted and then did not
act on would make the app *look* configured (``xsrf_cookies=True``, ``compress_response``)
while it is not. So every name Tornado reads from ``Application.settings`` is listed here
with its fate in squall:

- ``PROVIDED``: a squall distribution declares it (``squall_web_add_settings``) and honours
  it. When that distribution's plugin is not loaded the setting is refused with
  ``MissingPluginError`` naming the package to install.
- ``PLANNED``: squall does not honour it yet; the named distribution is where it will live.
  Refused with ``ConfigurationError`` saying so and what to do meanwhile.
- ``UNSUPPORTED``: squall will not honour it; refused with what to use instead.

Settings that are not Tornado's (an app's own ``db=...``) are never refused: users keep
their own configuration in ``settings``, as in Tornado.

The table cannot drift: web's tests check it against the settings that every installed
squall package declares (a declared Tornado name must be ``PROVIDED`` by its declarer, and a
``PROVIDED`` name must be declared) and against the names Tornado's own source reads. The
migration guide (docs/from-tornado.md) lists the same table, also checked by a test.
"""

from __future__ import annotations

from typing import NamedTuple

from squall.web._errors import install_hint

PROVIDED = "provided"
PLANNED = "planned"
UNSUPPORTED = "unsupported"

WEB = "squall-web"
WEBSOCKET = "squall-websocket"
COMPRESS = "squall-compress"


# A NamedTuple, not a dataclass: cheap to create at import (see _settings.Setting).
class TornadoSetting(NamedTuple):
    """What squall does with one of Tornado's settings.

    Attributes:
        provider: the squall distribution that declares it (``PROVIDED``) or will
            (``PLANNED``); None when no squall part will (``UNSUPPORTED``).
        status: ``PROVIDED``, ``PLANNED`` or ``UNSUPPORTED``.
        note: what the setting does, or (refused) what to use instead; shown in errors.
    """

    provider: str | None
    status: str
    note: str


def _provided(provider: str, note: str) -> TornadoSetting:
    return TornadoSetting(provider, PROVIDED, note)


def _planned(provider: str, note: str) -> TornadoSetting:
    return TornadoSetting(provider, PLANNED, note)


def _unsupported(note: str) -> TornadoSetting:
    return TornadoSetting(None, UNSUPPORTED, note)


_OAUTH = (
    "tornado.auth's OAuth mixins have no squall equivalent; use an OAuth library "
    "(Authlib, for example) and keep its keys in settings under a name of your own"
)

# Grouped as Tornado's documentation groups them (general, security, templates, static).
TORNADO_SETTINGS: dict[str, TornadoSetting] = {
    # -- general -------------------------------------------------------------------------
    "autoreload": _provided(WEB, "restart the process when a source file changes"),
    "debug": _provided(WEB, "development mode (autoreload, no caches, tracebacks)"),
    "default_handler_class": _provided(WEB, "handler for requests no rule matches"),
    "default_handler_args": _provided(WEB, "initialize() kwargs of that handler"),
    "compress_response": _provided(COMPRESS, "gzip (and Brotli, Zstandard) responses"),
    "gzip": _provided(COMPRESS, "Tornado's old name of compress_response"),
    "log_function": _provided(WEB, "f(handler) called per finished request"),
    "serve_traceback": _provided(WEB, "500 pages show the traceback"),
    "ui_modules": _provided("squall-template", "UIModule classes templates call"),
    "ui_methods": _provided("squall-template", "functions f(handler, ...) templates call"),
    "transforms": _provided(WEB, "OutputTransform classes applied to every response"),
    "websocket_ping_interval": _provided(WEBSOCKET, "seconds between pings of each WebSocket"),
    "websocket_ping_timeout": _provided(WEBSOCKET, "seconds to wait for a pong before closing"),
    "websocket_max_message_size": _provided(
        WEBSOCKET, "largest WebSocket message accepted (10 MiB)"
    ),
    # -- authentication and security -------------------------------------------------------
    "cookie_secret": _provided(WEB, "key of signed cookies (or {version: key})"),
    "key_version": _provided(WEB, "which key of a cookie_secret dict signs"),
    "login_url": _provided(WEB, "where @authenticated sends anonymous users"),
    "xsrf_cookies": _provided(WEB, "check an XSRF token on unsafe methods"),
    "xsrf_cookie_version": _provided(WEB, "format of new XSRF cookies (1 or 2)"),
    "xsrf_cookie_kwargs": _provided(WEB, "set_cookie() arguments of the XSRF cookie"),
    "xsrf_cookie_name": _provided(WEB, "name of the XSRF cookie (default _xsrf)"),
    "cross_origin_protection": _provided(
        WEB, "refuse cross-site unsafe requests by Sec-Fetch-Site / Origin"
    ),
    "trusted_origins": _provided(WEB, "origins cross_origin_protection lets through"),
    "twitter_consumer_key": _unsupported(_OAUTH),
    "twitter_consumer_secret": _unsupported(_OAUTH),
    "facebook_api_key": _unsupported(_OAUTH),
    "facebook_secret": _unsupported(_OAUTH),
    "google_oauth": _unsupported(_OAUTH),
    # -- templates ----------------------------------------------------------------------
    "autoescape": _provided("squall-template", "HTML-escape {{ values }}"),
    "compiled_template_cache": _provided(WEB, "keep compiled templates"),
    "template_path": _provided("squall-template", "folder of the templates"),
    "template_loader": _provided(
        "squall-template", "a squall.template Loader of Tornado-syntax templates"
    ),
    "template_whitespace": _provided(
        "squall-template", "whitespace mode of Tornado-syntax templates"
    ),
    # -- static files -------------------------------------------------------------------
    "static_hash_cache": _provided(WEB, "keep static_url() content hashes"),
    "static_path": _provided("squall-static", "folder served under /static/"),
    "static_url_prefix": _provided("squall-static", "URL prefix of static files"),
    "static_handler_class": _provided("squall-static", "handler class serving static files"),
    "static_handler_args": _provided("squall-static", "its initialize() kwargs"),
}
"""Every setting Tornado reads, name → what squall does with it (see the module docstring)."""


def refusal(name: str) -> tuple[str, bool] | None:
    """Why the undeclared setting ``name`` is refused, or None when it may be kept.

    Called only for keys no loaded plugin declared. Returns ``(message, missing_plugin)``;
    ``missing_plugin`` is True when installing (or loading) a package would make it valid.
    """
    entry = TORNADO_SETTINGS.get(name)
    if entry is None:
        return None
    provider, status, note = entry
    if status == PROVIDED and provider is not None:  # PROVIDED always names its package
        if provider == WEB:
            # web's own built-in plugin declares these in every Application; a bare
            # SettingsRegistry (tests, tools) keeps them like any other key.
            return None
        return (
            f"the setting {name!r} needs the {provider} package: {install_hint(provider)}; "
            "or pass its plugin with Application(..., plugins=[...])",
            True,
        )
    if status == PLANNED:
        return (
            f"the setting {name!r} is not supported by squall yet (planned for {provider}): {note}",
            False,
        )
    return f"the setting {name!r} is not supported by squall: {note}", False
