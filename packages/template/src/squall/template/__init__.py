"""squall.template: templates behind ``RequestHandler.render()`` / ``render_string()``.

Two languages: Jinja2 (the default) and Tornado's template language
(``template_syntax="tornado"``, a ``template_loader``, or a handler's
``create_template_loader``), with Tornado's standalone API (``Template``, ``Loader``,
``DictLoader``, ``BaseLoader``, ``ParseError``, ``filter_whitespace``); UI modules
(``UIModule``, ``TemplateModule``; the ``ui_modules`` / ``ui_methods`` settings) for both.

A squall.web plugin: installed, it is found through the ``squall.web`` entry-point group;
otherwise pass its plugin module explicitly:
``Application(..., plugins=[squall.template.plugin], autoload_plugins=False)``.

Settings: ``template_path``, ``autoescape``, ``template_env``, ``template_globals``,
``template_filters``, ``template_syntax``, ``template_loader``, ``template_whitespace``,
``ui_modules``, ``ui_methods``; web's ``compiled_template_cache`` (off under ``debug``)
governs the cache.

Every public name except ``plugin`` and ``DEFAULT_AUTOESCAPE`` is loaded on first access
(PEP 562 ``__getattr__``): ``TemplateNotFoundError`` and ``get_environment`` need Jinja2
(≈ 80 ms to import), the Tornado-syntax compiler and UI modules cost ≈ 20 ms, and this
package is imported at every ``Application()`` through the plugin's entry point.
"""

from __future__ import annotations

import importlib
import typing

from squall.template import _plugin as plugin
from squall.template._settings import DEFAULT_AUTOESCAPE

if typing.TYPE_CHECKING:
    from squall.template._errors import TemplateNotFoundError
    from squall.template._render import get_environment
    from squall.template._tt_lexer import ParseError
    from squall.template._tt_template import BaseLoader, DictLoader, Loader, Template
    from squall.template._tt_whitespace import filter_whitespace
    from squall.template._uimodules import TemplateModule, UIModule
    from squall.template._version import __version__

__all__ = [
    "DEFAULT_AUTOESCAPE",
    "BaseLoader",
    "DictLoader",
    "Loader",
    "ParseError",
    "Template",
    "TemplateModule",
    "TemplateNotFoundError",
    "UIModule",
    "__version__",
    "filter_whitespace",
    "get_environment",
    "plugin",
]

# Public names whose modules import Jinja2: name -> module, imported on first access.
_LAZY = {
    "TemplateNotFoundError": "squall.template._errors",
    "get_environment": "squall.template._render",
    # Tornado's template language (no Jinja2 import, but only loaded when used).
    "BaseLoader": "squall.template._tt_template",
    "DictLoader": "squall.template._tt_template",
    "Loader": "squall.template._tt_template",
    "Template": "squall.template._tt_template",
    "ParseError": "squall.template._tt_lexer",
    "filter_whitespace": "squall.template._tt_whitespace",
    "UIModule": "squall.template._uimodules",
    "TemplateModule": "squall.template._uimodules",
    "__version__": "squall.template._version",  # one module fewer at every Application()
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'squall.template' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses are plain attribute lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
