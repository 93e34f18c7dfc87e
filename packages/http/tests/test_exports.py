"""The public facade of squall.http is exactly its ``__all__``."""

from __future__ import annotations

import re

import squall.http


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.http.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(squall.http) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade
    public = {n for n in public if type(getattr(squall.http, n)).__name__ != "module"}
    assert set(squall.http.__all__) - {"__version__"} == public
