"""The errors of squall.template.

Tree::

    LookupError
    └── jinja2.TemplateNotFound          (Jinja2's own: a loader found no such file)
        └── TemplateNotFoundError        squall: same, and the message names the folders

A template with a syntax error raises Jinja2's ``TemplateSyntaxError`` unchanged (its
traceback already points at the template file and line); squall adds a note naming both, so
the log line and the ``serve_traceback`` page show them even when the traceback is cut.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2


class TemplateNotFoundError(jinja2.TemplateNotFound):
    """A template asked for by ``render()`` / ``render_string()`` (or an ``include``) is
    missing; the message names the template and every folder that was searched.

    Raised instead of ``jinja2.TemplateNotFound`` (it is a subclass, so code catching
    Jinja2's error still works). Web turns it into a 500 and logs it with the message.

    Attributes:
        name: the template name that was asked for.
        searched: the folders (or the loader's description) that were searched.
    """

    def __init__(self, name: str, searched: Sequence[str]) -> None:
        self.searched = tuple(searched)
        where = ", ".join(repr(s) for s in self.searched) or "(no template folder)"
        super().__init__(name, f"template {name!r} not found; searched: {where}")
