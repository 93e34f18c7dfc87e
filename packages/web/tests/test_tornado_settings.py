"""Tornado's settings: each is honoured by a declaring package or refused, never ignored."""

from __future__ import annotations

import importlib.metadata
import pathlib
import re
from typing import Any

import httpx
import pytest

import squall.web._tornado_settings as ts
from squall.web import (
    Application,
    ConfigurationError,
    MissingPluginError,
    RequestHandler,
    SettingsRegistry,
    hookimpl,
)
from squall.web._plugins import call_with_owners, make_plugin_manager
from squall.web._settings import PLUGIN_OWNED_SETTINGS

tornado = pytest.importorskip("tornado")  # a test dependency of squall-web


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _declared_by_installed_packages() -> SettingsRegistry:
    """Every setting that web and every installed plugin (entry points) declare."""
    registry = SettingsRegistry()
    pm = make_plugin_manager(autoload_plugins=True)
    call_with_owners(pm.hook.squall_web_add_settings, registry=registry)
    return registry


# What Tornado's own source reads from ``settings``: a literal key after settings.get(,
# settings.setdefault(, settings[ or before "in settings", and the OAuth mixin's key.
_READS = re.compile(
    r"""settings(?:\.get\(|\.setdefault\(|\[)\s*["']([a-z_]+)["']"""
    r"""|["']([a-z_]+)["'] in (?:self\.)?(?:application\.)?settings"""
    r"""|_OAUTH_SETTINGS_KEY = ["']([a-z_]+)["']"""
)
# Read from something called ``settings`` in Tornado that is not the application's settings:
# the dict get_google_oauth_settings() returns ({"key": ..., "secret": ...}) and a key a
# docstring example invents.
_NOT_APPLICATION_SETTINGS = {"key", "secret", "redirect_base_uri"}
# In the table but not read through ``settings`` in Tornado: an Application argument.
_TABLE_EXTRAS = {"transforms"}


def _tornado_reads() -> set[str]:
    root = pathlib.Path(tornado.__file__).parent
    names: set[str] = set()
    for module in ("web.py", "websocket.py", "auth.py", "template.py", "autoreload.py"):
        text = (root / module).read_text(encoding="utf-8")
        for match in _READS.finditer(text):
            names.add(next(g for g in match.groups() if g))
    return names - _NOT_APPLICATION_SETTINGS


def test_every_setting_tornado_reads_is_in_the_table() -> None:
    reads = _tornado_reads()
    assert {"cookie_secret", "static_handler_class", "websocket_max_message_size"} <= reads
    assert sorted(reads - set(ts.TORNADO_SETTINGS)) == []
    assert sorted(set(ts.TORNADO_SETTINGS) - reads - _TABLE_EXTRAS) == []


def test_every_declared_tornado_setting_is_provided_by_its_declarer() -> None:
    registry = _declared_by_installed_packages()
    for name in registry:
        entry = ts.TORNADO_SETTINGS.get(name)
        if entry is None:
            continue  # squall's own setting (health_path, template_env ...)
        assert (entry.status, entry.provider) == (ts.PROVIDED, registry[name].owner), name


def test_every_provided_setting_is_declared_when_its_package_is_installed() -> None:
    registry = _declared_by_installed_packages()
    for name, entry in ts.TORNADO_SETTINGS.items():
        if entry.status != ts.PROVIDED:
            continue
        assert entry.provider is not None
        if _installed(entry.provider):
            assert name in registry, f"{name} is not declared by {entry.provider}"
            assert registry[name].owner == entry.provider
        else:
            given: dict[str, Any] = {name: None}
            with pytest.raises(MissingPluginError, match=f"pip install {entry.provider}"):
                Application([], **given)


@pytest.mark.parametrize(
    "name", sorted(n for n, e in ts.TORNADO_SETTINGS.items() if e.status != ts.PROVIDED)
)
def test_a_tornado_setting_squall_does_not_honour_is_refused_in_one_line(name: str) -> None:
    entry = ts.TORNADO_SETTINGS[name]
    given: dict[str, Any] = {name: True}
    with pytest.raises(ConfigurationError) as info:
        Application([], **given)
    message = str(info.value)
    assert not isinstance(info.value, MissingPluginError)  # nothing to install fixes it
    assert "\n" not in message
    assert repr(name) in message
    assert "pip install" not in message  # never a package that does not exist
    assert entry.note in message
    if entry.status == ts.PLANNED:
        assert f"not supported by squall yet (planned for {entry.provider})" in message
    else:
        assert "is not supported by squall:" in message


@pytest.mark.parametrize("value", [True, False, None, 0, {}])
def test_refusal_does_not_depend_on_the_value(value: Any) -> None:
    # google_oauth=False is refused too: Tornado reads the key, so its presence means
    # the app was written for a setting squall would ignore.
    with pytest.raises(ConfigurationError, match="google_oauth"):
        Application([], google_oauth=value)
    # A provided setting of a missing plugin is refused whatever its value, too.
    with pytest.raises(MissingPluginError, match="compress_response"):
        Application([], autoload_plugins=False, compress_response=value)


