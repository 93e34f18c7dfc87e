"""squall.template: Jinja2 behind ``RequestHandler.render()`` / ``render_string()``.

A squall.web plugin: installed, it is found through the ``squall.web`` entry-point group;
otherwise pass its plugin module explicitly:
``Application(..., plugins=[squall.template._plugin], autoload_plugins=False)``.

Settings: ``template_path``, ``autoescape``, ``template_env``, ``template_globals``,
``template_filters``; web's ``compiled_template_cache`` (off under ``debug``) governs the cache.
"""

from __future__ import annotations

from squall.template._environment import DEFAULT_AUTOESCAPE
from squall.template._errors import TemplateNotFoundError
from squall.template._render import get_environment
from squall.template._version import __version__

__all__ = ["DEFAULT_AUTOESCAPE", "TemplateNotFoundError", "__version__", "get_environment"]
