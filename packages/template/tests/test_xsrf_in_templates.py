"""web's XSRF helpers inside Jinja2 templates: ``{{ xsrf_form_html() }}`` is HTML, not text."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

import squall.web
from squall.web import RequestHandler
from squall.web.testing import LiveServer

Serve = Callable[..., LiveServer]

FORM = re.compile(
    r'<form><input type="hidden" name="_xsrf" value="(2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+)"/></form>'
)


class Form(RequestHandler):
    def get(self) -> None:
        self.render("form.html", passed=self.xsrf_form_html)

    def post(self) -> None:
        self.write("posted")


def test_xsrf_form_html_renders_unescaped_and_its_token_is_accepted(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    (tmp_path / "form.html").write_text("<form>{{ xsrf_form_html() }}</form>")
    app = squall.web.Application([(r"/", Form)], template_path=tmp_path, xsrf_cookies=True)
    with httpx.Client(base_url=squall_live_server(app).url, timeout=10) as client:
        page = client.get("/").text
        m = FORM.fullmatch(page)
        assert m is not None, page
        assert client.post("/", data={"_xsrf": m.group(1)}).text == "posted"
        assert client.post("/").status_code == 403


def test_xsrf_form_html_passed_under_another_name_is_not_escaped_either(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    # The method's result is marked safe itself (__html__), not only by the template plugin.
    (tmp_path / "form.html").write_text("<form>{{ passed() }}</form>")
    app = squall.web.Application([(r"/", Form)], template_path=tmp_path, xsrf_cookies=True)
    with httpx.Client(base_url=squall_live_server(app).url, timeout=10) as client:
        assert FORM.fullmatch(client.get("/").text)


def test_the_token_is_reachable_as_handler_xsrf_token(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    (tmp_path / "form.html").write_text("{{ handler.xsrf_token.decode() }}")
    app = squall.web.Application([(r"/", Form)], template_path=tmp_path)
    with httpx.Client(base_url=squall_live_server(app).url, timeout=10) as client:
        token = client.get("/").text
        assert re.fullmatch(r"2\|[0-9a-f]{8}\|[0-9a-f]{32}\|\d+", token)
        assert client.cookies["_xsrf"]
