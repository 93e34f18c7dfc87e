"""The squall.web plugin of squall-static, found through the ``squall.web`` entry-point group.

It declares the static settings, checks them, adds the routes of ``static_path``
(``/static/(.*)`` under ``static_url_prefix``, ``/favicon.ico``, ``/robots.txt``) and offers
``static_url`` to every handler. Everything happens once per Application, at construction;
nothing here runs per request.

Pass it explicitly with ``Application(..., plugins=[squall.static._plugin])`` (or the
``squall.static.plugin`` alias) when entry-point autoloading is off.

Start-up cost: this module is imported at every ``Application()`` (entry points), so it does
not import the handler (``_handler`` and its cache, hashing, MIME and path modules: ≈ 6-8 ms,
``python -X importtime``). The hooks import it when an application needs it: a
``static_path`` (its routes), a ``static_handler_class`` (its check), or a ``static_url()``
call in an application without ``static_path``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from squall.web import ConfigurationError, hookimpl

if TYPE_CHECKING:
    from squall.static._handler import StaticFileHandler
    from squall.web import Application, RequestHandler
    from squall.web._settings import SettingsRegistry

OWNER = "squall-static"

gen_log = logging.getLogger("squall.general")


def _default_handler_class() -> type[StaticFileHandler]:
    # A function-level import on purpose: see the module docstring (start-up cost).
    from squall.static._handler import StaticFileHandler

    return StaticFileHandler


def _is_static_handler_class(value: object) -> bool:
    return value is None or (
        isinstance(value, type) and issubclass(value, _default_handler_class())
    )


def _is_url_prefix(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/") and not value.startswith("//")


@hookimpl
def squall_web_add_settings(registry: SettingsRegistry) -> None:
    """Declare ``static_path``, ``static_url_prefix``, ``static_handler_class``,
    ``static_handler_args`` and ``static_follow_symlinks``."""
    add = registry.add
    add(
        "static_path",
        default=None,
        type=(str, os.PathLike),
        owner=OWNER,
        doc="folder served under static_url_prefix (and /favicon.ico, /robots.txt)",
    )
    add(
        "static_url_prefix",
        default="/static/",
        type=str,
        owner=OWNER,
        validate=_is_url_prefix,
        doc="URL prefix of static_path's files; must start with a single '/'",
    )
    add(
        "static_handler_class",
        default=None,
        owner=OWNER,
        validate=_is_static_handler_class,
        doc="StaticFileHandler subclass serving static_path (StaticFileHandler by default)",
    )
    add(
        "static_handler_args",
        default=None,
        type=dict,
        owner=OWNER,
        doc="extra initialize() kwargs of the static handler (e.g. default_filename)",
    )
    add(
        "static_follow_symlinks",
        default=False,
        type=bool,
        owner=OWNER,
        doc="serve symlinks under static roots that lead outside them (off: 403)",
    )


@hookimpl
def squall_web_configure(app: Application) -> None:
    """Refuse a ``static_path`` that exists but is not a folder; warn if it does not exist."""
    path = app.settings.get("static_path")
    if path is None:
        return
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigurationError(f"setting static_path={path!r} is not a directory")
    if not os.path.exists(path):
        gen_log.warning("static_path %r does not exist (yet): static files will be 404", path)


@hookimpl
def squall_web_routes(app: Application) -> list[tuple[str, type, dict[str, Any]]] | None:
    """The rules of ``static_path``, placed before the application's own."""
    settings = app.settings
    path = settings.get("static_path")
    if path is None:
        return None
    handler_class = settings.get("static_handler_class") or _default_handler_class()
    kwargs: dict[str, Any] = dict(settings.get("static_handler_args") or {})
    kwargs["path"] = os.fspath(path)
    prefix = settings.get("static_url_prefix") or "/static/"
    if not prefix.endswith("/"):
        prefix += "/"  # "/assets" means "/assets/<file>", never "/assets<file>"
    return [
        (re.escape(prefix) + r"(.*)", handler_class, kwargs),
        (r"/(favicon\.ico)", handler_class, kwargs),
        (r"/(robots\.txt)", handler_class, kwargs),
    ]


def static_url_function(
    default: type[StaticFileHandler] | None,
) -> Callable[..., str]:
    """``static_url`` for one application; ``default`` is the handler class of its files.

    None: the class is imported on the first call (an application without ``static_path``,
    which did not import it at construction).
    """

    def static_url(
        handler: RequestHandler, path: str, include_host: bool | None = None, **kwargs: Any
    ) -> str:
        """The URL of static file ``path``, versioned by content hash (``?v=...``).

        Args:
            handler: the handler asking (its settings and request are used).
            path: the file's path relative to ``static_path``.
            include_host: prefix ``protocol://host``; None takes ``handler.include_host``
                (False unless a handler sets it).
            **kwargs: passed to ``make_static_url`` (``include_version=False``).
        """
        settings = handler.settings
        cls = settings.get("static_handler_class") or default or _default_handler_class()
        url: str = cls.make_static_url(settings, path, **kwargs)
        if include_host is None:
            include_host = bool(getattr(handler, "include_host", False))
        if include_host:
            request = handler.request
            return f"{request.protocol}://{request.host}{url}"
        return url

    return static_url


@hookimpl
def squall_web_handler_functions(app: Application) -> dict[str, Callable[..., Any]]:
    """``static_url`` for ``RequestHandler.static_url`` and templates."""
    if app.settings.get("static_path") is None:
        return {"static_url": static_url_function(None)}
    # static_path is set: its routes import the handler anyway, so bind it now and no call
    # of static_url pays for finding it.
    return {"static_url": static_url_function(_default_handler_class())}
