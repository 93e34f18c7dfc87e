"""The Tornado-syntax compiler on its own: every tag, escapes, whitespace, errors."""

from __future__ import annotations

import traceback

import pytest

from squall.template import DictLoader, ParseError, Template, filter_whitespace


def render(source: str, name: str = "t.txt", **kwargs: object) -> bytes:
    return Template(source, name=name).generate(**kwargs)


def test_expression_is_escaped_with_xhtml_escape_by_default() -> None:
    assert render("{{ v }}", v="<a href='x'>&\"") == b"&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;"


def test_expression_is_any_python_expression() -> None:
    assert render("{{ ', '.join(str(i * 2) for i in range(3)) }}") == b"0, 2, 4"


def test_non_string_values_are_converted_with_str() -> None:
    assert render("{{ n }}|{{ b }}|{{ none }}", n=1.5, b=b"<x>", none=None) == b"1.5|&lt;x&gt;|None"


def test_raw_is_not_escaped() -> None:
    assert render("{% raw v %}", v="<b>") == b"<b>"


def test_autoescape_none_argument_turns_escaping_off() -> None:
    assert Template("{{ v }}", autoescape=None).generate(v="<b>") == b"<b>"


def test_autoescape_tag_applies_to_the_whole_file() -> None:
    assert render("{{ v }}{% autoescape None %}{{ v }}", v="<") == b"<<"


def test_autoescape_tag_names_a_function_of_the_namespace() -> None:
    out = render("{% autoescape shout %}{{ v }}", v="hi", shout=lambda b: b.upper())
    assert out == b"HI"


def test_escaping_function_receives_utf8_bytes() -> None:
    seen: list[object] = []
    render("{% autoescape spy %}{{ v }}", v="é", spy=lambda b: seen.append(b) or b)
    assert seen == ["é".encode()]


def test_if_elif_else() -> None:
    source = "{% if n > 1 %}big{% elif n == 1 %}one{% else %}none{% end %}"
    assert [render(source, n=n) for n in (2, 1, 0)] == [b"big", b"one", b"none"]


def test_for_with_break_continue_and_else() -> None:
    source = (
        "{% for i in range(6) %}{% if i == 1 %}{% continue %}{% end %}"
        "{% if i == 4 %}{% break %}{% end %}{{ i }}{% else %}done{% end %}"
    )
    assert render(source) == b"023"


def test_while() -> None:
    assert render("{% set i = 0 %}{% while i < 3 %}{{ i }}{% set i += 1 %}{% end %}") == b"012"


def test_try_except_else_finally() -> None:
    source = "{% try %}{{ f() }}{% except ValueError %}bad{% else %}ok{% finally %}!{% end %}"

    def fail() -> str:
        raise ValueError

    assert render(source, f=fail) == b"bad!"
    assert render(source, f=lambda: "x") == b"xok!"


def test_set_import_and_from() -> None:
    source = (
        "{% import math %}{% from os import path %}{% set x = math.floor(2.5) %}"
        "{{ x }}{{ path.sep }}"
    )
    assert render(source) == b"2/"


def test_comment_tag_and_comment_markup_produce_nothing() -> None:
    assert render("a{% comment anything %}b{# {{ x }} #}c") == b"abc"


def test_bang_escapes_output_the_braces() -> None:
    assert render("{{! x }} {%! y %} {#! z #}") == b"{{ x }} {% y %} {# z #}"


def test_innermost_braces_open_the_markup() -> None:
    assert render("{{{ 1 }}}") == b"{1}"


def test_lone_braces_are_text() -> None:
    assert render("a { b } {") == b"a { b } {"


def test_apply_passes_the_rendered_body_to_the_function() -> None:
    assert render("{% apply upper %}a{{ 'b' }}{% end %}", upper=lambda b: b.upper()) == b"AB"


def test_module_calls_through_the_modules_namespace() -> None:
    class Modules:
        def Box(self, v: str) -> str:  # noqa: N802 - a module name
            return f"<box>{v}</box>"

    assert render("{% module Box('<x>') %}", _tt_modules=Modules()) == b"<box><x></box>"


