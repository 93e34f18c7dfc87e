"""Declared, validated settings and the typed per-application ``Stash``.

Strategy: every package declares the settings it owns through the
``squall_web_add_settings(registry)`` hook (as pytest plugins declare their options with
``pytest_addoption``). ``Application(**settings)`` then checks the keys it knows (type and
``validate``) and fills in defaults; keys nobody declared stay allowed, because users keep
their own configuration in ``settings`` as Tornado users do — except the keys squall knows
and nobody loaded declares: Tornado's settings (``_tornado_settings``: refused naming the
package to install, or saying squall does not honour them yet) and the settings of squall's
own plugin packages (``template_env`` …), which fail naming the package to install. A
setting is never accepted and then ignored.

Plugins may also supply *values* for settings the user did not give
(``squall_web_setting_defaults``, e.g. squall-options' ``--debug``): they are merged under the
user's keys by :func:`merge_setting_defaults` before :meth:`SettingsRegistry.resolve`.

``debug`` is expanded before validation (an explicit setting always wins over what
``debug`` implies), so plugins see the final values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, NamedTuple, TypeVar, cast

from squall.web._errors import ConfigurationError, MissingPluginError, install_hint
from squall.web._tornado_settings import refusal

T = TypeVar("T")

# squall's own settings (not Tornado's: those are in _tornado_settings) owned by plugin
# packages that web knows about by name, so that using one without its package installed
# fails with the package to install (never a silent no-op).
PLUGIN_OWNED_SETTINGS: dict[str, str] = {
    "static_follow_symlinks": "squall-static",
    "template_env": "squall-template",
    "template_globals": "squall-template",
    "template_filters": "squall-template",
    "template_syntax": "squall-template",
    "compress_encodings": "squall-compress",
    "compress_levels": "squall-compress",
    "compress_min_length": "squall-compress",
    "compress_types": "squall-compress",
}

# What ``debug=True`` turns on, each overridable by giving the setting explicitly.
DEBUG_IMPLIES: dict[str, bool] = {
    "autoreload": True,
    "compiled_template_cache": False,
    "static_hash_cache": False,
    "serve_traceback": True,
}


# A NamedTuple, not a dataclass: ≈ 0.1 ms to create at import instead of ≈ 0.5-1 ms.
class Setting(NamedTuple):
    """One declared setting: its name, default, accepted type(s), doc and owning package."""

    name: str
    default: Any
    type: type | tuple[type, ...] | None
    doc: str
    owner: str
    validate: Callable[[Any], object] | None = None

    def check(self, value: Any) -> None:
        """Raise ConfigurationError when ``value`` is not acceptable for this setting."""
        if self.type is not None and value is not None and not isinstance(value, self.type):
            expected = (
                " or ".join(t.__name__ for t in self.type)
                if isinstance(self.type, tuple)
                else self.type.__name__
            )
            raise ConfigurationError(
                f"setting {self.name}={value!r} must be of type {expected} "
                f"(declared by {self.owner})"
            )
        if self.validate is not None:
            try:
                ok = self.validate(value)
            except ConfigurationError:
                raise
            except Exception as exc:
                raise ConfigurationError(
                    f"setting {self.name}={value!r} is invalid: {exc} (declared by {self.owner})"
                ) from exc
            if ok is False:
                raise ConfigurationError(
                    f"setting {self.name}={value!r} is invalid (declared by {self.owner})"
                )


class SettingsRegistry:
    """The settings declared by web and its plugins for one Application.

    Plugins receive it in ``squall_web_add_settings(registry)`` and call :meth:`add`.
    """

    def __init__(self) -> None:
        self._settings: dict[str, Setting] = {}

    def add(
        self,
        name: str,
        *,
        default: Any,
        type: type | tuple[type, ...] | None = None,  # noqa: A002 - mirrors the hook contract
        doc: str,
        owner: str,
        validate: Callable[[Any], object] | None = None,
    ) -> None:
        """Declare the setting ``name``.

        Args:
            name: the key in ``Application(**settings)`` / ``app.settings``.
            default: its value when the user does not give it.
            type: accepted type or tuple of types (``None`` is always accepted); None: any.
            doc: one line saying what it does (shown in errors and docs).
            owner: the distribution that declares it (``"squall-static"``).
            validate: optional ``f(value)``; returning False or raising refuses the value.

        Raises:
            ConfigurationError: ``name`` was already declared (the message names both owners).
        """
        old = self._settings.get(name)
        if old is not None:
            raise ConfigurationError(
                f"setting {name!r} declared twice: by {old.owner} and by {owner}"
            )
        self._settings[name] = Setting(name, default, type, doc, owner, validate)

    def __contains__(self, name: object) -> bool:
        return name in self._settings

    def __getitem__(self, name: str) -> Setting:
        return self._settings[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings)

    def __len__(self) -> int:
        return len(self._settings)

    def resolve(self, given: dict[str, Any]) -> dict[str, Any]:
        """Validate ``given`` and return the settings dict (defaults other than None filled in).

        Raises:
            MissingPluginError: a plugin-owned key is given but its plugin is not loaded.
            ConfigurationError: a declared key has a bad value, or a Tornado setting that
                squall does not honour (yet) is given.
        """
        settings = dict(given)
        if settings.get("debug"):
            for key, value in DEBUG_IMPLIES.items():
                settings.setdefault(key, value)
        for key in settings:
            if key not in self._settings:
                refuse_undeclared(key)
        for name, setting in self._settings.items():
            if name in settings:
                value = settings[name]
                if setting.type is bool and type(value) is int and value in (0, 1):
                    # debug=int(os.environ.get("DEBUG", 0)), as Tornado apps write: 0 and 1
                    # mean False and True (stored as such); other ints stay refused.
                    settings[name] = value = bool(value)
                setting.check(value)
            elif setting.default is not None:
                # A setting without a value stays absent, as in Tornado: handler code reads
                # it as `settings.get("login_url", "/login")`, and its own default must win.
                settings[name] = setting.default
        return settings


def refuse_undeclared(key: str) -> None:
    """Raise when ``key``, declared by no loaded plugin, must not be kept (module docstring).

    Raises:
        MissingPluginError: installing or loading a package would make ``key`` valid.
        ConfigurationError: ``key`` is a Tornado setting squall does not honour (yet).
    """
    package = PLUGIN_OWNED_SETTINGS.get(key)
    if package is not None:
        raise MissingPluginError(
            f"the setting {key!r} needs the {package} package: {install_hint(package)}; "
            f"or pass its plugin with Application(..., plugins=[...])"
        )
    refused = refusal(key)
    if refused is not None:
        message, missing_plugin = refused
        raise (MissingPluginError if missing_plugin else ConfigurationError)(message)


def merge_setting_defaults(
    given: Mapping[str, Any], supplied: Iterable[tuple[str, object]]
) -> dict[str, Any]:
    """The user's settings over the values plugins supplied (``squall_web_setting_defaults``).

    Args:
        given: the settings given to ``Application(**settings)``; they always win.
        supplied: ``(plugin name, mapping)`` pairs in registration order; a later plugin's
            value replaces an earlier one's.

    Raises:
        ConfigurationError: a plugin returned something that is not a mapping with str keys.
    """
    merged: dict[str, Any] = {}
    for owner, values in supplied:
        if not isinstance(values, Mapping) or not all(isinstance(k, str) for k in values):
            raise ConfigurationError(
                f"squall_web_setting_defaults of {owner} returned {values!r}, "
                "not a mapping of setting names to values"
            )
        merged.update(values)
    merged.update(given)
    return merged


class StashKey(Generic[T]):
    """A typed key of a :class:`Stash`; create one per piece of state, at module level.

    >>> COUNTER: StashKey[int] = StashKey()
    """

    __slots__ = ()


class Stash:
    """Typed per-application state for plugins (``app.stash[KEY] = value``).

    Keys are :class:`StashKey` objects, so two plugins can never collide on a name and a
    type checker knows the type of each value.
    """

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: dict[StashKey[Any], object] = {}

    def __setitem__(self, key: StashKey[T], value: T) -> None:
        self._data[key] = value

    def __getitem__(self, key: StashKey[T]) -> T:
        return cast(T, self._data[key])

    def get(self, key: StashKey[T], default: T) -> T:
        """The value of ``key``, or ``default`` when it was never set."""
        try:
            return self[key]
        except KeyError:
            return default

    def setdefault(self, key: StashKey[T], default: T) -> T:
        """The value of ``key``, setting it to ``default`` first when it was never set."""
        try:
            return self[key]
        except KeyError:
            self[key] = default
            return default

    def __delitem__(self, key: StashKey[T]) -> None:
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)
