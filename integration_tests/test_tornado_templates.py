"""Tornado's template language (examples/tornado_templates.py): a page in Tornado's syntax
with extends/block/include, a UI module with CSS and JavaScript, a UI method and CSV
translations chosen by ``Accept-Language``.

Statements checked: the Tornado-syntax templates render (inheritance, include, loop,
autoescaping, ``{% raw %}``, comments vanish); ``{% module Entry(...) %}`` renders each entry
and ``render()`` puts the module's stylesheet (through ``static_url``, served) and CSS before
``</head>`` and its JavaScript before ``</body>``, once; ``render_string`` does not; ``_()``
translates into the language the request asks for, plurals included.
"""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("tornado_templates.py") as srv:
        yield srv


def test_page_in_tornado_syntax_with_a_ui_module(server):
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    page = r.text
    assert "<title>Guestbook · 2</title>" in page
    assert '<nav><a href="/">Home</a> · WELCOME!</nav>' in page
    assert "<h1>2 entries</h1>" in page
    assert page.count('<div class="entry">') == 2
    assert "First &lt;b&gt;entry&lt;/b&gt; &amp; more" in page
    assert '<a href="http://www.tornadoweb.org/">' in page
    assert "a comment the page never shows" not in page
    assert "Written by Ann and Bob" in page


def test_module_resources_are_put_in_head_and_body_once(server, examples_dir):
    page = httpx.get(server.url + "/").text
    head, body = page.split("</head>")
    links = re.findall(r'<link href="(/static/entry\.css\?v=[^"]+)"', head)
    assert len(links) == 1
    assert ".entry .author { font-weight: bold }" in head
    assert body.count("dataset.entries = 'ready'") == 1
    assert body.index("dataset.entries") < body.index("</body>")
    css = httpx.get(server.url + links[0])
    assert css.status_code == 200
    assert css.content == (examples_dir / "templates_tornado/static/entry.css").read_bytes()


@pytest.mark.parametrize(
    ("language", "title", "heading", "written"),
    [
        ("es", "Libro de visitas", "2 entradas", "Escrito por Ann y Bob"),
        ("de;q=0.9, fr-CH;q=0.8", "Livre d&#x27;or", "2 billets", "Écrit par Ann et Bob"),
        ("es;q=0, de", "Guestbook", "2 entries", "Written by Ann and Bob"),
    ],
)
def test_translations_follow_accept_language(server, language, title, heading, written):
    page = httpx.get(server.url + "/", headers={"Accept-Language": language}).text
    assert f"<title>{title} · 2</title>" in page
    assert f"<h1>{heading}</h1>" in page
    assert written in page


def test_render_string_has_no_page_assembly(server):
    r = httpx.get(server.url + "/plain?lang=fr")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=UTF-8"
    assert "<h1>2 billets</h1>" in r.text
    assert "entry.css" not in r.text and "<script" not in r.text
