"""The public names of squall.websocket are exactly ``__all__``."""

from __future__ import annotations

import squall.websocket


def test_all_lists_the_public_names() -> None:
    public = {n for n in dir(squall.websocket) if not n.startswith("_")} | {"__version__"}
    assert set(squall.websocket.__all__) == public - {"annotations"}


def test_version_is_a_string() -> None:
    assert isinstance(squall.websocket.__version__, str)
