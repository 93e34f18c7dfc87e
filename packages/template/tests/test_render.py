"""render / render_string over a real server: the namespace, autoescaping, the README page."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import squall.template._plugin
import squall.web
from squall.web import RequestHandler, hookimpl, url
from squall.web.testing import LiveServer, wait_until

Serve = Callable[..., LiveServer]

# For the tests that must not see other installed plugins (squall-static offers static_url
# too, and two plugins offering one name are refused): the template plugin alone.
ONLY_TEMPLATE: dict[str, Any] = {"autoload_plugins": False, "plugins": [squall.template.plugin]}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def get(server: LiveServer, path: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        return client.get(path, **kwargs)


class Page(RequestHandler):
    def initialize(self, name: str = "page.html", **kwargs: Any) -> None:
        self.name = name
        self.kwargs = kwargs

    def get(self, *args: str) -> None:
        self.render(self.name, **self.kwargs)


def test_render_writes_the_page_and_finishes_the_request(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "page.html", "<p>Hello {{ who }}</p>")
    app = squall.web.Application([(r"/", Page, {"who": "world"})], template_path=str(tmp_path))
    response = get(squall_live_server(app), "/")
    assert response.status_code == 200
    assert response.text == "<p>Hello world</p>"
    assert response.headers["content-type"] == "text/html; charset=UTF-8"


def test_render_returns_what_finish_returns_and_can_be_awaited(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "a.html", "async {{ n }}")
    seen: list[bool] = []

    class AsyncPage(RequestHandler):
        async def get(self) -> None:
            result = self.render("a.html", n=3)
            seen.append(inspect.isawaitable(result))
            await result
            assert self._finished

    app = squall.web.Application([(r"/", AsyncPage)], template_path=tmp_path)
    response = get(squall_live_server(app), "/")
    assert response.text == "async 3"
    wait_until(lambda: seen)
    assert seen == [True]


def test_render_string_returns_utf8_bytes_without_finishing(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "s.html", "café {{ x }}")

    class Twice(RequestHandler):
        def get(self) -> None:
            page = self.render_string("s.html", x=1)
            assert isinstance(page, bytes)
            self.write(page + b"|" + self.render_string("s.html", x=2))

    app = squall.web.Application([(r"/", Twice)], template_path=tmp_path)
    assert get(squall_live_server(app), "/").text == "café 1|café 2"


def test_render_after_finish_is_an_error(tmp_path: Path, squall_live_server: Serve) -> None:
    write(tmp_path, "x.html", "x")
    errors: list[str] = []

    class Late(RequestHandler):
        def get(self) -> None:
            self.finish("done")
            try:
                self.render("x.html")
            except RuntimeError as exc:
                errors.append(str(exc))

    app = squall.web.Application([(r"/", Late)], template_path=tmp_path)
    assert get(squall_live_server(app), "/").text == "done"
    wait_until(lambda: errors)  # the handler goes on after the response went out
    assert "after finish" in errors[0]


def test_templates_see_handler_request_settings_reverse_url_and_kwargs(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(
        tmp_path,
        "ns.html",
        "{{ handler.__class__.__name__ }}|{{ request.path }}|{{ request.method }}|"
        "{{ settings['site'] }}|{{ reverse_url('item', 42) }}|{{ extra }}",
    )
    app = squall.web.Application(
        [
            (r"/ns", Page, {"name": "ns.html", "extra": "kw"}),
            url(r"/item/(\d+)", Page, name="item"),
        ],
        template_path=tmp_path,
        site="squall",
    )
    assert get(squall_live_server(app), "/ns").text == "Page|/ns|GET|squall|/item/42|kw"


def test_keyword_arguments_win_over_the_default_names(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "w.html", "{{ request }}")

    class Mine(RequestHandler):
        def get(self) -> None:
            self.render("w.html", request="mine")

    app = squall.web.Application([(r"/", Mine)], template_path=tmp_path)
    assert get(squall_live_server(app), "/").text == "mine"


def test_get_template_namespace_extended_with_super_tornado_style(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "s.html", "{{ user }}|{{ current_user }}|{{ request.path }}|{{ handler.tag }}")
    seen: list[dict[str, Any]] = []

    class Base(RequestHandler):
        tag = "base"

        def get_current_user(self) -> str:
            return "cu"

        def get_template_namespace(self) -> dict[str, Any]:
            namespace = super().get_template_namespace()
            seen.append(dict(namespace))
            namespace["user"] = "ann"
            return namespace

        def get(self) -> None:
            self.render("s.html")

    app = squall.web.Application([(r"/s", Base)], template_path=tmp_path, **ONLY_TEMPLATE)
    assert get(squall_live_server(app), "/s").text == "ann|cu|/s|base"
    # web's base namespace is what super() returned: no plugin-only names in it.
    assert set(seen[0]) == {
        "handler",
        "request",
        "current_user",
        "locale",
        "_",
        "pgettext",
        "reverse_url",
    }


def test_get_template_namespace_of_a_handler_extends_the_namespace(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "g.html", "{{ user }}-{{ request.path }}-{{ given }}")

    class WithNamespace(RequestHandler):
        def get_template_namespace(self) -> dict[str, Any]:
            return {"user": "ann", "given": "from-namespace"}

        def get(self) -> None:
            self.render("g.html", given="from-kwargs")

    app = squall.web.Application([(r"/g", WithNamespace)], template_path=tmp_path)
    assert get(squall_live_server(app), "/g").text == "ann-/g-from-kwargs"


def test_xsrf_form_html_and_current_user_are_passed_when_the_handler_has_them(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "f.html", "{{ xsrf_form_html() }}{{ current_user }}")

    class Xsrf(RequestHandler):
        current_user = "bob"

        def xsrf_form_html(self) -> str:
            return '<input type="hidden" name="_xsrf" value="t">'

        def get(self) -> None:
            self.render("f.html")

    app = squall.web.Application([(r"/", Xsrf)], template_path=tmp_path)
    assert (
        get(squall_live_server(app), "/").text == '<input type="hidden" name="_xsrf" value="t">bob'
    )


class FakeStatic:
    """A plugin offering ``static_url`` as squall-static does (this venv has no squall-static)."""

    @hookimpl
    def squall_web_handler_functions(self, app: squall.web.Application) -> dict[str, Any]:
        def static_url(handler: RequestHandler, path: str, include_host: Any = None) -> str:
            return f"/static/{path}?v=abc"

        return {"static_url": static_url}


def test_static_url_comes_from_the_plugin_that_offers_it(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "s.html", '<link href="{{ static_url("app.css") }}">')
    app = squall.web.Application(
        [(r"/", Page, {"name": "s.html"})],
        template_path=tmp_path,
        autoload_plugins=False,
        plugins=[squall.template.plugin, FakeStatic()],
    )
    assert get(squall_live_server(app), "/").text == '<link href="/static/app.css?v=abc">'


def test_static_url_is_undefined_without_a_static_plugin(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "s.html", "{{ 'yes' if static_url is defined else 'no' }}")
    app = squall.web.Application(
        [(r"/", Page, {"name": "s.html"})], template_path=tmp_path, **ONLY_TEMPLATE
    )
    assert get(squall_live_server(app), "/").text == "no"


@pytest.mark.parametrize("suffix", ["html", "htm", "xml"])
def test_values_are_escaped_in_html_htm_and_xml_templates(
    suffix: str, tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, f"e.{suffix}", "{{ v }}")
    app = squall.web.Application(
        [(r"/", Page, {"name": f"e.{suffix}", "v": "<b>&'\""})], template_path=tmp_path
    )
    assert get(squall_live_server(app), "/").text == "&lt;b&gt;&amp;&#39;&#34;"


def test_values_are_not_escaped_in_text_templates_by_default(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "e.txt", "{{ v }}")
    app = squall.web.Application(
        [(r"/", Page, {"name": "e.txt", "v": "<b>"})], template_path=tmp_path
    )
    assert get(squall_live_server(app), "/").text == "<b>"


@pytest.mark.parametrize(
    ("setting", "name", "expected"),
    [
        (False, "e.html", "<b>"),
        (None, "e.html", "<b>"),  # Tornado's spelling of "off"
        (True, "e.txt", "&lt;b&gt;"),
        ("xhtml_escape", "e.txt", "&lt;b&gt;"),  # Tornado's spelling of "on"
        (lambda name: name.endswith(".txt"), "e.txt", "&lt;b&gt;"),
        (lambda name: name.endswith(".txt"), "e.html", "<b>"),
    ],
)
def test_the_autoescape_setting_governs_escaping(
    setting: Any, name: str, expected: str, tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, name, "{{ v }}")
    app = squall.web.Application(
        [(r"/", Page, {"name": name, "v": "<b>"})], template_path=tmp_path, autoescape=setting
    )
    assert get(squall_live_server(app), "/").text == expected


def test_safe_marks_a_value_as_markup(tmp_path: Path, squall_live_server: Serve) -> None:
    write(tmp_path, "e.html", "{{ v|safe }}{{ w }}")
    app = squall.web.Application(
        [(r"/", Page, {"name": "e.html", "v": "<i>ok</i>", "w": "<i>"})], template_path=tmp_path
    )
    assert get(squall_live_server(app), "/").text == "<i>ok</i>&lt;i&gt;"


def test_template_path_list_is_searched_in_order(tmp_path: Path, squall_live_server: Serve) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write(first, "both.html", "first")
    write(second, "both.html", "second")
    write(second, "only.html", "only-second")
    app = squall.web.Application(
        [(r"/both", Page, {"name": "both.html"}), (r"/only", Page, {"name": "only.html"})],
        template_path=[first, str(second)],
    )
    server = squall_live_server(app)
    assert get(server, "/both").text == "first"
    assert get(server, "/only").text == "only-second"


def test_extends_and_include_resolve_in_the_template_folders(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(
        tmp_path,
        "base.html",
        "<title>{% block title %}{% endblock %}</title>{% include 'f.html' %}",
    )
    write(tmp_path, "f.html", "<footer>{{ request.path }}</footer>")
    write(
        tmp_path,
        "sub/child.html",
        "{% extends 'base.html' %}{% block title %}{{ t }}{% endblock %}",
    )
    app = squall.web.Application(
        [(r"/", Page, {"name": "sub/child.html", "t": "<T>"})], template_path=tmp_path
    )
    assert get(squall_live_server(app), "/").text == "<title>&lt;T&gt;</title><footer>/</footer>"


def test_a_handler_can_choose_its_folder_with_get_template_path(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path / "main", "p.html", "main")
    write(tmp_path / "admin", "p.html", "admin")

    class Admin(RequestHandler):
        def get_template_path(self) -> str:
            return str(tmp_path / "admin")

        def get(self) -> None:
            self.render("p.html")

    app = squall.web.Application(
        [(r"/", Page, {"name": "p.html"}), (r"/admin", Admin)], template_path=tmp_path / "main"
    )
    server = squall_live_server(app)
    assert get(server, "/").text == "main"
    assert get(server, "/admin").text == "admin"


def test_get_template_path_of_the_base_class_is_the_setting(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    # For handlers that read templates with an engine of their own, as in Tornado.
    class Reads(RequestHandler):
        def get(self) -> None:
            self.write(str(self.get_template_path()))

    app = squall.web.Application([(r"/", Reads)], template_path=str(tmp_path))
    assert get(squall_live_server(app), "/").text == str(tmp_path)


def test_without_template_path_templates_are_found_beside_the_handler_module(
    tmp_path: Path, squall_live_server: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = write(
        tmp_path,
        "beside_handlers.py",
        "import squall.web\n"
        "class Beside(squall.web.RequestHandler):\n"
        "    def get(self):\n"
        "        self.render('beside.html')\n",
    )
    write(tmp_path, "beside.html", "found beside {{ request.path }}")
    monkeypatch.syspath_prepend(str(module.parent))
    monkeypatch.delitem(__import__("sys").modules, "beside_handlers", raising=False)
    import beside_handlers  # type: ignore[import-not-found]

    app = squall.web.Application([(r"/b", beside_handlers.Beside)])
    assert get(squall_live_server(app), "/b").text == "found beside /b"


def test_readme_form_page_escapes_what_the_user_typed(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(
        tmp_path,
        "form.html",
        '<link rel="stylesheet" href="{{ static_url("site.css") }}">\n'
        '<form method="post" action="{{ reverse_url(\'greet\') }}">\n'
        '  <input name="name" value="{{ name }}">\n'
        "  <button>Greet</button>\n"
        "</form>\n"
        "{% if name %}<p>Hello, {{ name }}!</p>{% endif %}\n",
    )

    class Greet(RequestHandler):
        def get(self) -> None:
            self.render("form.html", name="")

        def post(self) -> None:
            self.render("form.html", name=self.get_body_argument("name"))

    app = squall.web.Application(
        [url(r"/greet", Greet, name="greet")],
        template_path=tmp_path,
        autoload_plugins=False,
        plugins=[squall.template.plugin, FakeStatic()],
    )
    server = squall_live_server(app)
    page = get(server, "/greet").text
    assert 'href="/static/site.css?v=abc"' in page and 'action="/greet"' in page
    assert "<p>" not in page
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        posted = client.post("/greet", data={"name": "<script>alert(1)</script>"}).text
    assert "<p>Hello, &lt;script&gt;alert(1)&lt;/script&gt;!</p>" in posted
    assert "<script>" not in posted


def test_template_globals_and_filters_are_available(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "gf.html", "{{ site_name }}|{{ 'abc'|shout }}")
    app = squall.web.Application(
        [(r"/", Page, {"name": "gf.html"})],
        template_path=tmp_path,
        template_globals={"site_name": "Squall"},
        template_filters={"shout": lambda s: s.upper() + "!"},
    )
    assert get(squall_live_server(app), "/").text == "Squall|ABC!"


def test_explicit_plugin_without_autoload_renders(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    write(tmp_path, "p.html", "explicit")
    app = squall.web.Application(
        [(r"/", Page, {"name": "p.html"})],
        template_path=tmp_path,
        autoload_plugins=False,
        plugins=[squall.template._plugin],
    )
    assert get(squall_live_server(app), "/").text == "explicit"
