"""The Tornado-syntax engine of one Application: which loader renders a handler's templates.

- The ``template_loader`` setting (a ``squall.template`` loader) serves every handler, as in
  Tornado.
- Otherwise one ``Loader`` per distinct tuple of template folders (see ``_folders``), made
  with the ``autoescape`` and ``template_whitespace`` settings.
- A handler that defines ``create_template_loader(template_path)`` (Tornado's hook) gets the
  loader it returns, once per folder.
- ``compiled_template_cache`` off (as under ``debug``): the loader forgets its templates
  before each render, so every render reads and compiles the files afresh; on, a template is
  read and compiled once per process.

Nothing here imports Jinja2: an application written for Tornado's syntax never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from squall.template._folders import FolderFinder
from squall.template._settings import DEFAULT_AUTOESCAPE, folders_of
from squall.template._tt_template import DEFAULT_AUTOESCAPE_FUNCTION, BaseLoader, Loader

if TYPE_CHECKING:
    from squall.web import RequestHandler


def tornado_autoescape(value: object) -> str | None:
    """The ``autoescape`` setting as a Tornado autoescape function name (or None).

    The default and ``True`` are ``xhtml_escape`` (Tornado escapes every template); ``False``
    and None turn escaping off; a string names a function of the template namespace.

    Raises:
        ValueError: a function of the template name (a Jinja2-only form).
    """
    if value is DEFAULT_AUTOESCAPE or value is True:
        return DEFAULT_AUTOESCAPE_FUNCTION
    if value is None or value is False:
        return None
    if isinstance(value, str):
        return value
    raise ValueError(
        "autoescape as a function of the template name works with Jinja2 only; with "
        "template_syntax='tornado' give the name of an escaping function "
        "('xhtml_escape') or None"
    )


class TornadoEngine:
    """The loaders of one Application (see the module docstring).

    Args:
        settings: the Application's final settings.
    """

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.cache = bool(settings.get("compiled_template_cache", True))
        self.loader: BaseLoader | None = settings.get("template_loader")
        self.autoescape = tornado_autoescape(settings.get("autoescape", DEFAULT_AUTOESCAPE))
        self.whitespace: str | None = settings.get("template_whitespace")
        self.globals: dict[str, Any] = dict(settings.get("template_globals") or {})
        self._finder = FolderFinder(folders_of(settings.get("template_path")))
        self._loaders: dict[tuple[object, tuple[str, ...]], BaseLoader] = {}

    def loader_for(self, handler: RequestHandler | None) -> BaseLoader:
        """The loader of ``handler``'s templates (reset first when the cache is off)."""
        create: Callable[[str], object] | None = getattr(handler, "create_template_loader", None)
        if create is None and self.loader is not None:
            loader = self.loader
        else:
            folders = self._finder.folders(handler)
            key = (getattr(create, "__func__", create), folders)
            found = self._loaders.get(key)
            if found is None:
                found = self._loaders[key] = self._new_loader(create, folders)
            loader = found
        if not self.cache:
            loader.reset()
        return loader

    def _new_loader(
        self, create: Callable[[str], object] | None, folders: tuple[str, ...]
    ) -> BaseLoader:
        if create is None:
            return Loader(folders, autoescape=self.autoescape, whitespace=self.whitespace)
        # Tornado's hook takes one folder: with several template folders, the first.
        made = create(folders[0])
        if not isinstance(made, BaseLoader):
            raise TypeError(
                f"create_template_loader() returned {type(made).__name__}, not a "
                "squall.template loader (Loader, DictLoader or a BaseLoader subclass)"
            )
        return made
