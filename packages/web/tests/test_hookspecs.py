"""Every hook specification is documented: in its docstring and in the README."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from squall.web import hookspecs

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
SPECS = sorted(
    name
    for name, obj in vars(hookspecs).items()
    if name.startswith("squall_web_") and inspect.isfunction(obj)
)


def test_there_are_hookspecs() -> None:
    assert len(SPECS) >= 9


@pytest.mark.parametrize("name", SPECS)
def test_hookspec_docstring_says_when_and_what_it_returns(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Called" in doc, f"{name}: say when it is called"
    assert "Returns:" in doc, f"{name}: say what a return value means"


@pytest.mark.parametrize("name", SPECS)
def test_hookspec_is_listed_in_the_readme(name: str) -> None:
    assert f"`{name}" in README, f"{name} is missing from packages/web/README.md"


@pytest.mark.parametrize("name", SPECS)
def test_hookspec_arguments_are_typed(name: str) -> None:
    sig = inspect.signature(getattr(hookspecs, name))
    assert all(p.annotation is not inspect.Parameter.empty for p in sig.parameters.values())
    assert sig.return_annotation is not inspect.Signature.empty
