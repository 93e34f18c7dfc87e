"""The public facade of squall.httpclient is exactly its ``__all__``."""

from __future__ import annotations

import re

import squall.httpclient


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.httpclient.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        n
        for n, v in vars(squall.httpclient).items()
        if not n.startswith("_") and type(v).__name__ != "module"
    } - {"annotations"}
    assert set(squall.httpclient.__all__) - {"__version__"} == public


def test_tornado_names_are_all_there() -> None:
    for name in (
        "AsyncHTTPClient HTTPClient HTTPRequest HTTPResponse HTTPClientError HTTPError"
    ).split():
        assert hasattr(squall.httpclient, name)