def test_base_namespace_names() -> None:
    source = (
        "{{ url_escape('a b') }}|{% raw json_encode({'a': '</'}) %}|{{ squeeze(' a  b ') }}|"
        "{{ datetime.date(2020, 1, 2) }}"
    )
    assert render(source) == b'a+b|{"a": "<\\/"}|a b|2020-01-02'


def test_output_is_utf8_bytes() -> None:
    assert render("é{{ v }}", v="ü") == "éü".encode()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("all", "a  \n\n  b"), ("single", "a\nb"), ("oneline", "a b")],
)
def test_whitespace_modes(mode: str, expected: str) -> None:
    assert Template("a  \n\n  b", whitespace=mode).generate() == expected.encode()
    assert filter_whitespace(mode, "a  \n\n  b") == expected


def test_whitespace_default_depends_on_the_file_name() -> None:
    assert Template("a   b\n\n c", name="x.html").generate() == b"a b\nc"
    assert Template("a   b\n\n c", name="x.js").generate() == b"a b\nc"
    assert Template("a   b\n\n c", name="x.txt").generate() == b"a   b\n\n c"


def test_whitespace_tag_changes_the_mode_for_the_text_after_it() -> None:
    assert render("a  b{% whitespace oneline %}c \n d") == b"a  bc d"


def test_pre_text_keeps_its_whitespace() -> None:
    assert Template("<pre>a   b</pre>", name="x.html").generate() == b"<pre>a   b</pre>"


def test_invalid_whitespace_mode_is_refused() -> None:
    with pytest.raises(ParseError, match=r"whitespace mode 'wide'.*at t.txt:2"):
        render("\n{% whitespace wide %}")
    with pytest.raises(ValueError, match="whitespace mode"):
        Template("x", whitespace="wide")


def test_extends_and_block_override() -> None:
    loader = DictLoader(
        {
            "base.txt": "<{% block a %}A{% end %}|{% block b %}B{% end %}>",
            "mid.txt": "{% extends 'base.txt' %}{% block a %}mid{% end %}",
            "leaf.txt": "ignored{% extends 'mid.txt' %}{% block b %}leaf {{ v }}{% end %}",
        }
    )
    assert loader.load("leaf.txt").generate(v=1) == b"<mid|leaf 1>"


def test_include_shares_names_and_resolves_relative_paths() -> None:
    loader = DictLoader(
        {
            "dir/page.txt": "{% set x = 5 %}[{% include 'part.txt' %}]",
            "dir/part.txt": "x={{ x }}",
        }
    )
    assert loader.load("dir/page.txt").generate() == b"[x=5]"


def test_blocks_inside_an_included_file_can_be_overridden() -> None:
    loader = DictLoader(
        {
            "base.txt": "{% include 'inc.txt' %}",
            "inc.txt": "({% block x %}inc{% end %})",
            "child.txt": "{% extends 'base.txt' %}{% block x %}child{% end %}",
        }
    )
    assert loader.load("child.txt").generate() == b"(child)"


def test_included_template_keeps_its_own_autoescape() -> None:
    loader = DictLoader(
        {"a.txt": "{{ v }}{% include 'b.txt' %}", "b.txt": "{% autoescape None %}{{ v }}"}
    )
    assert loader.load("a.txt").generate(v="<") == b"&lt;<"


def test_loader_compiles_once_and_reset_forgets() -> None:
    sources = {"a.txt": "one"}
    loader = DictLoader(sources)
    first = loader.load("a.txt")
    sources["a.txt"] = "two"
    assert loader.load("a.txt") is first
    loader.reset()
    assert loader.load("a.txt").generate() == b"two"


def test_loader_namespace_and_autoescape() -> None:
    loader = DictLoader(
        {"a.txt": "{{ greet }} {{ '<' }}"}, namespace={"greet": "hi"}, autoescape=None
    )
    assert loader.load("a.txt").generate() == b"hi <"


