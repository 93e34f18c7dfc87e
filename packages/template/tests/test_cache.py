"""The compiled-template cache: compiled once when on; edits show at once when off (debug)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jinja2
import pytest

import squall.web
from squall.template import get_environment
from squall.web import RequestHandler
from squall.web.testing import LiveServer

Serve = Callable[..., LiveServer]


class Page(RequestHandler):
    def get(self) -> None:
        self.render("page.html", n=self.get_query_argument("n", "0"))


class CountingLoader(jinja2.FileSystemLoader):
    """Counts reads of template sources: one read per compilation."""

    def __init__(self, searchpath: str) -> None:
        super().__init__(searchpath)
        self.reads = 0

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        self.reads += 1
        return super().get_source(environment, template)


def edit(path: Path, text: str) -> None:
    """Rewrite ``path`` and move its mtime forward, so mtime-based reloading would see it too."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def fetch(server: LiveServer, *paths: str) -> list[str]:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        return [client.get(p).text for p in paths]


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"compiled_template_cache": True},
        {"debug": True, "autoreload": False, "compiled_template_cache": True},
    ],
)
def test_with_the_cache_on_a_template_is_compiled_once(
    settings: dict[str, Any], tmp_path: Path, squall_live_server: Serve
) -> None:
    (tmp_path / "page.html").write_text("n={{ n }}")
    loader = CountingLoader(str(tmp_path))
    env = jinja2.Environment(loader=loader)
    app = squall.web.Application([(r"/", Page)], template_env=env, **settings)
    assert app.settings["compiled_template_cache"] is True
    assert fetch(squall_live_server(app), "/?n=1", "/?n=2", "/?n=3") == ["n=1", "n=2", "n=3"]
    assert loader.reads == 1


@pytest.mark.parametrize(
    "settings", [{"debug": True, "autoreload": False}, {"compiled_template_cache": False}]
)
def test_with_the_cache_off_every_render_compiles_afresh(
    settings: dict[str, Any], tmp_path: Path, squall_live_server: Serve
) -> None:
    (tmp_path / "page.html").write_text("n={{ n }}")
    loader = CountingLoader(str(tmp_path))
    app = squall.web.Application(
        [(r"/", Page)], template_env=jinja2.Environment(loader=loader), **settings
    )
    assert app.settings["compiled_template_cache"] is False
    fetch(squall_live_server(app), "/?n=1", "/?n=2", "/?n=3")
    assert loader.reads == 3


def test_with_the_cache_on_an_edited_template_is_not_seen_until_restart(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    page = tmp_path / "page.html"
    page.write_text("old {{ n }}")
    app = squall.web.Application([(r"/", Page)], template_path=tmp_path)
    server = squall_live_server(app)
    assert fetch(server, "/") == ["old 0"]
    edit(page, "new {{ n }}")
    assert fetch(server, "/") == ["old 0"]


@pytest.mark.parametrize("settings", [{"debug": True}, {"compiled_template_cache": False}])
def test_with_the_cache_off_an_edited_template_shows_on_the_next_request(
    settings: dict[str, Any], tmp_path: Path, squall_live_server: Serve
) -> None:
    page = tmp_path / "page.html"
    page.write_text("old {{ n }}")
    settings.setdefault("autoreload", False)  # this test is about templates, not restarts
    app = squall.web.Application([(r"/", Page)], template_path=tmp_path, **settings)
    server = squall_live_server(app)
    assert fetch(server, "/") == ["old 0"]
    # Same size, no mtime change: only re-reading the file (no cache) can see this edit.
    page.write_text("NEW {{ n }}")
    assert fetch(server, "/") == ["NEW 0"]
    edit(page, "newer {{ n }}")
    assert fetch(server, "/") == ["newer 0"]


def test_with_the_cache_off_an_edited_include_shows_on_the_next_request(
    tmp_path: Path, squall_live_server: Serve
) -> None:
    (tmp_path / "page.html").write_text("[{% include 'part.html' %}]")
    part = tmp_path / "part.html"
    part.write_text("one")
    app = squall.web.Application(
        [(r"/", Page)], template_path=tmp_path, compiled_template_cache=False
    )
    server = squall_live_server(app)
    assert fetch(server, "/") == ["[one]"]
    part.write_text("two")
    assert fetch(server, "/") == ["[two]"]


def test_a_user_environment_is_not_changed_by_the_application(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("x")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)), cache_size=50)
    env.globals["mine"] = 1
    app = squall.web.Application(
        template_env=env, compiled_template_cache=False, template_globals={"added": 2}
    )
    used = get_environment(app)
    assert used is not env
    assert used.cache is None and used.auto_reload
    assert used.globals["mine"] == 1 and used.globals["added"] == 2
    assert "added" not in env.globals and env.cache is not None and env.cache.capacity == 50


def test_get_environment_renders_outside_a_handler(tmp_path: Path) -> None:
    (tmp_path / "mail.txt").write_text("Hi {{ who }} <{{ site }}>")
    app = squall.web.Application(template_path=tmp_path, template_globals={"site": "s&q"})
    env = get_environment(app)
    assert env.get_template("mail.txt").render(who="<ann>") == "Hi <ann> <s&q>"
    assert env.auto_reload is False and env.cache is not None
