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

from squall.template._settings import DEFAULT_AUTOESCAPE, SYNTAX, SYNTAXES, folders_of, syntax_of
from squall.web import ConfigurationError, hookimpl

if TYPE_CHECKING:
    from squall.web import Application, RequestHandler
    from squall.web._settings import SettingsRegistry

OWNER = "squall-template"

gen_log = logging.getLogger("squall.general")


# Settings that mean "this Application renders templates": Jinja2 is loaded at construction.
_TEMPLATE_SETTINGS = ("template_path", "template_env", "template_globals", "template_filters")
_JINJA2_ONLY = ("template_env", "template_filters")
_WHITESPACE_MODES = ("all", "single", "oneline")


def _render_module() -> ModuleType:
    """``squall.template._render``, imported on first need (see the module docstring)."""
    # A function-level import on purpose: importing Jinja2 at module level would add ≈ 80 ms
    # to the start-up of every Application, including those that never render a template.
    from squall.template import _render

    return _render


def _tornado_modules() -> tuple[ModuleType, ModuleType]:
    """``_tt_render`` and ``_page``, imported on first need: the compiler of Tornado's
    syntax and the UI-module machinery cost ≈ 20 ms of imports (``python -X importtime``)
    that an application rendering no Tornado template or UI module should not pay."""
    from squall.template import _page, _tt_render

    return _tt_render, _page


def _uses_tornado(handler: RequestHandler) -> bool:
    # Per application (template_syntax / template_loader) and per loader: a handler with
    # Tornado's create_template_loader() hook renders Tornado-syntax templates.
    syntax = handler.application.stash.get(SYNTAX, None)
    if syntax is None:
        syntax = handler.application.stash[SYNTAX] = syntax_of(handler.application.settings)
    return syntax == "tornado" or hasattr(handler, "create_template_loader")


def render_string(handler: RequestHandler, template_name: str, **kwargs: Any) -> bytes:
    """``RequestHandler.render_string``: the page as UTF-8 bytes, rendered by the engine of
    the application (``squall.template._tt_render`` or ``squall.template._render``)."""
    if _uses_tornado(handler):
        result: bytes = _tornado_modules()[0].render_string(handler, template_name, **kwargs)
        return result
    page: bytes = _render_module().render_string(handler, template_name, **kwargs)
    return page


def render(handler: RequestHandler, template_name: str, **kwargs: Any) -> Awaitable[None]:
    """``RequestHandler.render``: render the page, add what its UI modules asked for
    (scripts, styles; see ``_uimodules``) and finish the response with it.

    Returns:
        What ``handler.finish()`` returns (an awaitable that completes when the page is
        sent; awaiting it is optional).

    Raises:
        RuntimeError: the response was already finished.
        TemplateNotFoundError, ParseError, jinja2.TemplateSyntaxError: as ``render_string``.
    """
    if getattr(handler, "_finished", False):
        raise RuntimeError("render() called after finish()")
    # Through the handler, as Tornado does: a handler overriding render_string (to add
    # names, or to post-process every page) is honoured by render() too.
    page = handler.render_string(template_name, **kwargs)
    modules = handler.__dict__.get("_active_modules")
    if modules:
        page = _tornado_modules()[1].assemble(handler, page, modules.values())
    return handler.finish(page)


def _is_environment(value: object) -> bool:
    # A jinja2.Environment can only exist once jinja2 was imported: no import needed here.
    jinja2 = sys.modules.get("jinja2")
    return value is None or (jinja2 is not None and isinstance(value, jinja2.Environment))


def _is_template_path(value: object) -> bool:
    folders_of(value)  # raises TypeError with the reason
    return True


def _is_autoescape(value: object) -> bool:
    # "xhtml_escape" is Tornado's spelling of "on"; accepted so Tornado settings carry over.
    # Other names (an escaping function of the namespace) are Tornado syntax only: checked
    # in squall_web_configure, which knows the syntax.
    if isinstance(value, str):
        return value.isidentifier()
    return value is None or isinstance(value, bool) or callable(value)


def _is_syntax(value: object) -> bool:
    return value is None or value in SYNTAXES


def _is_loader(value: object) -> bool:
    if value is None:
        return True
    # A squall loader can only exist once its module was imported: no import needed here.
    module = sys.modules.get("squall.template._tt_template")
    if module is not None and isinstance(value, module.BaseLoader):
        return True
    if type(value).__module__.startswith("tornado."):
        raise TypeError(
            "it is a Tornado loader: use squall.template.Loader (or DictLoader) with the "
            "same arguments"
        )
    raise TypeError("expected a squall.template loader (Loader, DictLoader or a BaseLoader)")


def _is_whitespace(value: object) -> bool:
    return value is None or value in _WHITESPACE_MODES


