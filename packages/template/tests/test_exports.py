"""The public facade of squall.template is exactly its ``__all__``."""

from __future__ import annotations

import re

import squall.template


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.template.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(squall.template) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade
    public = {n for n in public if type(getattr(squall.template, n)).__name__ != "module"}
    assert set(squall.template.__all__) - {"__version__"} == public
