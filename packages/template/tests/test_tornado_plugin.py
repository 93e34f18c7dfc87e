"""Tornado-syntax templates, UI modules and translations through RequestHandler.render."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.template
import tornado.web

import squall.template
import squall.web
from squall.template import DictLoader, Loader, ParseError, UIModule
from squall.web import ConfigurationError, RequestHandler
from squall.web.testing import LiveServer, wait_until

Serve = Callable[..., LiveServer]


def get(server: LiveServer, path: str = "/", **kwargs: Any) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        return client.get(path, **kwargs)


def write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        path = folder / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


class _TornadoBox(tornado.web.UIModule):  # type: ignore[misc]
    def render(self) -> str:
        return ""


class Page(RequestHandler):
    def get(self) -> None:
        self.render("page.html", v=self.get_query_argument("v", "<v>"))


class Strings(RequestHandler):
    """Writes what render_string gives or raised (its type and message)."""

    def get(self) -> None:
        try:
            self.write(self.render_string("page.html", v="<v>"))
        except Exception as exc:
            self.write(f"{type(exc).__name__}: {exc}")


def app(*rules: Any, **settings: Any) -> squall.web.Application:
    return squall.web.Application(list(rules) or [(r"/", Page)], **settings)


# -- choosing the engine --------------------------------------------------------------


def test_template_syntax_tornado_renders_tornado_templates(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "{% if v %}{{ v }}{% end %}"})
    server = squall_live_server(app(template_path=tmp_path, template_syntax="tornado"))
    assert get(server).text == "&lt;v&gt;"


def test_jinja2_stays_the_default(tmp_path: Path, squall_live_server: Serve) -> None:
    write(tmp_path, **{"page.html": "{% if v %}{{ v }}{% endif %}"})
    server = squall_live_server(app(template_path=tmp_path))
    assert get(server).text == "&lt;v&gt;"


def test_jinja2_meeting_a_tornado_template_names_the_setting(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "{% if v %}{{ v }}{% end %}"})
    server = squall_live_server(app((r"/", Strings), template_path=tmp_path))
    text = get(server).text
    assert text.startswith("TemplateSyntaxError")
    assert "Tornado template" in text
    assert "template_syntax='tornado'" in text


@pytest.mark.parametrize("call", ["escape(v)", "json_encode({'k': v})", "squeeze(v)"])
def test_jinja2_missing_a_tornado_template_name_names_the_setting(
    tmp_path: Path, squall_live_server: Serve, call: str
) -> None:
    # No {% end %} to give it away: only {{ escape(...) }}, which Tornado's namespace has.
    write(tmp_path, **{"page.html": "<title>{{ " + call + " }}</title>"})
    server = squall_live_server(app((r"/", Strings), template_path=tmp_path))
    text = get(server).text
    name = call.split("(")[0]
    assert text.startswith(f"UndefinedError: '{name}' is undefined (")
    assert "template_syntax='tornado'" in text


def test_jinja2_missing_an_ordinary_name_keeps_its_message(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "{{ nothing_by_that_name() }}"})
    server = squall_live_server(app((r"/", Strings), template_path=tmp_path))
    assert get(server).text == "UndefinedError: 'nothing_by_that_name' is undefined"


def test_template_loader_setting_selects_tornado_syntax(squall_live_server: Serve) -> None:
    loader = DictLoader({"page.html": "[{{ v }}]"}, autoescape=None)
    server = squall_live_server(app(template_loader=loader))
    assert get(server).text == "[<v>]"


def test_a_handler_with_create_template_loader_uses_tornado_syntax(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    seen: list[str] = []

    class Own(Page):
        def create_template_loader(self, template_path: str) -> DictLoader:
            seen.append(template_path)
            return DictLoader({"page.html": "{% raw v %}!"})

    write(tmp_path, **{"page.html": "{{ v }} (jinja2)"})
    server = squall_live_server(app((r"/own", Own), (r"/", Page), template_path=tmp_path))
    assert get(server, "/own").text == "<v>!"
    assert get(server, "/own").text == "<v>!"
    assert get(server).text == "&lt;v&gt; (jinja2)"
    assert seen == [str(tmp_path)]  # one loader per folder


@pytest.mark.parametrize("autoescape", ["xhtml_escape", True])
def test_an_autoescape_setting_that_agrees_with_the_template_loader_is_accepted(
    autoescape: Any,
) -> None:
    # Tornado apps often spell out the default beside their loader.
    app(template_loader=DictLoader({}), autoescape=autoescape)
    app(template_loader=DictLoader({}, autoescape=None), autoescape=None)


def test_an_autoescape_setting_beside_a_loader_that_keeps_no_escaping_of_its_own_is_refused() -> (
    None
):
    class Quiet(DictLoader):
        def __init__(self) -> None:  # skips BaseLoader.__init__: no autoescape attribute
            self.templates = {}

    with pytest.raises(ConfigurationError, match="Loader\\(..., autoescape"):
        app(template_loader=Quiet(), autoescape=None)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"template_syntax": "mustache"}, "template_syntax"),
        ({"template_loader": "templates/"}, "template_loader"),
        ({"template_loader": tornado.template.DictLoader({})}, "it is a Tornado loader"),
        ({"template_whitespace": "tight"}, "template_whitespace"),
        ({"ui_modules": 3}, "ui_modules"),
        ({"ui_methods": [1]}, "ui_methods"),
        ({"autoescape": "not a name"}, "autoescape"),
        ({"template_whitespace": "single"}, "set template_syntax='tornado'"),
        ({"template_syntax": "jinja2", "template_loader": DictLoader({})}, "template_syntax"),
        ({"autoescape": "url_escape"}, "only Tornado-syntax templates"),
        ({"template_syntax": "tornado", "template_filters": {"f": str}}, "Jinja2 templates"),
        ({"template_syntax": "tornado", "autoescape": lambda n: True}, "Jinja2 only"),
        ({"template_loader": DictLoader({}), "template_whitespace": "all"}, "loader's own"),
        ({"template_loader": DictLoader({}), "autoescape": None}, "Loader(..., autoescape"),
        ({"ui_modules": {"Box": len}}, "ui_modules: Box=<built-in function len> is not a UIModule"),
        ({"ui_modules": [{"T": _TornadoBox}]}, "T subclasses tornado.web.UIModule"),
        ({"ui_methods": {"f": 3}}, "ui_methods: f=3 is not a function"),
    ],
)
def test_settings_that_cannot_be_honoured_are_refused(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises((ConfigurationError, TypeError, ValueError)) as info:
        app(**settings)
    assert message in str(info.value)


# -- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("autoescape", "expected"),
    [
        (True, "&lt;v&gt;"),
        ("xhtml_escape", "&lt;v&gt;"),
        (None, "<v>"),
        (False, "<v>"),
        ("url_escape", "%3Cv%3E"),
    ],
)
def test_autoescape_setting(
    autoescape: Any, expected: str, tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "{{ v }}"})
    server = squall_live_server(
        app(template_path=tmp_path, template_syntax="tornado", autoescape=autoescape)
    )
    assert get(server).text == expected


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(None, "a b\nc"), ("all", "a   b\n\n  c"), ("oneline", "a b c")],
)
def test_template_whitespace_setting(
    mode: str | None, expected: str, tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "a   b\n\n  c"})
    settings: dict[str, Any] = {"template_path": tmp_path, "template_syntax": "tornado"}
    if mode is not None:
        settings["template_whitespace"] = mode
    assert get(squall_live_server(app(**settings))).text == expected


def test_template_globals_are_seen_under_the_handler_names(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "{{ site }} {{ v }}"})
    server = squall_live_server(
        app(
            template_path=tmp_path,
            template_syntax="tornado",
            template_globals={"site": "S", "v": "global"},
        )
    )
    assert get(server).text == "S &lt;v&gt;"


@pytest.mark.parametrize(
    ("settings", "second"),
    [
        ({}, "one"),
        ({"compiled_template_cache": False}, "two"),
        ({"debug": True, "autoreload": False}, "two"),
    ],
)
def test_compiled_template_cache_and_debug(
    settings: dict[str, Any], second: str, tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "{% include 'part.html' %}", "part.html": "one"})
    server = squall_live_server(app(template_path=tmp_path, template_syntax="tornado", **settings))
    assert get(server).text == "one"
    write(tmp_path, **{"part.html": "two"})
    assert get(server).text == second


def test_template_folder_defaults_to_the_handler_module_and_get_template_path(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "from get_template_path"})

    class Custom(Page):
        def get_template_path(self) -> str:
            return str(tmp_path)

    server = squall_live_server(app((r"/", Custom), template_syntax="tornado"))
    assert get(server).text == "from get_template_path"


# -- namespace ------------------------------------------------------------------------


def test_namespace_tornado_gives_a_template(tmp_path: Path, squall_live_server: Serve) -> None:
    write(
        tmp_path,
        **{
            "page.html": (
                "{{ handler.__class__.__name__ }}|{{ request.path }}|{{ current_user }}|"
                "{{ locale.code }}|{{ _('Sunday') }}|{{ pgettext('day', 'Sunday') }}|"
                "{{ reverse_url('named') }}|{{ escape('<') }}|{{ xhtml_escape('&') }}|"
                "{{ url_escape('a b') }}|{% raw json_encode({'a': 1}) %}|{{ squeeze('a  b') }}|"
                "{% raw linkify('http://x.org') %}|{{ datetime.date(2001, 2, 3) }}|"
                "{{ settings['template_syntax'] }}|{{ mine }}|{{ v }}"
            )
        },
    )

    class Named(Page):
        def get_current_user(self) -> str:
            return "ann"

        def get_template_namespace(self) -> dict[str, Any]:
            ns = super().get_template_namespace()
            ns["mine"] = "added"
            ns["v"] = "overridden by render()"
            return ns

    server = squall_live_server(
        app(
            squall.web.url(r"/", Named, name="named"),
            template_path=tmp_path,
            template_syntax="tornado",
        )
    )
    assert get(server).text == (
        'Named|/|ann|en_US|Sunday|Sunday|/|&amp;lt;|&amp;amp;|a+b|{"a": 1}|a b|'
        '<a href="http://x.org">http://x.org</a>|2001-02-03|tornado|added|&lt;v&gt;'
    )


def test_xsrf_form_html_in_a_tornado_template(tmp_path: Path, squall_live_server: Serve) -> None:
    write(tmp_path, **{"page.html": "{% raw xsrf_form_html() %}@@{% module xsrf_form_html() %}"})
    server = squall_live_server(
        app(
            template_path=tmp_path,
            template_syntax="tornado",
            xsrf_cookies=True,
            cookie_secret="s" * 32,
        )
    )
    first, second = get(server).text.split("@@")
    assert first.startswith('<input type="hidden" name="_xsrf" value="')
    assert first == second


# -- errors ---------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(tmp_path: Path, squall_live_server: Serve) -> None:
    write(tmp_path, **{"page.html": "ok\n{% if v %}\n"})
    server = squall_live_server(
        app((r"/", Strings), template_path=tmp_path, template_syntax="tornado")
    )
    assert get(server).text == (
        "ParseError: {% if %} opened at line 2 has no {% end %} at page.html:2"
    )


def test_runtime_error_is_a_500_whose_log_names_the_template_line(
    tmp_path: Path, squall_live_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="squall.application")
    write(tmp_path, **{"page.html": "a\n{% include 'part.html' %}", "part.html": "\n{{ 1 // 0 }}"})
    server = squall_live_server(app(template_path=tmp_path, template_syntax="tornado"))
    assert get(server).status_code == 500
    wait_until(lambda: "ZeroDivisionError" in caplog.text)
    assert 'in template "part.html", line 2 (via page.html:2)' in caplog.text


def test_missing_template_names_the_folder(tmp_path: Path, squall_live_server: Serve) -> None:
    server = squall_live_server(
        app((r"/", Strings), template_path=tmp_path, template_syntax="tornado")
    )
    text = get(server).text
    assert text.startswith("TemplateNotFoundError")
    assert "page.html" in text and str(tmp_path) in text


def test_an_app_of_tornado_templates_never_imports_jinja2(tmp_path: Path) -> None:
    write(tmp_path, **{"page.html": "{% for i in range(2) %}{{ i }}{% end %}"})
    script = f"""
