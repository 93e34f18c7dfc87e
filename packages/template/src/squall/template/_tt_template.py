"""Tornado-syntax templates: ``Template``, ``BaseLoader``, ``Loader`` and ``DictLoader``.

The API of ``tornado.template``: ``Template(source, name=..., loader=..., autoescape=...,
whitespace=...).generate(**names)`` returns the page as UTF-8 ``bytes``; a loader finds
templates by name, compiles each once and keeps it (``reset()`` forgets them), and is what
``{% extends %}`` / ``{% include %}`` resolve names with (relative to the including file).

A template is compiled when it is constructed: parsed (``_tt_parser``), turned into the
source of one Python function (``_tt_codegen``) and compiled; ``generate()`` then only calls
that function with a fresh namespace. Errors name the template and the line: a syntax error
(template or Python) raises ``ParseError`` at construction, and an exception raised while
rendering gets a note ``in template "page.html", line 12``; the generated code is also
registered with ``linecache``, so the traceback shows its line with a ``# page.html:12``
comment.
"""

from __future__ import annotations

import itertools
import linecache
import os
import posixpath
import threading
import types
from collections.abc import Mapping, Sequence
from typing import Any

from squall.template._tt_codegen import Generated, Origin, generate
from squall.template._tt_lexer import ParseError
from squall.template._tt_parser import ParsedTemplate, parse
from squall.template._tt_runtime import BASE_NAMESPACE, escaper_for
from squall.template._tt_whitespace import check_mode

DEFAULT_AUTOESCAPE_FUNCTION = "xhtml_escape"
"""The autoescape function of Tornado-syntax templates unless told otherwise."""


class _Unset:
    pass


_UNSET: Any = _Unset()
_serial = itertools.count(1)


def _default_whitespace(name: str) -> str:
    # Tornado's rule: markup and scripts collapse whitespace, anything else keeps it.
    return "single" if name.endswith((".html", ".js")) else "all"


