"""The public names of squall.websocket are exactly ``__all__``."""

from __future__ import annotations

import pytest

import squall.websocket


def test_all_lists_the_public_names() -> None:
    public = {n for n in dir(squall.websocket) if not n.startswith("_")} | {"__version__"}
    assert set(squall.websocket.__all__) == public - {"annotations"}


def test_version_is_a_string() -> None:
    assert isinstance(squall.websocket.__version__, str)


def test_public_names_load_on_first_access_and_unknown_names_fail() -> None:
    assert squall.websocket.WebSocketHandler.__module__ == "squall.websocket._handler"
    assert squall.websocket.frames.__name__ == "squall.websocket._frames"
    assert isinstance(squall.websocket.speedups_enabled(), bool)
    with pytest.raises(AttributeError, match="no_such_name"):
        squall.websocket.no_such_name  # noqa: B018 - the access is the test
