"""The public facade of squall.loop is exactly its ``__all__``."""

from __future__ import annotations

import re

import squall.loop


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.loop.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(squall.loop) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade
    public = {n for n in public if type(getattr(squall.loop, n)).__name__ != "module"}
    assert set(squall.loop.__all__) - {"__version__"} == public