class Template:
    """A compiled Tornado-syntax template.

    Args:
        template_string: the template text (``bytes`` are decoded as UTF-8).
        name: its name, used in error messages and to resolve relative names.
        loader: the loader that found it; needed for ``extends`` and ``include``, and
            supplies the default ``autoescape``, ``whitespace`` and namespace.
        compress_whitespace: Tornado's old switch: True is ``whitespace="single"``, False
            ``"all"``.
        autoescape: name of the function in the namespace that escapes ``{{ }}`` values
            (default ``"xhtml_escape"``), or None for none.
        whitespace: ``"all"``, ``"single"`` or ``"oneline"`` (default: the loader's, else
            ``single`` for ``.html``/``.js`` names and ``all`` for others).

    Raises:
        ParseError: the template (or the Python in it) is not valid; names file and line.
        ValueError: an unknown whitespace mode, or both whitespace arguments given.
    """

    def __init__(
        self,
        template_string: str | bytes,
        name: str = "<string>",
        loader: BaseLoader | None = None,
        compress_whitespace: bool = _UNSET,
        autoescape: str | None = _UNSET,
        whitespace: str | None = None,
    ) -> None:
        self.name = name
        if compress_whitespace is not _UNSET:
            if whitespace is not None:
                raise ValueError("give whitespace or compress_whitespace, not both")
            whitespace = "single" if compress_whitespace else "all"
        if whitespace is None:
            whitespace = (loader.whitespace if loader else None) or _default_whitespace(name)
        check_mode(whitespace)
        if autoescape is _UNSET:
            autoescape = loader.autoescape if loader else DEFAULT_AUTOESCAPE_FUNCTION
        self.loader = loader
        self.namespace: dict[str, Any] = loader.namespace if loader else {}
        if isinstance(template_string, bytes):
            template_string = template_string.decode("utf-8")
        self.parsed: ParsedTemplate = parse(template_string, name, whitespace)
        self.autoescape: str | None = (
            self.parsed.autoescape if self.parsed.autoescape_set else autoescape
        )
        self._generated: Generated = generate(self, loader.load if loader else None)
        self.code: str = self._generated.source
        """The generated Python source (each line ends with ``# template:line``)."""
        self._filename = f"<template {name} #{next(_serial)}>"
        try:
            compiled = compile(self.code, self._filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            origin = self._origin(exc.lineno or 0)
            raise ParseError(
                f"invalid Python in the template: {exc.msg}", origin.template, origin.line
            ) from exc
        module: dict[str, Any] = {}
        exec(compiled, module)  # noqa: S102 - defines _tt_execute, runs no template code
        self._function_code: types.CodeType = module["_tt_execute"].__code__
        linecache.cache[self._filename] = (
            len(self.code),
            None,
            self.code.splitlines(keepends=True),
            self._filename,
        )

    def __del__(self) -> None:
        # The generated source leaves linecache with the template (at interpreter exit the
        # module may already be gone).
        cache = getattr(linecache, "cache", None)
        if cache is not None:
            cache.pop(getattr(self, "_filename", ""), None)

    def _origin(self, lineno: int) -> Origin:
        line_map = self._generated.line_map
        if 1 <= lineno <= len(line_map):
            return line_map[lineno - 1]
        return Origin(self.name, 0, ())

    def generate(self, **kwargs: Any) -> bytes:
        """Render the template with ``kwargs`` (over the loader's namespace and the base
        names); the result is UTF-8 bytes.

        An exception raised by the template's code propagates with a note naming the
        template file and line where it happened.
        """
        namespace = BASE_NAMESPACE.copy()
        if self.namespace:
            namespace.update(self.namespace)
        namespace.update(kwargs)
        for function, global_name in self._generated.escapers.items():
            escape = namespace.get(function, _UNSET)
            if escape is _UNSET:
                namespace[global_name] = _missing(function)
            else:
                namespace[global_name] = escaper_for(escape)
        execute = types.FunctionType(self._function_code, namespace)
        try:
            result: bytes = execute()
        except Exception as exc:
            self._note(exc)
            raise
        return result

    def _note(self, exc: BaseException) -> None:
        lineno = None
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self._filename:
                lineno = tb.tb_lineno
            tb = tb.tb_next
        if lineno is not None:
            exc.add_note(f"in template {self._origin(lineno).describe()}")


def _missing(function: str) -> Any:
    def escape(value: Any) -> bytes:
        raise NameError(f"the autoescape function {function!r} is not in the namespace")

    return escape


class BaseLoader:
    """Finds templates by name, compiles each once and keeps it.

    Args:
        autoescape: the autoescape function name of its templates (None: no escaping).
        namespace: names every template of this loader sees.
        whitespace: default whitespace mode of its templates (None: by file name).
    """

    def __init__(
        self,
        autoescape: str | None = DEFAULT_AUTOESCAPE_FUNCTION,
        namespace: Mapping[str, Any] | None = None,
        whitespace: str | None = None,
    ) -> None:
        if whitespace is not None:
            check_mode(whitespace)
        self.autoescape = autoescape
        self.namespace: dict[str, Any] = dict(namespace or {})
        self.whitespace = whitespace
        self.templates: dict[str, Template] = {}
        # Reentrant: compiling a template loads the ones it extends and includes.
        self.lock = threading.RLock()

    def reset(self) -> None:
        """Forget every compiled template (they are read and compiled again when loaded)."""
        with self.lock:
            self.templates = {}

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        """The name of ``name`` as written inside ``parent_path`` (relative to its folder)."""
        if parent_path and not parent_path.startswith(("<", "/")) and not name.startswith("/"):
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(parent_path), name))
            if not joined.startswith("../") and joined != "..":
                return joined
        return name

    def load(self, name: str, parent_path: str | None = None) -> Template:
        """The compiled template ``name`` (relative to ``parent_path`` when given)."""
        name = self.resolve_path(name, parent_path)
        with self.lock:
            template = self.templates.get(name)
            if template is None:
                template = self.templates[name] = self._create_template(name)
            return template

    def _create_template(self, name: str) -> Template:
        raise NotImplementedError(f"{type(self).__name__} does not define _create_template")


class Loader(BaseLoader):
    """Templates from files under ``root_directory`` (or several folders, searched in order).

    Raises (from ``load``):
        TemplateNotFoundError: no folder holds the file (the message names them).
    """

    def __init__(
        self, root_directory: str | os.PathLike[str] | Sequence[str], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(root_directory, str | os.PathLike):
            roots = [os.fspath(root_directory)]
        else:
            roots = [os.fspath(r) for r in root_directory]
        self.roots = tuple(os.path.abspath(r) for r in roots)
        self.root = self.roots[0]

    def _create_template(self, name: str) -> Template:
        for root in self.roots:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    source = f.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            return Template(source, name=name, loader=self)
        from squall.template._errors import TemplateNotFoundError  # noqa: PLC0415 - Jinja2 only on error

        raise TemplateNotFoundError(name, self.roots)


class DictLoader(BaseLoader):
    """Templates from a dict ``name -> source``."""

    def __init__(self, dict: Mapping[str, str | bytes], **kwargs: Any) -> None:  # noqa: A002 - Tornado's name
        super().__init__(**kwargs)
        self.dict = dict

    def _create_template(self, name: str) -> Template:
        try:
            source = self.dict[name]
        except KeyError:
            raise KeyError(f"template {name!r} is not in the DictLoader") from None
        return Template(source, name=name, loader=self)
