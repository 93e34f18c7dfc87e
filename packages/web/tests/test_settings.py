"""SettingsRegistry, debug expansion, Stash/StashKey."""

from __future__ import annotations

import pytest

from squall.web import (
    ConfigurationError,
    MissingPluginError,
    SettingsRegistry,
    Stash,
    StashKey,
)


def make_registry() -> SettingsRegistry:
    reg = SettingsRegistry()
    reg.add("size", default=10, type=int, doc="a size", owner="pkg-a", validate=lambda v: v > 0)
    reg.add("name", default=None, type=(str, bytes), doc="a name", owner="pkg-a")
    return reg


def test_defaults_are_filled_and_unknown_keys_kept() -> None:
    settings = make_registry().resolve({"mine": 1})
    assert settings == {"size": 10, "mine": 1}  # a None default stays absent, as in Tornado


def test_a_setting_left_unset_without_a_default_lets_the_callers_default_win() -> None:
    settings = make_registry().resolve({})
    assert "name" not in settings and settings.get("name", "mine") == "mine"
    assert make_registry().resolve({"name": None})["name"] is None  # given: kept


def test_type_is_checked_and_the_message_names_setting_value_and_owner() -> None:
    with pytest.raises(ConfigurationError, match=r"size='x'.*int.*pkg-a"):
        make_registry().resolve({"size": "x"})


def test_tuple_types_and_none_are_accepted() -> None:
    assert make_registry().resolve({"name": b"x"})["name"] == b"x"
    with pytest.raises(ConfigurationError, match="str or bytes"):
        make_registry().resolve({"name": 3})


@pytest.mark.parametrize(("given", "stored"), [(1, True), (0, False), (True, True)])
def test_a_bool_setting_takes_the_ints_0_and_1_as_tornado_apps_pass_them(
    given: object, stored: bool
) -> None:
    # debug=int(os.environ.get("DEBUG", 0)) is common in Tornado apps.
    reg = SettingsRegistry()
    reg.add("debugish", default=False, type=bool, doc="d", owner="pkg-a")
    settings = reg.resolve({"debugish": given})
    assert settings["debugish"] is stored


@pytest.mark.parametrize("given", [2, -1, "1", 1.0])
def test_a_bool_setting_refuses_other_values(given: object) -> None:
    reg = SettingsRegistry()
    reg.add("debugish", default=False, type=bool, doc="d", owner="pkg-a")
    with pytest.raises(ConfigurationError, match=r"debugish=.*must be of type bool"):
        reg.resolve({"debugish": given})


def test_debug_given_as_1_turns_on_what_debug_implies() -> None:
    import squall.web

    app = squall.web.Application(debug=1, autoreload=False)
    assert app.settings["debug"] is True
    assert app.settings["serve_traceback"] is True and app.settings["autoreload"] is False


def test_validate_false_or_raising_refuses() -> None:
    with pytest.raises(ConfigurationError, match="size=-1"):
        make_registry().resolve({"size": -1})
    reg = SettingsRegistry()

    def must_be_even(value: int) -> None:
        if value % 2:
            raise ValueError("odd")

    reg.add("even", default=0, doc="d", owner="o", validate=must_be_even)
    with pytest.raises(ConfigurationError, match="odd"):
        reg.resolve({"even": 3})


def test_duplicate_declaration_names_both_owners() -> None:
    reg = make_registry()
    with pytest.raises(ConfigurationError, match="pkg-a and by pkg-b"):
        reg.add("size", default=1, doc="again", owner="pkg-b")


def test_registry_is_a_read_only_collection_of_settings() -> None:
    reg = make_registry()
    assert "size" in reg and len(reg) == 2 and list(reg) == ["size", "name"]
    assert reg["size"].owner == "pkg-a"


def test_debug_implies_settings_unless_given() -> None:
    settings = SettingsRegistry().resolve({"debug": True, "serve_traceback": False})
    assert settings["autoreload"] is True
    assert settings["compiled_template_cache"] is False
    assert settings["static_hash_cache"] is False
    assert settings["serve_traceback"] is False


def test_plugin_owned_key_without_its_plugin() -> None:
    with pytest.raises(MissingPluginError, match="squall-template"):
        SettingsRegistry().resolve({"template_path": "t"})


def test_stash_is_typed_per_key() -> None:
    counter: StashKey[int] = StashKey()
    names: StashKey[list[str]] = StashKey()
    stash = Stash()
    stash[counter] = 1
    assert stash[counter] == 1
    assert stash.get(names, []) == []
    assert stash.setdefault(names, ["a"]) == ["a"]
    assert stash.setdefault(names, ["b"]) == ["a"]
    assert counter in stash and len(stash) == 2
    del stash[counter]
    with pytest.raises(KeyError):
        stash[counter]
