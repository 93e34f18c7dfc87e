"""``render_string`` of Jinja2 templates: what ``RequestHandler.render_string()`` calls.

The namespace a template sees is built per call by ``_namespace.handler_namespace`` (the
handler's ``get_template_namespace()``, then ``settings``, ``xsrf_form_html`` and the UI
names), then the keyword arguments of the call win.

Errors: a missing template (or a missing ``include``) becomes ``TemplateNotFoundError``,
whose message names the folders searched; a syntax error keeps Jinja2's exception and gets
a note naming the file and line (and, when the template is evidently written in Tornado's
syntax, its message says to set ``template_syntax='tornado'``). Web then answers 500 and
logs it on ``squall.application`` (with ``serve_traceback`` the page shows it too).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from squall.template._environment import TemplateEngine, describe_loader
from squall.template._errors import TemplateNotFoundError
from squall.template._namespace import handler_namespace
from squall.template._settings import ENGINE
from squall.web import RequestHandler

if TYPE_CHECKING:
    from squall.web import Application

gen_log = logging.getLogger("squall.general")


def engine_of(app: Application) -> TemplateEngine:
    """The TemplateEngine of ``app`` (made now when the plugin's configure hook did not run)."""
    if ENGINE in app.stash:
        return app.stash[ENGINE]
    engine = app.stash[ENGINE] = TemplateEngine(app.settings)
    return engine


def get_environment(app: Application) -> jinja2.Environment:
    """The ``jinja2.Environment`` that renders ``app``'s templates outside a handler.

    It searches ``template_path`` (or the loader of ``template_env``; the current directory
    when neither is set) with the application's autoescape, globals, filters and cache.
    """
    return engine_of(app).environment(None)


def template_namespace(handler: RequestHandler, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The names a template rendered for ``handler`` sees (see ``_namespace``).

    HTML from ``xsrf_form_html()`` and UI modules is ``Markup``, so autoescaping leaves it
    whole.
    """
    ns = handler_namespace(handler, Markup)
    ns.update(kwargs)
    return ns


def _tornado_hint(exc: jinja2.TemplateSyntaxError) -> str | None:
    """A hint when the template is written in Tornado's syntax, not Jinja2's."""
    if "'end'" in (exc.message or "") or "{% end %}" in (exc.source or ""):
        return (
            "this looks like a Tornado template ({% end %} closes blocks): set "
            "template_syntax='tornado' in the Application settings to render Tornado "
            "templates"
        )
    return None


def _tornado_name_hint(exc: jinja2.UndefinedError) -> str | None:
    """A hint when Jinja2 misses one of the names of Tornado's template namespace.

    Those names (``BASE_NAMESPACE``'s public ones) are given to Tornado-syntax templates
    only, so a Jinja2 template calling one was written for Tornado.
    """
    from squall.template._tt_runtime import BASE_NAMESPACE  # only on this error path

    message = exc.message or ""
    for name in BASE_NAMESPACE:
        if name.startswith("_"):
            continue
        if message.startswith(f"'{name}' is undefined"):
            return (
                f"{name}() is a name of Tornado's templates: set template_syntax='tornado' "
                "in the Application settings to render Tornado templates"
            )
    return None


def render_string(handler: RequestHandler, template_name: str, **kwargs: Any) -> bytes:
    """Render the template ``template_name`` for ``handler``; the page as UTF-8 bytes.

    Args:
        handler: the handler rendering (its namespace is added, see the module docstring).
        template_name: a name relative to the template folders (``"index.html"``).
        **kwargs: names the template sees, winning over the defaults.

    Raises:
        TemplateNotFoundError: no such template (the message names the folders searched).
        jinja2.TemplateSyntaxError: the template is not valid (note: file and line).
    """
    env = engine_of(handler.application).environment(handler)
    try:
        template = env.get_template(template_name)
        text = template.render(template_namespace(handler, kwargs))
    except TemplateNotFoundError:
        raise
    except jinja2.TemplateNotFound as exc:
        missing = exc.name if isinstance(exc.name, str) else template_name
        raise TemplateNotFoundError(missing, describe_loader(env.loader)) from exc
    except jinja2.TemplateSyntaxError as exc:
        hint = _tornado_hint(exc)
        if hint is not None:
            # TemplateSyntaxError's message is its first argument.
            exc.args = (f"{exc.message} ({hint})", *exc.args[1:])
        where = exc.filename or exc.name or template_name
        exc.add_note(f'template syntax error in "{where}", line {exc.lineno}: {exc.message}')
        raise
    except jinja2.UndefinedError as exc:
        hint = _tornado_name_hint(exc)
        if hint is not None:
            exc.args = (f"{exc.message} ({hint})", *exc.args[1:])
        raise
    return text.encode("utf-8")
