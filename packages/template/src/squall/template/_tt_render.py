"""``render_string`` for Tornado-syntax templates (no Jinja2 import).

The namespace is ``template_globals``, then the handler's (see ``_namespace``; the UI names
are ``handler.ui``, shared with UI modules), then the keyword arguments; under all of them
the loader's namespace and the names every Tornado template gets (``escape``,
``xhtml_escape``, ``url_escape``, ``json_encode``, ``squeeze``, ``linkify``, ``datetime``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from squall.template._namespace import handler_namespace
from squall.template._settings import TORNADO_ENGINE
from squall.template._tt_engine import TornadoEngine
from squall.template._uimodules import ui_of

if TYPE_CHECKING:
    from squall.web import Application, RequestHandler


def tornado_engine_of(app: Application) -> TornadoEngine:
    """The TornadoEngine of ``app`` (made on first use)."""
    if TORNADO_ENGINE in app.stash:
        return app.stash[TORNADO_ENGINE]
    engine = app.stash[TORNADO_ENGINE] = TornadoEngine(app.settings)
    return engine


def render_string(handler: RequestHandler, template_name: str, **kwargs: Any) -> bytes:
    """Render the Tornado-syntax template ``template_name`` for ``handler`` (UTF-8 bytes).

    Raises:
        TemplateNotFoundError: no such template (the message names the folders searched).
        ParseError: the template is not valid (file and line).
    """
    engine = tornado_engine_of(handler.application)
    template = engine.loader_for(handler).load(template_name)
    namespace = dict(engine.globals)
    namespace.update(handler_namespace(handler, str, ui_of(handler)))
    namespace.update(kwargs)
    return template.generate(**namespace)
