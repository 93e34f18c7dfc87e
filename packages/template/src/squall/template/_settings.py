"""What the plugin needs at every ``Application()``, without Jinja2.

The plugin module is imported whenever an Application is built (entry-point autoloading),
including by applications that render no template; importing Jinja2 costs about 80 ms of
start-up (``python -X importtime``: ``jinja2`` ≈ 80 ms of a ≈ 280 ms hello-world start-up),
so the setting defaults and checks live here and Jinja2 is imported only once templates
are needed (``_plugin``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from squall.web import StashKey

if TYPE_CHECKING:
    from squall.template._environment import TemplateEngine
    from squall.template._tt_engine import TornadoEngine
    from squall.template._uimodules import UISettings

Folders = tuple[str, ...]

_AUTOESCAPED_SUFFIXES = (".html", ".htm", ".xml")


def DEFAULT_AUTOESCAPE(template_name: str | None) -> bool:  # noqa: N802 - a public constant
    """The default ``autoescape``: on for ``.html``, ``.htm`` and ``.xml`` files (and strings).

    The rule of ``jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml"),
    default_for_string=True)``, written out so that the default needs no Jinja2 import.
    """
    if template_name is None:
        return True
    return template_name.lower().endswith(_AUTOESCAPED_SUFFIXES)


ENGINE: StashKey[TemplateEngine] = StashKey()
"""Where the plugin keeps each Application's ``TemplateEngine`` (``app.stash[ENGINE]``)."""

TORNADO_ENGINE: StashKey[TornadoEngine] = StashKey()
"""Where the plugin keeps each Application's engine of Tornado-syntax templates."""

UI: StashKey[UISettings | None] = StashKey()
"""Where the plugin keeps each Application's UI modules and methods."""

SYNTAX: StashKey[str | None] = StashKey()
"""The template language of each Application (``syntax_of`` its settings)."""

SYNTAXES = ("jinja2", "tornado")
"""Values of the ``template_syntax`` setting."""


def syntax_of(settings: Mapping[str, Any]) -> str:
    """The template language of an Application: ``template_syntax`` when given, else
    ``tornado`` when a ``template_loader`` is given, else ``jinja2``."""
    syntax = settings.get("template_syntax")
    if syntax is None:
        return "tornado" if settings.get("template_loader") is not None else "jinja2"
    return str(syntax)


def folders_of(value: object) -> Folders | None:
    """``template_path`` as a tuple of absolute folder names (None when not set).

    Raises:
        TypeError: not a folder name or a list of them.
    """
    if value is None:
        return None
    if isinstance(value, str | os.PathLike):
        items: Sequence[object] = [value]
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise TypeError("template_path must be a folder or a list of folders")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str | os.PathLike):
            raise TypeError(f"template_path entry {item!r} is not a folder name")
        out.append(os.path.abspath(os.fspath(item)))
    if not out:
        raise TypeError("template_path is an empty list")
    return tuple(out)