def _is_ui(value: object) -> bool:
    # Tornado's forms: a module, a dict, or a list of them (nested lists too).
    if value is None or isinstance(value, ModuleType | dict):
        return True
    return isinstance(value, list | tuple) and all(_is_ui(v) and v is not None for v in value)


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
    """Declare ``template_path``, ``autoescape``, ``template_env``, ``template_globals``,
    ``template_filters``, ``template_syntax``, ``template_loader``, ``template_whitespace``,
    ``ui_modules`` and ``ui_methods``."""
    add = registry.add
    add(
        "template_syntax",
        default=None,
        owner=OWNER,
        validate=_is_syntax,
        doc="'jinja2' (the default) or 'tornado': the language of the templates "
        "('tornado' when template_loader is given)",
    )
    add(
        "template_loader",
        default=None,
        owner=OWNER,
        validate=_is_loader,
        doc="a squall.template Loader/DictLoader serving every handler's Tornado-syntax templates",
    )
    add(
        "template_whitespace",
        default=None,
        owner=OWNER,
        validate=_is_whitespace,
        doc="whitespace of Tornado-syntax templates: 'all', 'single' or 'oneline' "
        "(default: single for .html/.js, all for others)",
    )
    add(
        "ui_modules",
        default=None,
        owner=OWNER,
        validate=_is_ui,
        doc="UIModule classes templates call ({% module Name() %}, modules.Name()): a "
        "module, a dict name -> class, or a list of them",
    )
    add(
        "ui_methods",
        default=None,
        owner=OWNER,
        validate=_is_ui,
        doc="functions f(handler, ...) templates call as f(...): a module, a dict, or a "
        "list of them",
    )
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
        doc="HTML-escape {{ values }}: Jinja2: on for .html/.htm/.xml by default, True (or "
        "'xhtml_escape'), False (or None), or f(template_name) -> bool; Tornado syntax: on "
        "for every template by default, or the name of an escaping function, or None",
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


def _check_syntax(settings: dict[str, Any], syntax: str) -> None:
    """Refuse settings that the chosen template language cannot honour."""
    autoescape = settings.get("autoescape", DEFAULT_AUTOESCAPE)
    if syntax == "jinja2":
        for name in ("template_loader", "template_whitespace"):
            if settings.get(name) is not None:
                raise ConfigurationError(
                    f"setting {name} applies to Tornado-syntax templates: set "
                    "template_syntax='tornado' to use it (Jinja2 is the default)"
                )
        if isinstance(autoescape, str) and autoescape != "xhtml_escape":
            raise ConfigurationError(
                f"setting autoescape={autoescape!r} names an escaping function, which only "
                "Tornado-syntax templates use: set template_syntax='tornado', or give "
                "True/False"
            )
        return
    for name in _JINJA2_ONLY:
        if settings.get(name) is not None:
            raise ConfigurationError(
                f"setting {name} is for Jinja2 templates, but template_syntax is 'tornado'"
            )
    if callable(autoescape) and autoescape is not DEFAULT_AUTOESCAPE:
        raise ConfigurationError(
            "setting autoescape: a function of the template name works with Jinja2 only; "
            "with template_syntax='tornado' give the name of an escaping function "
            "('xhtml_escape') or None"
        )
    if settings.get("template_loader") is not None:
        for name in ("template_whitespace", "template_path"):
            if settings.get(name) is not None:
                raise ConfigurationError(
                    f"setting {name} does not apply with template_loader: give the "
                    "loader's own arguments instead (Loader(path, whitespace=...))"
                )
        loader = settings["template_loader"]
        # Tornado apps often repeat the default (autoescape="xhtml_escape") beside their
        # loader: a setting that agrees with the loader's own is no contradiction. A loader
        # that says nothing of its escaping cannot agree: the setting is refused.
        if autoescape is not DEFAULT_AUTOESCAPE and (
            not hasattr(loader, "autoescape")
            or _escaping(autoescape) != _escaping(loader.autoescape)
        ):
            raise ConfigurationError(
                "setting autoescape does not apply with template_loader: give "
                "Loader(..., autoescape=...) instead"
            )


def _escaping(value: Any) -> Any:
    """The escaping an autoescape value means: True is Tornado's default, False none."""
    if value is True:
        return "xhtml_escape"
    if value is False:
        return None
    return value


@hookimpl
def squall_web_configure(app: Application) -> None:
    """Refuse a ``template_path`` that is a file and settings the template language cannot
    honour; build the Jinja2 TemplateEngine when Jinja2 templates are configured (else it is
    built on the first render, see the module docstring); read ``ui_modules`` and
    ``ui_methods`` when given."""
    for folder in folders_of(app.settings.get("template_path")) or ():
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ConfigurationError(f"setting template_path: {folder!r} is not a directory")
        if not os.path.exists(folder):
            gen_log.warning("template_path %r does not exist (yet)", folder)
    syntax = app.stash[SYNTAX] = syntax_of(app.settings)
    _check_syntax(app.settings, syntax)
    if syntax == "jinja2" and any(
        app.settings.get(name) is not None for name in _TEMPLATE_SETTINGS
    ):
        _render_module().engine_of(app)
    if app.settings.get("ui_modules") is not None or app.settings.get("ui_methods") is not None:
        from squall.template import _uimodules  # the UI machinery, only when used

        try:
            _uimodules.ui_settings_of(app)
        except TypeError as exc:
            raise ConfigurationError(f"setting {exc}") from None


@hookimpl
def squall_web_handler_functions(app: Application) -> dict[str, Callable[..., Any]]:
    """``render`` and ``render_string`` for ``RequestHandler.render`` / ``render_string``,
    and ``ui`` for ``RequestHandler.ui``."""
    return {"render": render, "render_string": render_string, "ui": _handler_ui}


def _handler_ui(handler: RequestHandler) -> Any:
    """``handler.ui``: the UI methods and modules (the UI machinery is loaded on first use)."""
    from squall.template import _uimodules

    return _uimodules.ui_of(handler)
