"""The public facade of squall.template is exactly its ``__all__``."""

from __future__ import annotations

import re

import pytest

import squall.template


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.template.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    for name in squall.template.__all__:
        getattr(squall.template, name)  # the names loaded on first access too
    public = {n for n in vars(squall.template) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade, except ``plugin`` (the
    # web plugin module, public so that it can be passed to Application(plugins=[...]))
    public = {
        n for n in public if n == "plugin" or type(getattr(squall.template, n)).__name__ != "module"
    }
    assert set(squall.template.__all__) - {"__version__"} == public


def test_names_that_need_jinja2_are_loaded_on_first_access() -> None:
    assert squall.template.get_environment.__module__ == "squall.template._render"
    assert issubclass(squall.template.TemplateNotFoundError, LookupError)
    assert {"get_environment", "TemplateNotFoundError"} <= set(dir(squall.template))
    with pytest.raises(AttributeError, match="no_such_name"):
        squall.template.no_such_name  # noqa: B018 - the access is the test
