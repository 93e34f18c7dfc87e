"""The squall.web plugin of squall-template, found through the ``squall.web`` entry-point group.

It declares the template settings, builds the Application's ``TemplateEngine`` (kept in
``app.stash``) and offers ``render`` / ``render_string`` to every handler. Everything
happens once per Application, at construction; nothing here runs per request.

``compiled_template_cache`` is web's setting (default on, off under ``debug``): it is read
from ``app.settings``, not declared here.

Start-up cost: this module is imported at every ``Application()`` (entry points), so it does
not import Jinja2 (≈ 80 ms, measured with ``python -X importtime``). Jinja2 is imported when
an Application actually needs templates: at construction when a template setting is given
(so a bad folder or environment fails there), otherwise on the first ``render`` /
``render_string``. Pass the plugin explicitly with
``Application(..., plugins=[squall.template._plugin])`` when entry-point autoloading is off.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from squall.template._settings import DEFAULT_AUTOESCAPE, folders_of
from squall.web import ConfigurationError, hookimpl

if TYPE_CHECKING:
    from squall.web import Application, RequestHandler
    from squall.web._settings import SettingsRegistry

OWNER = "squall-template"

gen_log = logging.getLogger("squall.general")


# Settings that mean "this Application renders templates": Jinja2 is loaded at construction.
_TEMPLATE_SETTINGS = ("template_path", "template_env", "template_globals", "template_filters")


def _render_module() -> ModuleType:
    """``squall.template._render``, imported on first need (see the module docstring)."""
    # A function-level import on purpose: importing Jinja2 at module level would add ≈ 80 ms
    # to the start-up of every Application, including those that never render a template.
    from squall.template import _render

    return _render


def render(handler: RequestHandler, template_name: str, **kwargs: Any) -> Awaitable[None]:
    """``RequestHandler.render``: see ``squall.template._render.render``."""
    result: Awaitable[None] = _render_module().render(handler, template_name, **kwargs)
    return result


def render_string(handler: RequestHandler, template_name: str, **kwargs: Any) -> bytes:
    """``RequestHandler.render_string``: see ``squall.template._render.render_string``."""
    result: bytes = _render_module().render_string(handler, template_name, **kwargs)
    return result


def _is_environment(value: object) -> bool:
    # A jinja2.Environment can only exist once jinja2 was imported: no import needed here.
    jinja2 = sys.modules.get("jinja2")
    return value is None or (jinja2 is not None and isinstance(value, jinja2.Environment))


def _is_template_path(value: object) -> bool:
    folders_of(value)  # raises TypeError with the reason
    return True


def _is_autoescape(value: object) -> bool:
    # "xhtml_escape" is Tornado's spelling of "on"; accepted so Tornado settings carry over.
    return value is None or value == "xhtml_escape" or isinstance(value, bool) or callable(value)


def _is_filters(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, dict) and all(
        isinstance(k, str) and callable(v) for k, v in value.items()
    )


def _is_globals(value: object) -> bool:
    return value is None or (isinstance(value, dict) and all(isinstance(k, str) for k in value))


@hookimpl
def squall_web_add_settings(registry: SettingsRegistry) -> None:
    """Declare ``template_path``, ``autoescape``, ``template_env``, ``template_globals`` and
    ``template_filters``."""
    add = registry.add
    add(
        "template_path",
        default=None,
        owner=OWNER,
        validate=_is_template_path,
        doc="folder (or list of folders, searched in order) holding the templates",
    )
    add(
        "autoescape",
        default=DEFAULT_AUTOESCAPE,
        owner=OWNER,
        validate=_is_autoescape,
        doc="HTML-escape {{ values }}: on for .html/.htm/.xml by default; True (or "
        "'xhtml_escape'), False (or None), or f(template_name) -> bool",
    )
    add(
        "template_env",
        default=None,
        validate=_is_environment,
        owner=OWNER,
        doc="your own jinja2.Environment (squall renders with an overlay of it)",
    )
    add(
        "template_globals",
        default=None,
        owner=OWNER,
        validate=_is_globals,
        doc="dict of extra names every template sees",
    )
    add(
        "template_filters",
        default=None,
        owner=OWNER,
        validate=_is_filters,
        doc="dict name -> callable of extra Jinja2 filters",
    )


@hookimpl
def squall_web_configure(app: Application) -> None:
    """Refuse a ``template_path`` that is a file; build the TemplateEngine when templates
    are configured (else it is built on the first render, see the module docstring)."""
    for folder in folders_of(app.settings.get("template_path")) or ():
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ConfigurationError(f"setting template_path: {folder!r} is not a directory")
        if not os.path.exists(folder):
            gen_log.warning("template_path %r does not exist (yet)", folder)
    if any(app.settings.get(name) is not None for name in _TEMPLATE_SETTINGS):
        _render_module().engine_of(app)


@hookimpl
def squall_web_handler_functions(app: Application) -> dict[str, Callable[..., Any]]:
    """``render`` and ``render_string`` for ``RequestHandler.render`` / ``render_string``."""
    return {"render": render, "render_string": render_string}
