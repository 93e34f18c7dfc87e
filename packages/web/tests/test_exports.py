"""The public facade of squall.web is exactly its ``__all__``."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import squall.web


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.web.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(squall.web) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade
    public = {n for n in public if type(getattr(squall.web, n)).__name__ != "module"}
    assert set(squall.web.__all__) - {"__version__"} == public


def test_escape_and_locale_are_attributes_after_a_plain_import() -> None:
    # Tornado code reaches tornado.escape after importing only tornado.web.
    code = (
        "import squall.web; "
        "print(squall.web.escape.xhtml_escape('<b>'), squall.web.locale.get('en_US').code)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["&lt;b&gt;", "en_US"]


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_module'"):
        squall.web.no_such_module  # noqa: B018 - the access is the test


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("UIModule", "squall.template.UIModule"),
        ("StaticFileHandler", "squall.static.StaticFileHandler"),
        ("GZipContentEncoding", "the compress_response=True setting"),
    ],
)
def test_a_tornado_web_name_that_moved_to_a_plugin_says_where(name: str, where: str) -> None:
    with pytest.raises(AttributeError, match=f"tornado.web.{name} is {where}"):
        getattr(squall.web, name)
