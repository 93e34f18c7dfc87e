"""The plugin: found by entry point or passed explicitly; its settings and defaults."""

from __future__ import annotations

import os
import subprocess
import sys
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
    assert squall.template.plugin is squall.template._plugin  # the public name of it
    assert app.handler_functions["render"] is squall.template._plugin.render
    assert app.handler_functions["render_string"] is squall.template._plugin.render_string


def test_the_plugin_can_be_passed_explicitly_with_autoload_off(tmp_path: Path) -> None:
    assert "render" not in squall.web.Application(autoload_plugins=False).handler_functions
    app = squall.web.Application(
        autoload_plugins=False, plugins=[squall.template.plugin], template_path=tmp_path
    )
    assert "render" in app.handler_functions
    assert app.settings["template_path"] == tmp_path


def test_settings_defaults_are_declared() -> None:
    settings = squall.web.Application().settings
    for name in ("template_path", "template_env", "template_globals", "template_filters"):
        assert name not in settings  # no value of its own: absent, as in Tornado
    assert settings["autoescape"] is DEFAULT_AUTOESCAPE
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


# Start-up cost: Jinja2 (≈ 80 ms to import) is loaded only when an Application needs it.
_LAZY_SCRIPT = """
import asyncio, sys
import httpx
import squall.web
from squall.web.testing import serve

class Page(squall.web.RequestHandler):
    def get(self):
        self.write(self.render_string("page.html", who="lazy"))

app = squall.web.Application([(r"/", Page)])
assert "render" in app.handler_functions
print("after Application():", "jinja2" in sys.modules)

async def main():
    async with serve(app) as url, httpx.AsyncClient() as client:
        print((await client.get(url + "/", timeout=10)).text)

asyncio.run(main())
print("after render:", "jinja2" in sys.modules)
squall.web.Application(template_path=".")
"""


def test_jinja2_is_imported_on_first_render_not_at_application(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(_LAZY_SCRIPT)
    (tmp_path / "page.html").write_text("<p>{{ who }}</p>")
    proc = subprocess.run(
        [sys.executable, "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "SQUALL_WEB_NO_AUTOLOAD"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "after Application(): False\n<p>lazy</p>\nafter render: True\n"


def test_a_template_setting_loads_jinja2_at_construction() -> None:
    code = (
        "import sys, squall.web; squall.web.Application(template_globals={'x': 1}); "
        "print('jinja2' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout == "True\n"
