"""Errors: a missing template, a syntax error, a missing plugin, bad settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jinja2
import pytest

import squall.web
from squall.template import TemplateNotFoundError
from squall.web import ConfigurationError, MissingPluginError, RequestHandler
from squall.web.testing import LiveServer, wait_until

Serve = Callable[..., LiveServer]


class Page(RequestHandler):
    def initialize(self, name: str) -> None:
        self.name = name

    def get(self) -> None:
        self.render(self.name)


def get(server: LiveServer, path: str = "/") -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        return client.get(path)


def logged(caplog: pytest.LogCaptureFixture, *needles: str) -> str:
    """The captured log text once it holds every needle (the server logs from its thread)."""
    wait_until(lambda: all(n in caplog.text for n in needles))
    return caplog.text


def test_a_missing_template_is_a_500_whose_log_names_it_and_the_folders(
    tmp_path: Path, squall_live_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    app = squall.web.Application([(r"/", Page, {"name": "nope.html"})], template_path=[one, two])
    caplog.set_level(logging.ERROR, logger="squall.application")
    response = get(squall_live_server(app))
    assert response.status_code == 500
    assert "nope.html" not in response.text  # no details without serve_traceback
    text = logged(caplog, "nope.html", str(one), str(two))
    assert "TemplateNotFoundError" in text


def test_with_serve_traceback_the_page_names_the_missing_template_and_folders(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    app = squall.web.Application(
        [(r"/", Page, {"name": "nope.html"})], template_path=tmp_path, serve_traceback=True
    )
    response = get(squall_live_server(app))
    assert response.status_code == 500
    assert "nope.html" in response.text and str(tmp_path) in response.text


def test_a_missing_include_names_the_included_template(
    tmp_path: Path, squall_live_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "page.html").write_text("{% include 'gone.html' %}")
    app = squall.web.Application([(r"/", Page, {"name": "page.html"})], template_path=tmp_path)
    assert get(squall_live_server(app)).status_code == 500
    logged(caplog, "'gone.html' not found", str(tmp_path))


def test_the_not_found_error_is_also_jinja2s(tmp_path: Path) -> None:
    error = TemplateNotFoundError("x.html", [str(tmp_path)])
    assert isinstance(error, jinja2.TemplateNotFound)
    assert error.name == "x.html" and error.searched == (str(tmp_path),)
    assert str(tmp_path) in str(error)


BROKEN = "<h1>{{ title }}</h1>\n<ul>\n{% for x in items %}\n<li>{{ x }}</li>\n"


def test_a_syntax_error_is_logged_with_the_file_and_line(
    tmp_path: Path, squall_live_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.html").write_text(BROKEN + "{% endif %}\n")
    app = squall.web.Application([(r"/", Page, {"name": "broken.html"})], template_path=tmp_path)
    response = get(squall_live_server(app))
    assert response.status_code == 500
    path = str(tmp_path / "broken.html")
    text = logged(caplog, "TemplateSyntaxError", path)
    assert f'"{path}", line 5' in text


def test_with_serve_traceback_the_page_shows_the_syntax_error_file_and_line(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    (tmp_path / "broken.html").write_text(BROKEN)
    app = squall.web.Application(
        [(r"/", Page, {"name": "broken.html"})], template_path=tmp_path, serve_traceback=True
    )
    response = get(squall_live_server(app))
    assert response.status_code == 500
    assert "TemplateSyntaxError" in response.text
    assert str(tmp_path / "broken.html") in response.text
    assert "line 4" in response.text  # the template ends inside the {% for %} of line 3


def test_an_error_while_rendering_points_at_the_template_line(
    tmp_path: Path, squall_live_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "boom.html").write_text("ok\n{{ 1 // 0 }}\n")
    app = squall.web.Application([(r"/", Page, {"name": "boom.html"})], template_path=tmp_path)
    assert get(squall_live_server(app)).status_code == 500
    text = logged(caplog, "ZeroDivisionError")
    assert f'"{tmp_path / "boom.html"}", line 2' in text


def test_template_settings_without_the_plugin_name_squall_template(tmp_path: Path) -> None:
    for key, value in [
        ("template_path", str(tmp_path)),
        ("template_globals", {}),
        ("autoescape", False),
    ]:
        with pytest.raises(MissingPluginError, match="squall-template"):
            squall.web.Application(autoload_plugins=False, **{key: value})


def test_render_without_the_plugin_is_a_500_naming_squall_template(
    squall_live_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    app = squall.web.Application(
        [(r"/", Page, {"name": "x.html"})], autoload_plugins=False, serve_traceback=True
    )
    response = get(squall_live_server(app))
    assert response.status_code == 500
    assert "pip install squall-template" in response.text
    logged(caplog, "MissingPluginError", "squall-template")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("template_path", 42),
        ("template_path", []),
        ("template_path", ["ok", 3]),
        ("template_env", "not an environment"),
        ("template_globals", ["x"]),
        ("template_filters", {"f": "not callable"}),
        ("autoescape", "yes"),
    ],
)
def test_bad_template_settings_are_refused_at_construction(key: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=key):
        squall.web.Application(**{key: value})


def test_a_template_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    afile = tmp_path / "f.html"
    afile.write_text("x")
    with pytest.raises(ConfigurationError, match="not a directory"):
        squall.web.Application(template_path=afile)


def test_a_template_path_that_does_not_exist_yet_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="squall.general")
    squall.web.Application(template_path=tmp_path / "later")
    assert "later" in caplog.text and "does not exist" in caplog.text
