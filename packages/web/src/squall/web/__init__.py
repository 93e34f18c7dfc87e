"""squall.web: `Application`, routing, `RequestHandler`, `HTTPError`, debug mode, plugin hooks.

The notes' first example in squall form::

    import squall.loop
    import squall.web

    class IndexHandler(squall.web.RequestHandler):
        def get(self):
            self.write("hello word")

    app = squall.web.Application([(r"/", IndexHandler)])
    app.listen(8000)
    squall.loop.IOLoop.current().start()
"""

from __future__ import annotations

import importlib
import types

# squall.web.autoreload.watch(path) after a plain `import squall.web` (the private module is
# bound here, not squall/web/autoreload.py, so `python -m squall.web.autoreload` runs clean).
from squall.web import _autoreload as autoreload  # noqa: F401
from squall.web._accesslog import log_request
from squall.web._application import Application
from squall.web._auth import authenticated
from squall.web._cookies import InvalidCookieAttributeError
from squall.web._dispatch import ErrorHandler
from squall.web._encoding import negotiate_encoding
from squall.web._errors import (
    ConfigurationError,
    Finish,
    HTTPError,
    MissingArgumentError,
    MissingPluginError,
    MissingSettingError,
)
from squall.web._handler import RequestHandler, stream_request_body
from squall.web._hooktypes import OutputTransform
from squall.web._plugins import DEFAULT_PLUGINS, RequestHooks
from squall.web._redirects import RedirectHandler, addslash, removeslash
from squall.web._routing import HandlerImportError, URLSpec, url
from squall.web._settings import SettingsRegistry, Stash, StashKey
from squall.web._signing import (
    create_signed_value,
    decode_signed_value,
    get_signature_key_version,
)
from squall.web._version import __version__
from squall.web.hookspecs import hookimpl

__all__ = [
    "DEFAULT_PLUGINS",
    "Application",
    "ConfigurationError",
    "ErrorHandler",
    "Finish",
    "HTTPError",
    "HandlerImportError",
    "InvalidCookieAttributeError",
    "MissingArgumentError",
    "MissingPluginError",
    "MissingSettingError",
    "OutputTransform",
    "RedirectHandler",
    "RequestHandler",
    "RequestHooks",
    "SettingsRegistry",
    "Stash",
    "StashKey",
    "URLSpec",
    "__version__",
    "addslash",
    "authenticated",
    "create_signed_value",
    "decode_signed_value",
    "get_signature_key_version",
    "hookimpl",
    "log_request",
    "negotiate_encoding",
    "removeslash",
    "stream_request_body",
    "url",
]

# A Tornado program that imports only tornado.web still reaches tornado.escape and
# tornado.locale (tornado.web imports them). After the renaming, `import squall.web` then
# `squall.web.escape.xhtml_escape(...)` works the same: these submodules load on first
# access (PEP 562), so a plain `import squall.web` does not pay for them.
_SUBMODULES = frozenset(("escape", "locale"))


# Names of tornado.web that live in a plugin package in squall (which squall.web must not
# import): a program renamed mechanically from tornado.web gets an error that says where.
_MOVED = {
    "UIModule": "squall.template.UIModule (squall-template)",
    "TemplateModule": "squall.template.TemplateModule (squall-template)",
    "StaticFileHandler": "squall.static.StaticFileHandler (squall-static)",
    "FallbackHandler": "squall.asgi.FallbackHandler (squall-asgi)",
    "GZipContentEncoding": "the compress_response=True setting (squall-compress)",
}


def __getattr__(name: str) -> types.ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"squall.web.{name}")
    moved = _MOVED.get(name)
    if moved is not None:
        raise AttributeError(
            f"module 'squall.web' has no attribute {name!r}: Tornado's tornado.web.{name} "
            f"is {moved} in squall"
        )
    raise AttributeError(f"module 'squall.web' has no attribute {name!r}")
