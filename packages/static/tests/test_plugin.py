"""squall-static as a squall.web plugin: autoloaded, passed explicitly, settings checked."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import squall.static._plugin
from squall.web import Application, ConfigurationError, MissingPluginError, RequestHandler

Serve = Callable[[Application], str]


def test_static_path_works_through_entry_point_autoloading(site: Path, serve: Serve) -> None:
    app = Application(static_path=str(site))
    assert "static_url" in app.handler_functions
    url = serve(app)
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/html/index.html").text == "<h1>index</h1>"


def test_static_path_works_with_the_plugin_passed_explicitly(site: Path, serve: Serve) -> None:
    app = Application(static_path=str(site), plugins=[squall.static.plugin], autoload_plugins=False)
    url = serve(app)
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/css/a.css").text == "body { color: red }"
        assert client.get(url + "/robots.txt").status_code == 200


def test_without_the_plugin_static_path_names_the_package(site: Path) -> None:
    with pytest.raises(MissingPluginError, match="squall-static"):
        Application(static_path=str(site), autoload_plugins=False)


def test_without_the_plugin_static_url_names_the_package(serve: Serve) -> None:
    class H(RequestHandler):
        def get(self) -> None:
            self.write(self.static_url("a.css"))

    url = serve(Application([(r"/", H)], autoload_plugins=False))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/").status_code == 500


def test_settings_have_their_defaults(tmp_path: Path) -> None:
    settings = Application().settings
    for name in ("static_path", "static_handler_class", "static_handler_args"):
        assert name not in settings  # no value of its own: absent, as in Tornado
    assert settings["static_url_prefix"] == "/static/"
    assert settings["static_follow_symlinks"] is False


def test_no_static_routes_without_static_path(serve: Serve) -> None:
    url = serve(Application())
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/x").status_code == 404
        assert client.get(url + "/robots.txt").status_code == 404


@pytest.mark.parametrize(
    "settings",
    [
        {"static_url_prefix": "//evil.example/"},
        {"static_url_prefix": "static/"},
        {"static_handler_class": RequestHandler},
        {"static_handler_args": ["not", "a", "dict"]},
        {"static_path": 42},
    ],
)
def test_bad_settings_fail_at_construction(site: Path, settings: dict[str, object]) -> None:
    settings = {"static_path": str(site), **settings}
    with pytest.raises(ConfigurationError):
        Application(**settings)


def test_static_path_that_is_a_file_fails_at_construction(site: Path) -> None:
    with pytest.raises(ConfigurationError, match="static_path"):
        Application(static_path=str(site / "robots.txt"))


def test_static_path_accepts_a_pathlib_path(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=site))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/css/a.css").status_code == 200


# Start-up cost: the plugin is imported at every Application() (entry points); the handler
# and its cache (≈ 6-8 ms of imports) only by an application that serves static files.
_HEAVY = ("squall.static._handler", "squall.static._cache", "squall.static._hashing")
_LOADED = f"print(sorted(m for m in {_HEAVY!r} if m in sys.modules))"


def _run(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SQUALL_WEB_NO_AUTOLOAD"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_importing_the_plugin_loads_no_handler() -> None:
    assert _run(f"import sys, squall.static._plugin; {_LOADED}") == "[]\n"


def test_an_application_without_static_path_loads_no_handler() -> None:
    code = (
        "import sys, squall.web; app = squall.web.Application(); "
        f"print('static_url' in app.handler_functions); {_LOADED}"
    )
    assert _run(code) == "True\n[]\n"  # the plugin was autoloaded, its handler was not


def test_an_application_with_static_path_loads_the_handler_at_construction(
    tmp_path: Path,
) -> None:
    code = f"import sys, squall.web; squall.web.Application(static_path={str(tmp_path)!r}); "
    assert _run(code + _LOADED) == f"{sorted(_HEAVY)}\n"
