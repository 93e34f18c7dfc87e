"""squall-compress: gzip, Brotli and Zstandard responses for squall.web.

Installed, it is a squall.web plugin (entry point ``squall.web``): an application built with
``compress_response=True`` (or Tornado's old ``gzip=True``) compresses its responses the
way Tornado does for gzip, and also offers ``br`` (``squall-compress[brotli]``) and
``zstd`` (Python 3.14's ``compression.zstd``, or ``squall-compress[zstd]``), chosen from
``Accept-Encoding``. It is built on web's output transforms (``squall_web_transforms``).

Every public name except ``plugin`` is loaded on first access (PEP 562 ``__getattr__``):
the codecs import Zstandard and Brotli (≈ 6 ms), and this package is imported at every
``Application()`` through the plugin's entry point, compression on or not.
"""

from __future__ import annotations

import importlib
import typing

from squall.compress import _plugin as plugin

if typing.TYPE_CHECKING:
    from squall.compress._codecs import CODECS, Codec, Encoder
    from squall.compress._transform import CompressConfig, CompressTransform
    from squall.compress._types import COMPRESSIBLE_TYPES, is_compressible
    from squall.compress._version import __version__

__all__ = [
    "CODECS",
    "COMPRESSIBLE_TYPES",
    "Codec",
    "CompressConfig",
    "CompressTransform",
    "Encoder",
    "__version__",
    "is_compressible",
    "plugin",
]

# Public name -> the module defining it, imported on first access (see the docstring).
_LAZY = {
    "CODECS": "squall.compress._codecs",
    "Codec": "squall.compress._codecs",
    "Encoder": "squall.compress._codecs",
    "CompressConfig": "squall.compress._transform",
    "CompressTransform": "squall.compress._transform",
    "COMPRESSIBLE_TYPES": "squall.compress._types",
    "is_compressible": "squall.compress._types",
    "__version__": "squall.compress._version",  # one module fewer at every Application()
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'squall.compress' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses are plain attribute lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
