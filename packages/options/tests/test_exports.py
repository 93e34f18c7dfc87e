"""The public facade of squall.options is exactly its ``__all__``."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import squall.options


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.options.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    for name in squall.options.__all__:
        getattr(squall.options, name)  # loaded on first access (PEP 562)
    public = {n for n in vars(squall.options) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade
    public = {n for n in public if type(getattr(squall.options, n)).__name__ != "module"}
    assert set(squall.options.__all__) - {"__version__"} == public


def test_public_names_load_on_first_access_and_unknown_names_fail() -> None:
    assert squall.options.define.__module__ == "squall.options._globals"
    assert "OptionParser" in dir(squall.options)
    with pytest.raises(AttributeError, match="no_such_name"):
        squall.options.no_such_name  # noqa: B018 - the access is the test


def test_importing_the_package_and_its_web_plugin_loads_no_parser() -> None:
    # The plugin is imported at every Application(): it must stay cheap (start-up time).
    code = (
        "import sys, squall.options._plugin, squall.web; squall.web.Application(); "
        "print(sorted(m for m in ('squall.options._parser', 'squall.options._globals', 'tomllib') "
        "if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout == "[]\n"
