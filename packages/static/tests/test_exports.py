"""The public facade of squall.static is exactly its ``__all__``."""

from __future__ import annotations

import re

import squall.static


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.static.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(squall.static) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade, except ``plugin`` (the
    # web plugin module, public so that it can be passed to Application(plugins=[...]))
    public = {
        n for n in public if n == "plugin" or type(getattr(squall.static, n)).__name__ != "module"
    }
    assert set(squall.static.__all__) - {"__version__"} == public
