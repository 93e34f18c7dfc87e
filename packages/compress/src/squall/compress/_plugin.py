"""The squall.web plugin of squall-compress, found through the ``squall.web`` entry points.

It declares Tornado's ``compress_response`` and ``gzip`` and squall's ``compress_*``
settings, checks them once per Application, and — only when compression is on — gives web
one transform factory. An application with compression off has no transform at all, so
its requests pay nothing.

Pass it explicitly with ``Application(..., plugins=[squall.compress.plugin])`` when
entry-point autoloading is off.

Start-up cost: this module is imported at every ``Application()`` (entry points), so it
imports no codec: the codecs' libraries (Zstandard, Brotli) and the transform cost ≈ 6-9 ms
(``python -X importtime``). ``_config`` (which imports them) is imported by
``squall_web_configure`` only when compression is on, so a missing library is still
reported at construction, naming the extra to install.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from squall.web import ConfigurationError, StashKey, hookimpl

if TYPE_CHECKING:
    from squall.compress._transform import CompressConfig, CompressTransform
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
    # A function-level import on purpose (see the module docstring): only an application
    # with compression on pays for the codecs' libraries.
    from squall.compress._config import resolve_config

    app.stash[_CONFIG] = resolve_config(settings)


@hookimpl
def squall_web_transforms(app: Application) -> Sequence[Callable[..., Any]] | None:
    """The compressing transform factory, or nothing when compression is off."""
    try:
        config = app.stash[_CONFIG]
    except KeyError:  # compression is off: no transform, nothing per request
        return None
    # Imported by squall_web_configure already (through _config): no cost here.
    from squall.compress._transform import CompressTransform

    factory: Callable[[HTTPServerRequest], CompressTransform] = partial(
        CompressTransform, config=config
    )
    return (factory,)
