"""The public facade of squall.static is exactly its ``__all__``."""

from __future__ import annotations

import re

import pytest

import squall.static


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.static.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    for name in squall.static.__all__:
        getattr(squall.static, name)  # the names loaded on first access too
    public = {n for n in vars(squall.static) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade, except ``plugin`` (the
    # web plugin module, public so that it can be passed to Application(plugins=[...]))
    public = {
        n for n in public if n == "plugin" or type(getattr(squall.static, n)).__name__ != "module"
    }
    assert set(squall.static.__all__) - {"__version__"} == public


def test_public_names_load_on_first_access_and_unknown_names_fail() -> None:
    assert squall.static.StaticFileHandler.__module__ == "squall.static._handler"
    assert squall.static.make_static_url == squall.static.StaticFileHandler.make_static_url
    assert {"StaticFileHandler", "make_static_url"} <= set(dir(squall.static))
    with pytest.raises(AttributeError, match="no_such_name"):
        squall.static.no_such_name  # noqa: B018 - the access is the test
