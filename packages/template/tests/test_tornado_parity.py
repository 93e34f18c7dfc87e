"""The same templates rendered by squall and by Tornado give the same bytes.

The templates are those of Tornado's template documentation (the base/child example, the
``for``/``if``, ``apply``, ``raw``, ``autoescape``, whitespace and escape examples) and more,
each rendered with ``squall.template.DictLoader`` and ``tornado.template.DictLoader``.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import tornado.template

import squall.template

DOC_TEMPLATES = {
    # The documentation's inheritance example.
    "base.html": (
        "<html>\n  <head>\n    <title>{% block title %}Default title{% end %}</title>\n"
        "  </head>\n  <body>\n    <ul>\n      {% for student in students %}\n"
        "        {% block student %}\n          <li>{{ escape(student.name) }}</li>\n"
        "        {% end %}\n      {% end %}\n    </ul>\n  </body>\n</html>\n"
    ),
    "bold.html": (
        '{% extends "base.html" %}\n\n{% block title %}A bolder title{% end %}\n\n'
        '{% block student %}\n  <li><span style="bold">{{ escape(student.name) }}</span></li>\n'
        "{% end %}\n"
    ),
    "template.html": (
        "<html>\n   <head>\n      <title>{{ title }}</title>\n   </head>\n   <body>\n     <ul>\n"
        "       {% for item in items %}\n         <li>{{ escape(item) }}</li>\n       {% end %}\n"
        "     </ul>\n   </body>\n </html>\n"
    ),
    "apply.html": "{% apply linkify %}Visit http://example.com/?a=1&b=2 now{% end %}",
    "raw.html": "{% raw '<b>' + title + '</b>' %} {{ title }}",
    "autoescape.html": "{% autoescape None %}{{ title }}",
    "ws.txt": (
        "{% whitespace oneline %}a\n   b\n{% whitespace single %}c   \n\n  d"
        "{% whitespace all %}  e \n"
    ),
    "escapes.html": "{{! not an expression }} {%! not a tag %} {#! not a comment #} {{{ 1 + 1 }}}",
    "control.html": (
        "{% for i in range(8) %}{% if i % 2 %}{% continue %}{% elif i > 5 %}{% break %}"
        "{% else %}<{{ i }}>{% end %}{% else %}never{% end %}\n"
        "{% set n = 3 %}{% while n %}{{ n }}{% set n -= 1 %}{% end %}\n"
        "{% try %}{{ 1 / 0 }}{% except ZeroDivisionError as e %}{{ type(e).__name__ }}"
        "{% else %}x{% finally %}.{% end %}\n{% import math %}{{ math.floor(2.7) }}"
        "{% from html import escape as h %}{{ h('<') }}\n"
        "{% comment this vanishes %}{# and this #}done\n"
    ),
    "names.html": (
        "{{ xhtml_escape('<\"\\'>') }}|{{ url_escape('a b/&') }}|{% raw json_encode([1, '</']) %}|"
        "{{ squeeze('  a   b ') }}|{% raw linkify('x www.example.com y') %}|"
        "{{ datetime.datetime(2020, 5, 17, 3, 4) }}"
    ),
    "layout/base.html": "<h1>{% block h %}{% end %}</h1>{% include 'part.html' %}",
    "layout/part.html": "<p>{% block p %}part {{ title }}{% end %}</p>",
    "layout/page.html": (
        "{% extends 'base.html' %}{% block h %}{{ title }}{% end %}{% block p %}P{% end %}"
    ),
    "nested/base.html": (
        "{% block outer %}<o>{% block inner %}base inner{% end %}</o>{% end %}"
        "{% set shared = 'base' %}{% block tail %}{{ shared }}{% end %}"
    ),
    "nested/child.html": (
        "{% extends 'base.html' %}{% block inner %}{% set shared = 'child' %}child {{ shared }}"
        "{% end %}{% block tail %}[{% include '../layout/part.html' %}]{% end %}"
    ),
    "nested/grandchild.html": (
        "{% extends 'child.html' %}{% block outer %}{% apply upper %}{% block inner %}gc"
        "{% end %}{% end %}{% end %}"
    ),
    "values.txt": "{{ b }} {{ n }} {{ f }} {{ none }} {{ u }} {% raw b %}",
    "module.html": "{% module Box(title) %}|{{ _tt_modules.Box('x') }}",
    "apply_nested.html": (
        "{% for i in range(2) %}{% apply upper %}{{ i }}:{% raw title %}"
        "{% apply lower %}ABC{% end %}{% end %}{% end %}"
    ),
}


class _Student:
    def __init__(self, name: str) -> None:
        self.name = name


class _Modules:
    def Box(self, value: str) -> str:  # noqa: N802 - a module name
        return f"<div>{value}</div>"


NAMESPACE: dict[str, Any] = {
    "students": [_Student("Ann <a>"), _Student("Bob & 'co'")],
    "title": 'A "title" <&>',
    "items": ["one", "<two>", "thrée"],
    "b": b"<bytes>",
    "n": 42,
    "f": 1.5,
    "none": None,
    "u": "ünï<",
    "_tt_modules": _Modules(),
    "upper": lambda b: b.upper(),
    "lower": lambda b: b.lower(),
}


@pytest.mark.parametrize("name", sorted(DOC_TEMPLATES))
@pytest.mark.parametrize("whitespace", [None, "all", "single", "oneline"])
def test_squall_renders_like_tornado(name: str, whitespace: str | None) -> None:
    ours = squall.template.DictLoader(DOC_TEMPLATES, whitespace=whitespace).load(name)
    theirs = tornado.template.DictLoader(DOC_TEMPLATES, whitespace=whitespace).load(name)
    assert ours.generate(**NAMESPACE) == theirs.generate(**NAMESPACE)


@pytest.mark.parametrize("autoescape", [None, "xhtml_escape", "url_escape"])
def test_loader_autoescape_like_tornado(autoescape: str | None) -> None:
    ours = squall.template.DictLoader(DOC_TEMPLATES, autoescape=autoescape).load("template.html")
    theirs = tornado.template.DictLoader(DOC_TEMPLATES, autoescape=autoescape).load("template.html")
    assert ours.generate(**NAMESPACE) == theirs.generate(**NAMESPACE)


def test_standalone_template_like_tornado() -> None:
    source = "{% for s in students %}{{ s.name }}\n   {% end %}"
    for name in ("<string>", "x.html", "x.js", "x.txt"):
        ours = squall.template.Template(source, name=name).generate(**NAMESPACE)
        theirs = tornado.template.Template(source, name=name).generate(**NAMESPACE)
        assert ours == theirs


def test_file_loader_like_tornado(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, source in DOC_TEMPLATES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    ours = squall.template.Loader(str(tmp_path))
    theirs = tornado.template.Loader(str(tmp_path))
    for name in ("bold.html", "layout/page.html", "control.html"):
        assert ours.load(name).generate(**NAMESPACE) == theirs.load(name).generate(**NAMESPACE)


def test_datetime_and_escape_names_are_the_same_objects_as_documented() -> None:
    out = squall.template.Template("{{ datetime.date.today() }}").generate()
    assert out == str(datetime.date.today()).encode()
