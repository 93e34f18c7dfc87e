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


def _is_cookie_secret(value: object) -> bool:
    """A str or bytes secret, or a dict ``{int key version: str or bytes secret}``."""
    if isinstance(value, dict):
        return bool(value) and all(
            isinstance(k, int) and not isinstance(k, bool) and isinstance(v, str | bytes)
            for k, v in value.items()
        )
    return True  # None, str and bytes: the declared type already checked them


def _is_int_or_none(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _is_xsrf_cookie_version(value: object) -> bool:
    return type(value) is int and value in (1, 2)


@hookimpl
def squall_web_add_settings(registry: SettingsRegistry) -> None:
    """Declare ``debug`` and what it implies, the access-log function, the 404 handler and
    the security settings (signed cookies, XSRF, login)."""
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
        "transforms",
        default=None,
        type=(list, tuple),
        owner=OWNER,
        validate=lambda v: v is None or all(callable(t) for t in v),
        doc="output transforms: OutputTransform classes or f(request) factories, in order",
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
    # -- security (signed cookies, XSRF, @authenticated); Tornado's names and meanings ----
    add(
        "cookie_secret",
        default=None,
        type=(str, bytes, dict),
        owner=OWNER,
        validate=_is_cookie_secret,
        doc="key signing cookies: a str/bytes secret, or {key version: secret} for rotation",
    )
    add(
        "key_version",
        default=None,
        owner=OWNER,
        validate=_is_int_or_none,
        doc="the key of a cookie_secret dict that signs new cookies",
    )
    add(
        "login_url",
        default=None,
        type=str,
        owner=OWNER,
        doc="where @authenticated sends a GET/HEAD request without a user (?next=...)",
    )
    add(
        "xsrf_cookies",
        default=False,
        type=bool,
        owner=OWNER,
        doc="POST/PUT/PATCH/DELETE need the _xsrf token (argument or X-XSRFToken header)",
    )
    add(
        "xsrf_cookie_version",
        default=2,
        owner=OWNER,
        validate=_is_xsrf_cookie_version,
        doc="format of the _xsrf cookie squall sets: 2 (masked, default) or 1",
    )
    add(
        "xsrf_cookie_kwargs",
        default=None,
        type=dict,
        owner=OWNER,
        doc="set_cookie() keyword arguments of the _xsrf cookie (secure, samesite, ...)",
    )
    add(
        "xsrf_cookie_name",
        default="_xsrf",
        type=str,
        owner=OWNER,
        doc="name of the XSRF cookie (Tornado's; the form argument stays _xsrf)",
    )
    add(
        "cross_origin_protection",
        default=False,
        type=bool,
        owner=OWNER,
        doc="refuse cross-site POST/PUT/PATCH/DELETE by Sec-Fetch-Site / Origin (Tornado 6.6)",
    )
    add(
        "trusted_origins",
        default=(),
        type=(list, tuple, set, frozenset),
        owner=OWNER,
        doc="origins (https://host[:port]) cross_origin_protection lets through",
    )
