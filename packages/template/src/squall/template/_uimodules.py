"""UI modules and UI methods (Tornado's ``ui_modules`` / ``ui_methods`` settings).

A UI module is a reusable piece of a page: a ``UIModule`` subclass whose ``render()``
returns HTML and which may ask for JavaScript and CSS (files or inline code) and for extra
``<head>``/``<body>`` HTML. Templates call it as ``{% module Entry(e) %}`` (Tornado syntax)
or ``{{ modules.Entry(e) }}`` (both engines; Jinja2 marks the result safe). One instance per
module name per request, so ``render()``'s resources are collected once; ``render()`` (not
``render_string()``) then injects them into the page:

- ``javascript_files`` as ``<script src>`` and ``embedded_javascript`` in one ``<script>``,
  before the last ``</body>``;
- ``css_files`` as ``<link rel=stylesheet>`` and ``embedded_css`` in one ``<style>``, before
  the first ``</head>``; ``html_head`` before ``</head>``; ``html_body`` before ``</body>``.

Relative file names go through ``handler.static_url``; a name starting with ``/`` or
``http:``/``https:`` is used as is; each file appears once, in first-use order. A handler
may override ``render_linked_js``, ``render_embed_js``, ``render_linked_css`` and
``render_embed_css`` as in Tornado.

UI methods are functions ``f(handler, *args)`` that templates call as ``f(*args)``.

The settings are read once per Application (``load_ui_modules`` / ``load_ui_methods``);
per request only the names a template actually uses cost anything.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from squall.template._settings import UI
from squall.web import escape as web_escape

if TYPE_CHECKING:
    from squall.web import Application, RequestHandler


class UIModule:
    """A reusable piece of a page (subclass it and define ``render``).

    Attributes:
        handler: the handler rendering the page.
        request: its request.
        ui: the handler's UI names (UI methods, and ``modules``).
        locale: the request's locale.
    """

    def __init__(self, handler: RequestHandler) -> None:
        self.handler = handler
        self.request = handler.request
        self.ui = ui_of(handler)
        self.locale = handler.locale

    @property
    def current_user(self) -> Any:
        """The handler's ``current_user``."""
        return self.handler.current_user

    def render(self, *args: Any, **kwargs: Any) -> str | bytes:
        """The module's HTML (override)."""
        raise NotImplementedError(f"{type(self).__name__} does not define render()")

    def embedded_javascript(self) -> str | None:
        """JavaScript code to put in the page (once, whatever the number of uses)."""
        return None

    def javascript_files(self) -> Iterable[str] | str | None:
        """JavaScript files the page needs (relative names go through ``static_url``)."""
        return None

    def embedded_css(self) -> str | None:
        """CSS to put in the page's ``<head>``."""
        return None

    def css_files(self) -> Iterable[str] | str | None:
        """CSS files the page needs (relative names go through ``static_url``)."""
        return None

    def html_head(self) -> str | None:
        """HTML to put at the end of ``<head>``."""
        return None

    def html_body(self) -> str | None:
        """HTML to put at the end of ``<body>``."""
        return None

    def render_string(self, path: str, **kwargs: Any) -> bytes:
        """Render the template ``path`` with the handler (its namespace plus ``kwargs``)."""
        return self.handler.render_string(path, **kwargs)


class _Linkify(UIModule):
    def render(self, text: str, **kwargs: Any) -> str:
        return web_escape.linkify(text, **kwargs)


class _XsrfFormHtml(UIModule):
    def render(self) -> str:
        result: str = self.handler.xsrf_form_html()
        return result


