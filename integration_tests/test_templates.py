"""Templates (squall.template, the debug section's compiled-template cache has something to
turn off): ``render`` a page with a form, ``static_url``, ``reverse_url``, autoescaping.

Statements checked: ``self.render(name, **kw)`` sends the rendered page (template
inheritance, loops, the keyword arguments, ``request``); ``static_url`` in a template gives
a versioned URL that serves the file; ``reverse_url`` gives the form's action; values are
HTML-escaped; ``render_string`` returns the page without sending it.
"""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("templates.py") as srv:
        yield srv


def test_page_with_a_form(server):
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=UTF-8"
    page = r.text
    assert "<title>留言 guestbook</title>" in page
    assert '<form method="post" action="/submit">' in page
    assert '<input type="text" name="text">' in page
    # request, handler and settings are in the template namespace
    assert "path: /, handler: IndexHandler, xsrf: False" in page
    assert page.count('<li class="item">') == 2


def test_values_are_autoescaped(server):
    page = httpx.get(server.url + "/").text
    assert "first &lt;b&gt;entry&lt;/b&gt;" in page
    assert "<b>entry</b>" not in page


def test_static_url_in_template_is_versioned_and_served(server, examples_dir):
    page = httpx.get(server.url + "/").text
    m = re.search(r'href="(/static/css/style\.css\?v=[^"]+)"', page)
    assert m, page
    r = httpx.get(server.url + m.group(1).replace("&amp;", "&"))
    assert r.status_code == 200
    assert r.content == (examples_dir / "statics/css/style.css").read_bytes()
    assert "max-age=31536000" in r.headers.get("cache-control", "")


def test_form_submission_is_rendered_escaped(server):
    r = httpx.post(server.url + "/submit", data={"text": "<script>alert('x')</script> 你好"})
    assert r.status_code == 200
    assert '<p class="message">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 你好</p>' in r.text
    assert "<script>" not in r.text
    assert '<a href="/">back</a>' in r.text


def test_render_string_returns_the_page(server):
    r = httpx.get(server.url + "/fragment")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=UTF-8"
    assert "&lt;i&gt;from render_string&lt;/i&gt;" in r.text
    assert r.text.lstrip().startswith("<!DOCTYPE html>")
