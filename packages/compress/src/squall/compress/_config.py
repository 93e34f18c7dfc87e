"""An application's compression, resolved once from its settings (compression on).

Kept apart from ``_plugin`` because resolving needs the codecs, and importing ``_codecs``
imports the optional libraries (Zstandard and Brotli: ≈ 6 ms, ``python -X importtime``).
The plugin module is imported at every ``Application()`` through its entry point; it imports
this module only for an application that turns compression on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from squall.compress._codecs import CODECS, KNOWN
from squall.compress._transform import CompressConfig
from squall.compress._types import make_predicate
from squall.web import ConfigurationError


def _missing(coding: str, setting: str) -> ConfigurationError:
    extra = KNOWN[coding]
    return ConfigurationError(
        f"{setting} names {coding!r}, which needs the {extra!r} extra: "
        f"pip install 'squall-compress[{extra}]' (from a clone of squall's repository: "
        f"uv pip install './packages/compress[{extra}]')"
    )


def resolve_config(settings: Mapping[str, Any]) -> CompressConfig:
    """The compression of an application with these settings (compression on).

    Args:
        settings: the application's settings, defaults filled in (``app.settings``).

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
        min_length=settings["compress_min_length"],
        types=make_predicate(settings.get("compress_types") or ()),
    )
