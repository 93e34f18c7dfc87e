"""``render`` and ``render_string``: what ``RequestHandler.render()`` / ``render_string()`` call.

The namespace a template sees, built per call in this order (later wins, as in Tornado):

1. ``handler.get_template_namespace()``: web's base gives ``handler``, ``request``,
   ``current_user``, ``reverse_url`` and ``static_url`` (when squall-static offers it); a
   handler extends it with ``super().get_template_namespace()`` (Tornado's pattern). An
   override that does not call ``super()`` still gets web's names, under its own;
2. ``settings`` and ``xsrf_form_html`` (when the handler has it), unless already given;
3. the keyword arguments of the call.

Errors: a missing template (or a missing ``include``) becomes ``TemplateNotFoundError``,
whose message names the folders searched; a syntax error keeps Jinja2's exception and gets
a note naming the file and line. Web then answers 500 and logs it on ``squall.application``
(with ``serve_traceback`` the page shows it too).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from squall.template._environment import TemplateEngine, describe_loader
from squall.template._errors import TemplateNotFoundError
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


def _markup_call(func: Callable[[], object]) -> Markup:
    return Markup(func())


def get_environment(app: Application) -> jinja2.Environment:
    """The ``jinja2.Environment`` that renders ``app``'s templates outside a handler.

    It searches ``template_path`` (or the loader of ``template_env``; the current directory
    when neither is set) with the application's autoescape, globals, filters and cache.
    """
    return engine_of(app).environment(None)


def template_namespace(handler: RequestHandler, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The names a template rendered for ``handler`` sees (see the module docstring)."""
    ns = dict(handler.get_template_namespace())
    if "handler" not in ns:
        # An override that did not call super(): web's defaults still apply, under its names.
        ns = {**RequestHandler.get_template_namespace(handler), **ns}
    ns.setdefault("settings", handler.application.settings)
    # Not defined by web's RequestHandler (yet): passed when a handler has it.
    xsrf_form_html = getattr(handler, "xsrf_form_html", None)
    if xsrf_form_html is not None and "xsrf_form_html" not in ns:
        # It returns HTML (a hidden <input>): marked safe so autoescaping leaves it whole.
        ns["xsrf_form_html"] = functools.partial(_markup_call, xsrf_form_html)
    ns.update(kwargs)
    return ns


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
        where = exc.filename or exc.name or template_name
        exc.add_note(f'template syntax error in "{where}", line {exc.lineno}: {exc.message}')
        raise
    return text.encode("utf-8")


def render(handler: RequestHandler, template_name: str, **kwargs: Any) -> Awaitable[None]:
    """Render ``template_name`` and finish the response with it (Tornado's ``render``).

    Returns:
        What ``handler.finish()`` returns (an awaitable that completes when the page is
        sent; awaiting it is optional).

    Raises:
        RuntimeError: the response was already finished.
        TemplateNotFoundError, jinja2.TemplateSyntaxError: as ``render_string``.
    """
    if getattr(handler, "_finished", False):
        raise RuntimeError("render() called after finish()")
    page = render_string(handler, template_name, **kwargs)
    return handler.finish(page)
