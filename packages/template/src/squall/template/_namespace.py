"""The names a template rendered by a handler sees (both engines), built per render.

In this order, later winning (Tornado's order):

1. ``handler.get_template_namespace()``: web's base gives ``handler``, ``request``,
   ``current_user``, ``locale``, ``_``, ``pgettext``, ``reverse_url`` and ``static_url``
   (when squall-static offers it); a handler extends it with ``super()``. An override that
   does not call ``super()`` still gets web's names, under its own;
2. ``settings``, ``xsrf_form_html`` and the UI names (the ``ui_methods`` bound to the
   handler, ``modules``), unless the handler's namespace already has them;
3. the keyword arguments of the ``render`` call (added by the engine).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from squall.template._uimodules import UINamespace, ui_names, ui_settings_of
from squall.web import RequestHandler


def _html_call(wrap: Callable[[str], Any], func: Callable[[], str]) -> Any:
    return wrap(func())


def handler_namespace(
    handler: RequestHandler, wrap: Callable[[str], Any], ui: UINamespace | None = None
) -> dict[str, Any]:
    """Steps 1 and 2 of the module docstring.

    Args:
        handler: the handler rendering.
        wrap: turns HTML text into what the engine inserts without escaping (``str`` for
            Tornado's syntax, where ``{% raw %}``/``{% module %}`` do that; ``Markup`` for
            Jinja2).
        ui: the UI names to add (default: made for ``handler`` with ``wrap``).
    """
    ns = dict(handler.get_template_namespace())
    if "handler" not in ns:
        ns = {**RequestHandler.get_template_namespace(handler), **ns}
    ns.setdefault("settings", handler.application.settings)
    xsrf_form_html = getattr(handler, "xsrf_form_html", None)
    if xsrf_form_html is not None and "xsrf_form_html" not in ns:
        ns["xsrf_form_html"] = functools.partial(_html_call, wrap, xsrf_form_html)
    if ui is None:
        ui = ui_names(handler, ui_settings_of(handler.application), wrap)
    for name, value in ui.items():
        ns.setdefault(name, value)
    return ns
