"""Whether this installation runs the mypyc-compiled request path."""

from __future__ import annotations

import importlib.machinery

from squall.http import _protocol


def compiled() -> bool:
    """True when squall.http's request path runs as mypyc-compiled C extensions.

    A wheel built with ``HATCH_BUILD_HOOKS_ENABLE=1`` (see the package's README) holds
    them; every other install, editable ones included, runs the pure-Python modules.
    """
    origin = _protocol.__file__ or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
