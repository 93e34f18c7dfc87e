"""The settings of squall-compress: refused by name when squall cannot honour them."""

from __future__ import annotations

from typing import Any

import pytest

from squall.compress import plugin
from squall.web import Application, ConfigurationError, MissingPluginError


def test_the_plugin_is_installed_by_its_entry_point() -> None:
    app = Application([], compress_response=True)
    assert len(app._transforms) == 1
    assert app.settings_registry["compress_response"].owner == "squall-compress"
    assert app.settings_registry["gzip"].owner == "squall-compress"


def test_passed_explicitly_it_works_without_autoloading() -> None:
    app = Application([], compress_response=True, autoload_plugins=False, plugins=[plugin])
    assert len(app._transforms) == 1


@pytest.mark.parametrize(
    "setting",
    [
        {"compress_response": True},
        {"gzip": True},
        {"compress_levels": {"gzip": 1}},
        {"compress_min_length": 0},
    ],
)
def test_without_the_plugin_each_setting_names_the_package_to_install(
    setting: dict[str, Any],
) -> None:
    with pytest.raises(MissingPluginError) as info:
        Application([], autoload_plugins=False, **setting)
    message = str(info.value)
    assert "pip install squall-compress" in message
    assert "uv pip install ./packages/compress" in message


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"compress_levels": {"gzip": 3}}, "compress_levels given but compression is off"),
        ({"compress_encodings": ["gzip"]}, "compress_encodings given but compression is off"),
        ({"compress_min_length": 10}, "compress_min_length given but compression is off"),
    ],
)
def test_tuning_without_compression_on_is_refused(setting: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Application([], **setting)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"compress_encodings": ["deflate"]}, "compress_encodings names 'deflate'"),
        ({"compress_encodings": []}, "compress_encodings is empty"),
        ({"compress_levels": {"lzma": 1}}, "compress_levels names 'lzma'"),
        ({"compress_levels": {"gzip": 10}}, r"compress_levels\['gzip'\] = 10: must be 1..9"),
        ({"compress_levels": {"br": 12}}, r"compress_levels\['br'\] = 12: must be 0..11"),
        ({"compress_levels": {"zstd": 0}}, r"compress_levels\['zstd'\] = 0: must be 1..22"),
        (
            {"compress_encodings": ["gzip"], "compress_levels": {"br": 5}},
            "compress_levels gives a level to 'br', which compress_encodings does not offer",
        ),
        ({"compress_levels": {"gzip": "6"}}, "compress_levels"),
        ({"compress_min_length": -1}, "compress_min_length"),
        ({"compress_types": "text/csv"}, "compress_types"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(setting: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Application([], compress_response=True, **setting)


def test_a_coding_whose_library_is_missing_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from squall.compress import _codecs, _config

    # A copy without "br" in the namespace of _config (which resolves the settings): deleting
    # from the shared dict and putting it back would move "br" to the end and change the
    # default order that other tests in the same process see.
    without_br = {name: c for name, c in _codecs.CODECS.items() if name != "br"}
    monkeypatch.setattr(_config, "CODECS", without_br)
    with pytest.raises(ConfigurationError) as info:
        Application([], compress_response=True, compress_encodings=["br", "gzip"])
    assert "pip install 'squall-compress[brotli]'" in str(info.value)
    # without naming it, the default order simply leaves it out
    app = Application([], compress_response=True)
    assert app._transforms
