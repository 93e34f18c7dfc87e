"""The public facade of squall.options is exactly its ``__all__``."""

from __future__ import annotations

import re

import squall.options


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.options.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(squall.options) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade
    public = {n for n in public if type(getattr(squall.options, n)).__name__ != "module"}
    assert set(squall.options.__all__) - {"__version__"} == public