class TemplateModule(UIModule):
    """``{% module Template("part.html", **names) %}``: renders a template with its own
    namespace (the handler's plus ``names``), unlike ``{% include %}``.

    The template may call ``set_resources(javascript_files=..., embedded_css=..., ...)``
    (keywords named like the ``UIModule`` methods) to add resources to the page; they are
    collected once per template file.

    Raises (from ``set_resources``):
        ValueError: one template file asked for different resources on two renders.
    """

    def __init__(self, handler: RequestHandler) -> None:
        super().__init__(handler)
        self._resources: dict[str, dict[str, Any]] = {}  # path -> kwargs, in first-use order

    def render(self, path: str, **kwargs: Any) -> bytes:
        def set_resources(**resources: Any) -> str:
            known = self._resources.setdefault(path, resources)
            if known != resources:
                raise ValueError(
                    f"set_resources() called with different resources by template {path!r}"
                )
            return ""

        return self.render_string(path, set_resources=set_resources, **kwargs)

    def _all(self, key: str) -> list[Any]:
        return [r[key] for r in self._resources.values() if key in r]

    def _files(self, key: str) -> list[str]:
        files: list[str] = []
        for item in self._all(key):
            if isinstance(item, str | bytes):
                files.append(item)  # type: ignore[arg-type]
            else:
                files.extend(item)
        return files

    def embedded_javascript(self) -> str:
        """The ``embedded_javascript`` of every template, one per line."""
        return "\n".join(self._all("embedded_javascript"))

    def javascript_files(self) -> list[str]:
        """The ``javascript_files`` of every template."""
        return self._files("javascript_files")

    def embedded_css(self) -> str:
        """The ``embedded_css`` of every template, one per line."""
        return "\n".join(self._all("embedded_css"))

    def css_files(self) -> list[str]:
        """The ``css_files`` of every template."""
        return self._files("css_files")

    def html_head(self) -> str:
        """The ``html_head`` of every template."""
        return "".join(self._all("html_head"))

    def html_body(self) -> str:
        """The ``html_body`` of every template."""
        return "".join(self._all("html_body"))


BUILTIN_MODULES: dict[str, type[UIModule]] = {
    "linkify": _Linkify,
    "xsrf_form_html": _XsrfFormHtml,
    "Template": TemplateModule,
}


@dataclass(frozen=True, slots=True)
class UISettings:
    """The UI modules and methods of one Application."""

    modules: dict[str, type[UIModule]] = field(default_factory=lambda: dict(BUILTIN_MODULES))
    methods: dict[str, Callable[..., Any]] = field(default_factory=dict)


def _entries(value: object) -> Iterable[tuple[str, Any]]:
    """(name, object) pairs of a module, a dict, or a list of them (Tornado's forms)."""
    if isinstance(value, types.ModuleType):
        return [(name, getattr(value, name)) for name in dir(value)]
    if isinstance(value, list | tuple):
        return [pair for item in value for pair in _entries(item)]
    if isinstance(value, Mapping):
        return list(value.items())
    raise TypeError(f"expected a module, a dict or a list of them, not {type(value).__name__}")


def is_ui_setting(value: object) -> bool:
    """Whether ``value`` has the shape of ``ui_modules``/``ui_methods`` (or is None)."""
    if value is None:
        return True
    try:
        _entries(value)
    except TypeError:
        return False
    return True


def _is_tornado_module(obj: object) -> bool:
    return isinstance(obj, type) and any(
        c.__name__ == "UIModule" and c.__module__ == "tornado.web" for c in obj.__mro__
    )


def load_ui_modules(value: object) -> dict[str, type[UIModule]]:
    """The UIModule subclasses of a ``ui_modules`` setting, after the built-in ones.

    In a Python module, other names (its imports, helpers) are skipped, as Tornado does.

    Raises:
        TypeError: a Tornado ``UIModule`` (it must subclass ``squall.template.UIModule``), or
            a dict entry that is not a UIModule class.
    """
    modules = dict(BUILTIN_MODULES)
    if value is None:
        return modules
    for group in value if isinstance(value, list | tuple) else [value]:
        explicit = not isinstance(group, types.ModuleType)
        for name, obj in _entries(group):
            if _is_tornado_module(obj):
                raise TypeError(
                    f"ui_modules: {name} subclasses tornado.web.UIModule; make it subclass "
                    "squall.template.UIModule"
                )
            if isinstance(obj, type) and issubclass(obj, UIModule):
                modules[name] = obj
            elif explicit:
                raise TypeError(f"ui_modules: {name}={obj!r} is not a UIModule subclass")
    return modules


