"""The Jinja2 environments of one Application, and the compiled-template cache.

Strategy:

- One ``TemplateEngine`` per Application, built at configuration time and kept in
  ``app.stash``; the request path only looks up an environment in a dict and asks Jinja2
  for the template (no pluggy, no settings parsing per request).
- ``compiled_template_cache`` (web's setting, default on, off under ``debug``) maps onto
  Jinja2's own cache. On: ``cache_size=-1`` (unbounded, as Tornado keeps every loader's
  templates) and ``auto_reload=False``, so a template is read and compiled once per process
  and never stat()ed again. Off: ``cache_size=0``, so every ``render`` reads and compiles
  the file afresh; an edit shows on the next request whatever the file system's mtime
  granularity (``auto_reload`` alone compares mtimes, which misses two edits in one tick).
- Folders: the ``template_path`` setting (one folder or a list, searched in order); a
  handler may override ``get_template_path()`` as in Tornado; without either, the folder of
  the module that defines the handler class (Tornado's default too). One environment per
  distinct tuple of folders.
- A user's ``template_env`` is never mutated: squall works on an ``overlay`` of it (which
  shares its settings but has its own cache), with its own copies of globals and filters.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jinja2

from squall.template._folders import FolderFinder
from squall.template._settings import DEFAULT_AUTOESCAPE, Folders, folders_of

if TYPE_CHECKING:
    from squall.web import RequestHandler


def describe_loader(loader: jinja2.BaseLoader | None) -> list[str]:
    """What a loader searches, for error messages (folders when it has them)."""
    if loader is None:
        return ["(the template_env has no loader)"]
    if isinstance(loader, jinja2.FileSystemLoader):
        return [os.fspath(p) for p in loader.searchpath]
    if isinstance(loader, jinja2.ChoiceLoader):
        return [s for sub in loader.loaders for s in describe_loader(sub)]
    return [repr(loader)]


class TemplateEngine:
    """The environments of one Application (see the module docstring).

    Args:
        settings: the Application's final settings.
    """

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.cache = bool(settings.get("compiled_template_cache", True))
        self.folders = folders_of(settings.get("template_path"))
        autoescape = settings.get("autoescape", DEFAULT_AUTOESCAPE)
        # Tornado spells "no autoescaping" autoescape=None and "on" "xhtml_escape".
        self.autoescape: bool | Callable[[str | None], bool] = (
            False if autoescape is None else True if autoescape == "xhtml_escape" else autoescape
        )
        self.globals: dict[str, Any] = dict(settings.get("template_globals") or {})
        self.filters: dict[str, Callable[..., Any]] = dict(settings.get("template_filters") or {})
        user_env: jinja2.Environment | None = settings.get("template_env")
        self.user_env = None if user_env is None else self._overlay(user_env)
        self._envs: dict[Folders, jinja2.Environment] = {}
        self._finder = FolderFinder(self.folders)

    def _cache_options(self) -> dict[str, Any]:
        if self.cache:
            return {"cache_size": -1, "auto_reload": False}
        return {"cache_size": 0, "auto_reload": True}

    def _overlay(self, user_env: jinja2.Environment) -> jinja2.Environment:
        options = {} if self.cache else self._cache_options()
        if self.folders is not None:
            options["loader"] = jinja2.FileSystemLoader(self.folders)
        env = user_env.overlay(**options)
        # overlay() shares the globals/filters dicts with the user's environment: copy them.
        env.globals = {**user_env.globals, **self.globals}
        env.filters = {**user_env.filters, **self.filters}
        return env

    def _new_environment(self, folders: Folders) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folders),
            autoescape=self.autoescape,
            **self._cache_options(),
        )
        env.globals.update(self.globals)
        env.filters.update(self.filters)
        return env

    def environment(self, handler: RequestHandler | None = None) -> jinja2.Environment:
        """The environment rendering ``handler``'s templates (created on first use).

        Precedence of the folders: ``handler.get_template_path()``, then the loader of
        ``template_env`` / the ``template_path`` setting, then the folder of the module that
        defines the handler class (the current directory without a handler).
        """
        folders = self._finder.override(handler)
        if folders is None:
            if self.user_env is not None and self.user_env.loader is not None:
                return self.user_env
            folders = self._finder.default(handler)
        env = self._envs.get(folders)
        if env is None:
            if self.user_env is None:
                env = self._new_environment(folders)
            else:
                env = self.user_env.overlay(loader=jinja2.FileSystemLoader(folders))
            self._envs[folders] = env
        return env
