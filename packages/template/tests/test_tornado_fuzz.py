"""Property tests of the Tornado-syntax compiler.

- Any text either compiles or raises ``ParseError`` (never another exception).
- Templates assembled from the language's pieces behave as Tornado's: both refuse them, or
  both render the same bytes (or both fail while rendering).
"""

from __future__ import annotations

import tornado.template
from hypothesis import given, settings
from hypothesis import strategies as st

import squall.template

PIECES = [
    "a",
    " ",
    "\n",
    "  \n\t ",
    "<pre> x  y </pre>",
    "{",
    "}",
    "{{",
    "}}",
    "%}",
    "#}",
    "{{ x }}",
    "{{ x + 1 }}",
    "{{! x }}",
    "{%! if %}",
    "{#! c #}",
    "{# note #}",
    "{% raw '<' %}",
    "{% if x %}",
    "{% elif x > 1 %}",
    "{% else %}",
    "{% end %}",
    "{% for i in range(x) %}",
    "{{ i }}",
    "{% while False %}",
    "{% break %}",
    "{% continue %}",
    "{% try %}",
    "{% except Exception %}",
    "{% finally %}",
    "{% set x = x + 1 %}",
    "{% apply f %}",
    "{% whitespace oneline %}",
    "{% whitespace single %}",
    "{% autoescape None %}",
    "{% comment c %}",
    "{% module M() %}",
    "{{{ x }}}",
    "{% %}",
    "{% bogus %}",
    "é",
    "'&\"<>",
]


class _Modules:
    def M(self) -> str:  # noqa: N802 - a module name
        return "<m>"


NAMES = {"x": 2, "f": lambda b: b.upper(), "_tt_modules": _Modules()}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}%#!ab \n'\"")), max_size=40))
def test_any_text_compiles_or_raises_parse_error(source: str) -> None:
    try:
        squall.template.Template(source)
    except squall.template.ParseError:
        pass


def _outcome(make: object, source: str, name: str) -> tuple[str, object]:
    try:
        template = make(source, name=name)  # type: ignore[operator]
    except Exception:
        return ("refused", None)
    try:
        return ("rendered", template.generate(**NAMES))
    except Exception as exc:
        return ("failed", type(exc).__name__)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    st.sampled_from(["t.html", "t.txt"]),
)
def test_pieces_behave_as_in_tornado(source: str, name: str) -> None:
    ours = _outcome(squall.template.Template, source, name)
    theirs = _outcome(tornado.template.Template, source, name)
    assert ours == theirs, source