def load_ui_methods(value: object) -> dict[str, Callable[..., Any]]:
    """The functions of a ``ui_methods`` setting.

    In a Python module, only callables whose name starts with a lower-case letter count (so
    its classes and private names are skipped, as Tornado does).

    Raises:
        TypeError: a dict entry that is not callable.
    """
    methods: dict[str, Callable[..., Any]] = {}
    if value is None:
        return methods
    for group in value if isinstance(value, list | tuple) else [value]:
        explicit = not isinstance(group, types.ModuleType)
        for name, obj in _entries(group):
            if not name.startswith("_") and callable(obj) and name[0].lower() == name[0]:
                methods[name] = obj
            elif explicit:
                raise TypeError(
                    f"ui_methods: {name}={obj!r} is not a function templates can call "
                    "(callable, with a name starting with a lower-case letter)"
                )
    return methods


class ModulesNamespace:
    """``modules.Name(...)`` / ``{% module Name(...) %}``: calls module ``Name`` for the
    handler; ``wrap`` turns the HTML into what the engine inserts unescaped."""

    def __init__(
        self,
        handler: RequestHandler,
        modules: Mapping[str, type[UIModule]],
        wrap: Callable[[str], Any] = str,
    ) -> None:
        self._handler = handler
        self._modules = modules
        self._wrap = wrap

    def __getitem__(self, name: str) -> Callable[..., Any]:
        cls = self._modules[name]
        handler = self._handler
        wrap = self._wrap

        def call(*args: Any, **kwargs: Any) -> Any:
            active = active_modules(handler)
            module = active.get(name)
            if module is None:
                module = active[name] = cls(handler)
            rendered = module.render(*args, **kwargs)
            if isinstance(rendered, bytes):
                rendered = rendered.decode("utf-8")
            return wrap(rendered)

        return call

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no UI module named {name!r}") from None


def active_modules(handler: RequestHandler) -> dict[str, UIModule]:
    """The modules used so far by this request's templates (name → instance)."""
    found: dict[str, UIModule] | None = handler.__dict__.get("_active_modules")
    if found is None:
        found = handler.__dict__["_active_modules"] = {}
    return found


class UINamespace(dict[str, Any]):
    """``handler.ui``: the UI methods bound to the handler, and ``modules``; also readable
    as attributes (``self.ui.modules``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def ui_names(
    handler: RequestHandler, ui: UISettings, wrap: Callable[[str], Any] = str
) -> UINamespace:
    """The UI names a template rendered by ``handler`` sees."""
    names = UINamespace(
        (name, functools.partial(method, handler)) for name, method in ui.methods.items()
    )
    modules = ModulesNamespace(handler, ui.modules, wrap)
    names["_tt_modules"] = modules
    names["modules"] = modules
    return names


def ui_settings_of(app: Application) -> UISettings:
    """The UI modules and methods of ``app`` (read from its settings once)."""
    found = app.stash.get(UI, None)
    if found is None:
        found = UISettings(
            load_ui_modules(app.settings.get("ui_modules")),
            load_ui_methods(app.settings.get("ui_methods")),
        )
        app.stash[UI] = found
    return found


def ui_of(handler: RequestHandler) -> UINamespace:
    """``handler.ui`` (made on first use and kept on the handler)."""
    ui: UINamespace | None = handler.__dict__.get("ui")
    if ui is None:
        ui = handler.__dict__["ui"] = ui_names(handler, ui_settings_of(handler.application))
    return ui