def test_file_loader_reads_folders_in_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from squall.template import Loader, TemplateNotFoundError

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "page.html").write_text("{% include 'sub/part.html' %}")
    (tmp_path / "two" / "sub").mkdir()
    (tmp_path / "two" / "sub" / "part.html").write_text("{{ v }}")
    loader = Loader([str(tmp_path / "one"), str(tmp_path / "two")])
    assert loader.load("page.html").generate(v="<") == b"&lt;"
    with pytest.raises(TemplateNotFoundError, match="missing.html"):
        loader.load("missing.html")


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        ("a\n{{ x", "never closed with }}", 2),
        ("\n\n{% if x", "never closed with %}", 3),
        ("{# x", "never closed with #}", 1),
        ("\n{{  }}", "empty expression", 2),
        ("{% %}", "empty tag", 1),
        ("\n{% if x %}\n", "opened at line 2 has no {% end %}", 2),
        ("\n\n{% end %}", "{% end %} without an open block", 3),
        ("{% else %}", "outside a if/for/while/try block", 1),
        ("{% for x in y %}{% elif z %}{% end %}", "cannot continue a for block", 1),
        ("{% try %}{% except %}{% end %}\n{% break %}", "outside a for/while loop", 2),
        (
            "{% for x in y %}{% apply f %}{% break %}{% end %}{% end %}",
            "outside a for/while loop",
            1,
        ),
        ("{% frobnicate %}", "unknown tag {% frobnicate %}", 1),
        ("{% extends %}", "{% extends %} needs a template name", 1),
        ("{% include '' %}", "{% include %} needs a template name", 1),
        ("{% set %}", "{% set %} needs a statement", 1),
        ("{% block %}{% end %}", "{% block %} needs a name", 1),
        ("{% apply %}{% end %}", "{% apply %} needs a function", 1),
        ("\n\n\n{{ 1 + }}", "invalid Python in the template", 4),
        ("{% if x y %}{% end %}", "invalid Python in the template", 1),
    ],
)
def test_syntax_errors_name_file_and_line(source: str, message: str, line: int) -> None:
    with pytest.raises(ParseError) as info:
        Template(source, name="page.html")
    assert message in info.value.message
    assert (info.value.filename, info.value.lineno) == ("page.html", line)
    assert str(info.value).endswith(f" at page.html:{line}")


def test_python_error_in_an_included_file_names_that_file() -> None:
    loader = DictLoader({"a.txt": "{% include 'b.txt' %}", "b.txt": "\n{{ ) }}"})
    with pytest.raises(ParseError) as info:
        loader.load("a.txt")
    assert (info.value.filename, info.value.lineno) == ("b.txt", 2)


def test_extends_without_a_loader_is_an_error() -> None:
    with pytest.raises(ParseError, match="needs a template loader"):
        Template("{% extends 'x.html' %}")


def test_runtime_error_notes_template_file_and_line() -> None:
    loader = DictLoader(
        {"page.txt": "line 1\n{% include 'part.txt' %}", "part.txt": "ok\n\n{{ 1 // zero }}"}
    )
    with pytest.raises(ZeroDivisionError) as info:
        loader.load("page.txt").generate(zero=0)
    notes = getattr(info.value, "__notes__", [])
    assert notes == ['in template "part.txt", line 3 (via page.txt:2)']
    formatted = "".join(traceback.format_exception(info.value))
    assert "# part.txt:3 (via page.txt:2)" in formatted


def test_undefined_name_is_a_name_error_with_the_line() -> None:
    with pytest.raises(NameError) as info:
        Template("a\nb {{ nope }}", name="p.html").generate()
    assert info.value.__notes__ == ['in template "p.html", line 2']


def test_caller_names_win_over_loader_namespace_and_base() -> None:
    loader = DictLoader({"a.txt": "{{ escape }}|{{ v }}"}, namespace={"v": 1})
    assert loader.load("a.txt").generate(escape="e", v=2) == b"e|2"


def test_overriding_the_autoescape_function_by_keyword_is_honoured() -> None:
    assert render("{{ v }}", v="a", xhtml_escape=lambda b: b"[" + b + b"]") == b"[a]"


def test_generated_code_is_available() -> None:
    template = Template("{{ x }}", name="code.html")
    assert "# code.html:1" in template.code