def test_a_provided_setting_of_a_missing_plugin_names_the_package() -> None:
    with pytest.raises(MissingPluginError, match="pip install squall-static"):
        Application([], autoload_plugins=False, static_handler_args={})
    with pytest.raises(MissingPluginError, match="pip install squall-template"):
        Application([], autoload_plugins=False, template_path="t")
    # squall's own plugin settings (not Tornado's) are refused the same way.
    with pytest.raises(MissingPluginError, match="pip install squall-static"):
        Application([], autoload_plugins=False, static_follow_symlinks=True)


def test_a_refused_setting_supplied_by_a_plugin_is_refused_too() -> None:
    # squall-options supplies settings from config files and the command line: a
    # "google_oauth = True" line there must fail the same way.
    class ConfigFile:
        @hookimpl
        def squall_web_setting_defaults(self, given: Any) -> dict[str, Any]:
            return {"google_oauth": True, "title": "kept"}

    with pytest.raises(ConfigurationError, match="'google_oauth' is not supported"):
        Application([], plugins=[ConfigFile()], autoload_plugins=False)


def test_a_bare_registry_keeps_web_owned_tornado_names() -> None:
    # Web's built-in plugin declares them in every Application; a registry used alone
    # (tools, tests) must not claim squall-web is missing.
    assert SettingsRegistry().resolve({"cookie_secret": "s"}) == {"cookie_secret": "s"}
    with pytest.raises(ConfigurationError, match="ui_modules"):
        SettingsRegistry().resolve({"ui_modules": {}})


def test_refusal_is_none_for_names_tornado_does_not_define() -> None:
    assert ts.refusal("db") is None
    assert ts.refusal("title") is None
    assert ts.refusal("debug") is None  # web's own


class ShowSettings(RequestHandler):
    def get(self) -> None:
        self.write({"db": self.settings["db"], "title": self.settings["title"]})


def test_an_apps_own_settings_stay_readable_over_http(squall_live_server: Any) -> None:
    app = Application([(r"/", ShowSettings)], db="sqlite://", title="blog")
    server = squall_live_server(app)
    response = httpx.get(server.url + "/", timeout=10)
    assert response.json() == {"db": "sqlite://", "title": "blog"}


# -- the security settings web declares --------------------------------------------------


def test_security_settings_have_tornados_defaults() -> None:
    settings = Application([]).settings
    # Unset and without a value of their own: absent, as in Tornado, so that handler code's
    # settings.get("login_url", "/login") and "cookie_secret" in settings read as there.
    for name in ("cookie_secret", "key_version", "login_url", "xsrf_cookie_kwargs"):
        assert name not in settings and settings.get(name, "default") == "default"
    assert settings["xsrf_cookies"] is False
    assert settings["xsrf_cookie_version"] == 2


@pytest.mark.parametrize(
    "settings",
    [
        {"cookie_secret": "s"},
        {"cookie_secret": b"s"},
        {"cookie_secret": {1: "a", 2: b"b"}, "key_version": 2},
        {"login_url": "/login"},
        {"login_url": None},
        {"xsrf_cookies": True, "xsrf_cookie_version": 1},
        {"xsrf_cookie_kwargs": {"secure": True}},
    ],
)
def test_good_security_settings_are_accepted(settings: dict[str, Any]) -> None:
    resolved = Application([], **settings).settings
    for key, value in settings.items():
        assert resolved[key] == value


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"cookie_secret": 12}, "cookie_secret=12"),
        ({"cookie_secret": {}}, "cookie_secret={}"),
        ({"cookie_secret": {"1": "a"}}, "cookie_secret="),
        ({"cookie_secret": {1: 2}}, "cookie_secret="),
        ({"cookie_secret": {True: "a"}}, "cookie_secret="),
        ({"key_version": "1"}, "key_version='1'"),
        ({"key_version": True}, "key_version=True"),
        ({"login_url": 3}, "login_url=3"),
        ({"xsrf_cookies": "yes"}, "xsrf_cookies='yes'"),
        ({"xsrf_cookie_version": 3}, "xsrf_cookie_version=3"),
        ({"xsrf_cookie_version": True}, "xsrf_cookie_version=True"),
        ({"xsrf_cookie_kwargs": [("secure", True)]}, "xsrf_cookie_kwargs="),
    ],
)
def test_bad_security_settings_are_refused_naming_them(
    settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(named)):
        Application([], **settings)


def test_every_own_setting_of_an_installed_plugin_names_its_package_when_missing() -> None:
    # A squall plugin's own setting (not Tornado's) given while that plugin is not loaded
    # must be refused naming the package: template_syntax="tornado" without squall-template
    # would otherwise be kept as an app's own value and do nothing.
    with pytest.raises(MissingPluginError, match="pip install squall-template"):
        Application([], autoload_plugins=False, template_syntax="tornado")
    registry = _declared_by_installed_packages()
    for name in registry:
        owner = registry[name].owner
        if name not in ts.TORNADO_SETTINGS and owner != "squall-web":
            assert PLUGIN_OWNED_SETTINGS.get(name) == owner, name
    for name, owner in sorted(PLUGIN_OWNED_SETTINGS.items()):
        given: dict[str, Any] = {name: None}
        with pytest.raises(MissingPluginError, match=f"pip install {owner}"):
            Application([], autoload_plugins=False, **given)
