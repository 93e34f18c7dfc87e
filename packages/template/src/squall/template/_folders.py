"""Which folders hold a handler's templates (shared by both template engines).

Precedence (Tornado's): ``handler.get_template_path()`` when the handler defines it, then
the ``template_path`` setting, then the folder of the module that defines the handler class
(the current directory for a class defined interactively, or without a handler). The
last lookup is cached per class.
"""

from __future__ import annotations

import inspect
import os

from squall.template._settings import Folders, folders_of
from squall.web import RequestHandler

# None with a squall-web that has no get_template_path of its own (before 0.2.6).
_WEB_GET_TEMPLATE_PATH = getattr(RequestHandler, "get_template_path", None)


class FolderFinder:
    """The template folders of handlers, for one Application.

    Args:
        configured: the ``template_path`` setting as folders (None when not set).
    """

    def __init__(self, configured: Folders | None) -> None:
        self.configured = configured
        self._class_folders: dict[type, Folders] = {}

    def override(self, handler: RequestHandler | None) -> Folders | None:
        """Folders from ``handler.get_template_path()`` when the handler's class overrides it.

        squall-web's own method returns the ``template_path`` setting, which
        :meth:`default` gives already: it is not called.
        """
        method = getattr(type(handler), "get_template_path", None)
        if method is None or method is _WEB_GET_TEMPLATE_PATH:
            return None
        return folders_of(handler.get_template_path())  # type: ignore[union-attr]

    def default(self, handler: RequestHandler | None) -> Folders:
        """``template_path``, else the folder of the handler's module (or the cwd)."""
        if self.configured is not None:
            return self.configured
        if handler is None:
            return (os.getcwd(),)
        cls = type(handler)
        found = self._class_folders.get(cls)
        if found is None:
            try:
                source = inspect.getsourcefile(cls) or inspect.getfile(cls)
                found = (os.path.dirname(os.path.abspath(source)),)
            except (TypeError, OSError):
                found = (os.getcwd(),)
            self._class_folders[cls] = found
        return found

    def folders(self, handler: RequestHandler | None) -> Folders:
        """The folders of ``handler``'s templates (see the module docstring)."""
        return self.override(handler) or self.default(handler)