import sys, asyncio
import squall.web, httpx
from squall.web.testing import LiveServer
class Page(squall.web.RequestHandler):
    def get(self):
        self.render("page.html")
app = squall.web.Application([(r"/", Page)], template_path={str(tmp_path)!r},
                             template_syntax="tornado")
with LiveServer(app).start() as server:
    print(httpx.get(server.url + "/").text, "jinja2" in sys.modules)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.stdout == "01 False\n", proc.stderr


# -- UI modules -----------------------------------------------------------------------


class Box(UIModule):
    def render(self, text: str) -> str:
        return f"<box>{text}</box>"

    def css_files(self) -> list[str]:
        return ["box.css"]


class Plain(UIModule):
    def render(self, text: str) -> str:
        return f"<box>{text}</box>"


class Counter(UIModule):
    """One instance per request: counts its renders."""

    def __init__(self, handler: RequestHandler) -> None:
        super().__init__(handler)
        self.count = 0

    def render(self) -> str:
        self.count += 1
        return str(self.count)


def test_ui_modules_from_a_module_a_dict_and_a_list(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    module = types.ModuleType("my_modules")
    module.Box = Plain  # type: ignore[attr-defined]
    module.helper = len  # type: ignore[attr-defined]  # not a UIModule: skipped
    write(
        tmp_path,
        **{
            "page.html": "{% module Box(v) %}{% module Counter() %}"
            "{% module Counter() %}{{ modules.Counter() }}"
        },
    )
    for setting in (module, [module, {"Counter": Counter}]):
        settings = (
            {"ui_modules": setting}
            if isinstance(setting, list)
            else {"ui_modules": {"Box": Plain, "Counter": Counter}}
        )
        server = squall_live_server(
            app(template_path=tmp_path, template_syntax="tornado", **settings)
        )
        assert get(server).text == "<box><v></box>123"
        assert get(server).text == "<box><v></box>123"  # a fresh instance per request


def test_ui_methods_from_a_module_and_a_dict(tmp_path: Path, squall_live_server: Serve) -> None:
    module = types.ModuleType("my_methods")
    module.path_of = lambda handler: handler.request.path  # type: ignore[attr-defined]
    module._private = lambda handler: "no"  # type: ignore[attr-defined]
    module.Capital = lambda handler: "no"  # type: ignore[attr-defined]
    write(
        tmp_path,
        **{
            "page.html": "{{ path_of() }}|{{ twice(v) }}|"
            "{{ '_private' in globals() }}{{ 'Capital' in globals() }}"
        },
    )
    server = squall_live_server(
        app(
            template_path=tmp_path,
            template_syntax="tornado",
            ui_methods=[module, {"twice": lambda handler, s: s * 2}],
        )
    )
    assert get(server).text == "/|&lt;v&gt;&lt;v&gt;|FalseFalse"


def test_ui_modules_in_jinja2_templates_are_not_escaped_and_assemble_the_page(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(
        tmp_path,
        **{
            "page.html": "<html><head></head><body>{{ modules.Box(v) }}"
            "{{ _('Sunday') }}</body></html>"
        },
    )

    class WithStatic(Page):
        def static_url(self, path: str, include_host: bool | None = None, **kw: Any) -> str:
            return "/static/" + path

    server = squall_live_server(
        app((r"/", WithStatic), template_path=tmp_path, ui_modules={"Box": Box})
    )
    assert get(server).text == (
        '<html><head><link href="/static/box.css" type="text/css" rel="stylesheet"/>\n'
        "</head><body><box><v></box>Sunday</body></html>"
    )


def test_render_string_does_not_assemble_but_render_does(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, **{"page.html": "<head></head>{% module Box('x') %}"})

    class Both(RequestHandler):
        def static_url(self, path: str, include_host: bool | None = None, **kw: Any) -> str:
            return "/s/" + path

        def get(self) -> None:
            alone = self.render_string("page.html")
            self.render("page.html", ignored=alone)

        def render_linked_css(self, files: list[str]) -> str:
            return "<css " + " ".join(files) + ">"

    server = squall_live_server(
        app(
            (r"/", Both), template_path=tmp_path, template_syntax="tornado", ui_modules={"Box": Box}
        )
    )
    assert get(server).text == "<head><css box.css>\n</head><box>x</box>"


@pytest.mark.parametrize("syntax", ["tornado", "jinja2"])
def test_render_goes_through_an_overridden_render_string(
    tmp_path: Path, squall_live_server: Serve, syntax: str
) -> None:
    write(tmp_path, **{"page.html": "{{ who }}|{{ extra }}"})

    class Overrides(RequestHandler):
        def render_string(self, template_name: str, **kwargs: Any) -> bytes:
            kwargs["extra"] = "added"
            return super().render_string(template_name, **kwargs).upper()

        def get(self) -> None:
            self.render("page.html", who="ann")

    server = squall_live_server(
        app((r"/", Overrides), template_path=tmp_path, template_syntax=syntax)
    )
    assert get(server).text == "ANN|ADDED"


def test_template_module_resources_must_not_change(
    tmp_path: Path, squall_live_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="squall.application")
    write(
        tmp_path,
        **{
            "page.html": "{% module Template('p.html', n=1) %}{% module Template('p.html', n=2) %}",
            "p.html": "{{ set_resources(embedded_css=str(n)) }}",
        },
    )
    server = squall_live_server(app(template_path=tmp_path, template_syntax="tornado"))
    assert get(server).status_code == 500
    wait_until(lambda: "different resources" in caplog.text)


def test_handler_ui_and_module_attributes(tmp_path: Path, squall_live_server: Serve) -> None:
    class Inspect(UIModule):
        def render(self) -> str:
            return "|".join(
                [
                    str(self.ui is self.handler.ui),
                    self.request.path,
                    str(self.current_user),
                    self.locale.code,
                    self.ui.hello(),
                    str(self.ui.modules.Box("m")),
                ]
            )

    class User(Page):
        def get_current_user(self) -> str:
            return "bob"

    write(tmp_path, **{"page.html": "{% module Inspect() %}"})
    server = squall_live_server(
        app(
            (r"/", User),
            template_path=tmp_path,
            template_syntax="tornado",
            ui_modules={"Inspect": Inspect, "Box": Plain},
            ui_methods={"hello": lambda handler: "hi"},
        )
    )
    assert get(server).text == "True|/|bob|en_US|hi|<box>m</box>"


def test_handler_ui_is_there_before_any_render(squall_live_server: Serve) -> None:
    class Direct(RequestHandler):
        def get(self) -> None:
            ui = self.ui
            self.write(f"{ui.hello()}|{ui['hello']()}|{ui.modules.Box('m')}|{ui is self.ui}")

    server = squall_live_server(
        app(
            (r"/", Direct),
            ui_modules={"Box": Plain},
            ui_methods={"hello": lambda handler: "hi " + handler.request.path},
        )
    )
    assert get(server).text == "hi /|hi /|<box>m</box>|True"


def test_a_page_without_the_head_its_modules_need_is_a_clear_error(
    tmp_path: Path, squall_live_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="squall.application")

    class RootBox(Plain):
        # An absolute path: no static_url (squall-static is not installed in this
        # package's own test environment).
        def css_files(self) -> list[str]:
            return ["/box.css"]

    write(tmp_path, **{"page.html": "<body>{% module Box('x') %}</body>"})
    server = squall_live_server(
        app(template_path=tmp_path, template_syntax="tornado", ui_modules={"Box": RootBox})
    )
    assert get(server).status_code == 500
    wait_until(lambda: "but the page has no </head>" in caplog.text)


def test_standalone_api_is_exported() -> None:
    assert squall.template.Loader is Loader
    assert issubclass(ParseError, Exception)
    assert squall.template.TemplateModule.__name__ == "TemplateModule"


def test_builtin_modules_in_jinja2_templates(tmp_path: Path, squall_live_server: Serve) -> None:
    write(
        tmp_path,
        **{
            "page.html": (
                "<html><head></head><body>{{ modules.Template('card.html', title=v) }}"
                "{{ modules.linkify('see http://a.example/?x=1&y=2') }}</body></html>"
            ),
            "card.html": (
                "{{ set_resources(embedded_css='.card{}', javascript_files='/card.js') }}"
                "<section>{{ title }}</section>"
            ),
        },
    )
    server = squall_live_server(app(template_path=tmp_path))
    assert get(server).text == (
        '<html><head><style type="text/css">\n.card{}\n</style>\n</head><body>'
        "<section>&lt;v&gt;</section>"
        'see <a href="http://a.example/?x=1&amp;y=2">http://a.example/?x=1&amp;y=2</a>'
        '<script src="/card.js" type="text/javascript"></script>\n</body></html>'
    )
