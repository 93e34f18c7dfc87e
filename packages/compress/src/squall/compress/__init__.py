"""squall-compress: gzip, Brotli and Zstandard responses for squall.web.

Installed, it is a squall.web plugin (entry point ``squall.web``): an application built with
``compress_response=True`` (or Tornado's old ``gzip=True``) compresses its responses the
way Tornado does for gzip, and also offers ``br`` (``squall-compress[brotli]``) and
``zstd`` (Python 3.14's ``compression.zstd``, or ``squall-compress[zstd]``), chosen from
``Accept-Encoding``. It is built on web's output transforms (``squall_web_transforms``).
"""

from __future__ import annotations

from squall.compress import _plugin as plugin
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
