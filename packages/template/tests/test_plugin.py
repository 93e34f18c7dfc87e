"""The plugin: found by entry point or passed explicitly; its settings and defaults."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

import squall.template
import squall.template._plugin
import squall.web
from squall.http import HTTPServerRequest
from squall.template import DEFAULT_AUTOESCAPE, get_environment


def test_the_plugin_is_found_through_the_squall_web_entry_point() -> None:
    app = squall.web.Application()
    assert app.plugin_manager.get_plugin("template") is squall.template._plugin
    assert app.handler_functions["render"] is squall.template._plugin.render
    assert app.handler_functions["render_string"] is squall.template._plugin.render_string


def test_the_plugin_can_be_passed_explicitly_with_autoload_off(tmp_path: Path) -> None:
    assert "render" not in squall.web.Application(autoload_plugins=False).handler_functions
    app = squall.web.Application(
        autoload_plugins=False, plugins=[squall.template._plugin], template_path=tmp_path
    )
    assert "render" in app.handler_functions
    assert app.settings["template_path"] == tmp_path


def test_settings_defaults_are_declared() -> None:
    settings = squall.web.Application().settings
    assert settings["template_path"] is None
    assert settings["autoescape"] is DEFAULT_AUTOESCAPE
    assert settings["template_env"] is None
    assert settings["template_globals"] is None and settings["template_filters"] is None
    assert settings["compiled_template_cache"] is True
    registry = squall.web.Application().settings_registry
    for name in ("template_path", "autoescape", "template_env"):
        assert registry[name].owner == "squall-template" and registry[name].doc


def test_the_default_autoescape_covers_html_htm_and_xml_only() -> None:
    assert [DEFAULT_AUTOESCAPE(n) for n in ("a.html", "a.htm", "a.xml", "a.txt", "a.css")] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_debug_turns_the_cache_off_and_an_explicit_setting_wins(tmp_path: Path) -> None:
    off = get_environment(
        squall.web.Application(template_path=tmp_path, debug=True, autoreload=False)
    )
    assert off.cache is None and off.auto_reload
    on = get_environment(
        squall.web.Application(
            template_path=tmp_path, debug=True, autoreload=False, compiled_template_cache=True
        )
    )
    assert on.cache is not None and not on.auto_reload


def test_template_env_with_template_path_searches_the_path(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("{{ x|twice }}")
    env = jinja2.Environment()
    env.filters["twice"] = lambda v: v * 2
    app = squall.web.Application(template_env=env, template_path=tmp_path)
    assert get_environment(app).get_template("t.txt").render(x="ab") == "abab"
    assert env.loader is None  # the user's environment is left alone


def test_a_handler_class_without_a_source_file_uses_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.txt").write_text("from {{ request.path }}")
    orphan = type("Orphan", (squall.web.RequestHandler,), {"__module__": "no_such_module"})
    app = squall.web.Application()
    handler = orphan(app, HTTPServerRequest("GET", "/x"))
    assert handler.render_string("here.txt") == b"from /x"
