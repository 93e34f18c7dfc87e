"""The squall.web plugin of squall-compress, found through the ``squall.web`` entry points.

It declares Tornado's ``compress_response`` and ``gzip`` and squall's ``compress_*``
settings, checks them once per Application, and — only when compression is on — gives web
one transform factory. An application with compression off has no transform at all, so
its requests pay nothing.

Pass it explicitly with ``Application(..., plugins=[squall.compress.plugin])`` when
entry-point autoloading is off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from squall.compress._codecs import CODECS, KNOWN
from squall.compress._transform import CompressConfig, CompressTransform
from squall.compress._types import make_predicate
from squall.web import ConfigurationError, StashKey, hookimpl

if TYPE_CHECKING:
    from squall.http import HTTPServerRequest
    from squall.web import Application
    from squall.web._settings import SettingsRegistry

OWNER = "squall-compress"

DEFAULT_MIN_LENGTH = 1024
"""Tornado's ``GZipContentEncoding.MIN_LENGTH``: shorter bodies rarely gain from it."""

_CONFIG: StashKey[CompressConfig] = StashKey()


def _is_str_sequence(value: object) -> bool:
    return value is None or (
        isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    )


def _is_levels(value: object) -> bool:
    return value is None or (
        isinstance(value, dict)
        and all(isinstance(k, str) and type(v) is int for k, v in value.items())
    )


def _is_length(value: object) -> bool:
    return type(value) is int and value >= 0


@hookimpl
def squall_web_add_settings(registry: SettingsRegistry) -> None:
    """Declare ``compress_response``, ``gzip`` and the ``compress_*`` settings."""
    add = registry.add
    add(
        "compress_response",
        default=False,
        type=bool,
        owner=OWNER,
        doc="compress responses (gzip; Brotli and Zstandard when installed), as Tornado",
    )
    add(
        "gzip",
        default=False,
        type=bool,
        owner=OWNER,
        doc="Tornado's old name of compress_response (either turns compression on)",
    )
    add(
        "compress_encodings",
        default=None,
        type=(list, tuple),
        owner=OWNER,
        validate=_is_str_sequence,
        doc="codings offered, most preferred first (default: zstd, br, gzip as installed)",
    )
    add(
        "compress_levels",
        default=None,
        type=dict,
        owner=OWNER,
        validate=_is_levels,
        doc='level per coding, e.g. {"gzip": 6, "br": 4, "zstd": 3} (those are the defaults)',
    )
    add(
        "compress_min_length",
        default=DEFAULT_MIN_LENGTH,
        type=int,
        owner=OWNER,
        validate=_is_length,
        doc="smallest body finished in one piece that is compressed (streams always are)",
    )
    add(
        "compress_types",
        default=None,
        type=(list, tuple),
        owner=OWNER,
        validate=_is_str_sequence,
        doc="media types compressed besides text/*, JSON, JavaScript, XML, SVG and the rest",
    )


def _missing(coding: str, setting: str) -> ConfigurationError:
    extra = KNOWN[coding]
    return ConfigurationError(
        f"{setting} names {coding!r}, which needs the {extra!r} extra: "
        f"pip install 'squall-compress[{extra}]' (from a clone of squall's repository: "
        f"uv pip install './packages/compress[{extra}]')"
    )


def resolve_config(settings: Mapping[str, Any]) -> CompressConfig:
    """The compression of an application with these settings (compression on).

    Raises:
        ConfigurationError: an unknown coding, one whose library is not installed, a level
            out of range.
    """
    wanted = settings.get("compress_encodings")
    if wanted is None:
        names: tuple[str, ...] = tuple(CODECS)
    else:
        names = tuple(dict.fromkeys(n.strip().lower() for n in wanted))
        if not names:
            raise ConfigurationError("compress_encodings is empty: name at least one coding")
    for name in names:
        if name not in KNOWN:
            raise ConfigurationError(
                f"compress_encodings names {name!r}; squall-compress knows "
                f"{', '.join(sorted(KNOWN))}"
            )
        if name not in CODECS:
            raise _missing(name, "compress_encodings")
    levels = {name: CODECS[name].default_level for name in names}
    for name, level in (settings.get("compress_levels") or {}).items():
        if name not in KNOWN:
            raise ConfigurationError(
                f"compress_levels names {name!r}; squall-compress knows {', '.join(sorted(KNOWN))}"
            )
        if name not in CODECS:
            raise _missing(name, "compress_levels")
        if name not in names:
            raise ConfigurationError(
                f"compress_levels gives a level to {name!r}, which compress_encodings "
                "does not offer"
            )
        allowed = CODECS[name].levels
        if level not in allowed:
            raise ConfigurationError(
                f"compress_levels[{name!r}] = {level}: must be {allowed.start}..{allowed.stop - 1}"
            )
        levels[name] = level
    return CompressConfig(
        codecs={name: CODECS[name] for name in names},
        names=names,
        levels=levels,
        min_length=settings.get("compress_min_length", DEFAULT_MIN_LENGTH),
        types=make_predicate(settings.get("compress_types") or ()),
    )


_TUNING = ("compress_encodings", "compress_levels", "compress_types")


@hookimpl
def squall_web_configure(app: Application) -> None:
    """Check the settings; with compression on, keep the resolved configuration."""
    settings = app.settings
    if not (settings.get("compress_response") or settings.get("gzip")):
        given = [name for name in _TUNING if settings.get(name) is not None]
        if settings.get("compress_min_length", DEFAULT_MIN_LENGTH) != DEFAULT_MIN_LENGTH:
            given.append("compress_min_length")
        if given:
            # Set and silently unused would look configured while it is not.
            raise ConfigurationError(
                f"{', '.join(given)} given but compression is off: add compress_response=True"
            )
        return
    app.stash[_CONFIG] = resolve_config(settings)


@hookimpl
def squall_web_transforms(app: Application) -> Sequence[Callable[..., Any]] | None:
    """The compressing transform factory, or nothing when compression is off."""
    try:
        config = app.stash[_CONFIG]
    except KeyError:  # compression is off: no transform, nothing per request
        return None
    factory: Callable[[HTTPServerRequest], CompressTransform] = partial(
        CompressTransform, config=config
    )
    return (factory,)
