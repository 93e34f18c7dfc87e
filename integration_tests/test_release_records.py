"""Independent versions: tools/releases.py (the `releases` and `release-record` nox sessions).

Each test copies the packages (sources, pyprojects, changelogs) into a scratch tree, records
their releases there, and changes that copy as a developer would, running the tool as a
process the way nox does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "releases.py"


def _releases(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), "--root", str(tree), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of packages/ whose every package has just been recorded as released."""
    for pkg in (ROOT / "packages").glob("*/pyproject.toml"):
        src, dst = pkg.parent, tmp_path / "packages" / pkg.parent.name
        shutil.copytree(src / "src", dst / "src", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "CHANGELOG.md"):
            shutil.copy(src / name, dst / name)
    names = sorted(p.name for p in (tmp_path / "packages").iterdir())
    # The root pyproject's uv sources, one per package (the tool's check of the real tree is
    # the `releases` session's job; these tests check the tool).
    sources = "".join(f"squall-{n} = {{ workspace = true, editable = false }}\n" for n in names)
    (tmp_path / "pyproject.toml").write_text(f"[tool.uv.sources]\n{sources}")
    result = _releases(tmp_path, "record", *names)
    assert result.returncode == 0, result.stderr
    return tmp_path


def _bump(tree: Path, name: str, version: str) -> None:
    path = tree / "packages" / name / "src" / "squall" / name / "_version.py"
    path.write_text(f'__version__ = "{version}"\n')


def test_a_recorded_tree_passes(tree):
    result = _releases(tree, "check")
    assert result.returncode == 0, result.stderr
    assert "squall-web" in result.stdout


def test_changed_code_with_the_same_version_fails_naming_the_package(tree):
    module = tree / "packages" / "web" / "src" / "squall" / "web" / "_routing.py"
    module.write_text(module.read_text() + "\n# changed\n")
    result = _releases(tree, "check")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: squall-web: its code changed since")
    assert "nox -s release-record -- web" in line
    # Recording the change under the old version is refused: it would hide the change.
    refused = _releases(tree, "record", "web")
    assert refused.returncode != 0 and "bump" in refused.stderr


def test_a_changed_dependency_list_counts_as_changed_code(tree):
    pyproject = tree / "packages" / "template" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"Jinja2>=3.1"', '"Jinja2>=3.1.2"'))
    result = _releases(tree, "check")
    assert result.returncode == 1
    assert result.stderr.startswith("error: squall-template: its code changed")


def test_a_bump_passes_once_its_changelog_entry_and_record_are_written(tree):
    module = tree / "packages" / "static" / "src" / "squall" / "static" / "_handler.py"
    module.write_text(module.read_text() + "\n# changed\n")
    _bump(tree, "static", "0.9.0")
    result = _releases(tree, "check")
    assert result.returncode == 1
    assert "squall-static: version 0.9.0 is not recorded" in result.stderr
    assert "has no '## 0.9.0' heading" in result.stderr
    assert _releases(tree, "record", "static").returncode != 0  # no changelog entry yet
    changelog = tree / "packages" / "static" / "CHANGELOG.md"
    changelog.write_text(
        re.sub(r"^## ", "## 0.9.0\n\n- changed\n\n## ", changelog.read_text(), count=1, flags=re.M)
    )
    recorded = _releases(tree, "record", "static")
    assert recorded.returncode == 0, recorded.stderr
    assert 'version = "0.9.0"' in (tree / "packages" / "static" / "RELEASE").read_text()
    final = _releases(tree, "check")
    assert final.returncode == 0, final.stderr


def test_a_lower_version_fails(tree):
    _bump(tree, "loop", "0.0.1")
    result = _releases(tree, "check")
    assert result.returncode == 1
    assert "squall-loop: _version.py says 0.0.1, lower than the released" in result.stderr


def test_a_sibling_range_that_excludes_the_tree_version_fails(tree):
    pyproject = tree / "packages" / "options" / "pyproject.toml"
    text = pyproject.read_text()
    (web_range,) = re.findall(r'"squall-web[^"]*"', text)
    pyproject.write_text(text.replace(web_range, '"squall-web>=5.0,<6"'))
    result = _releases(tree, "check")
    assert result.returncode == 1
    assert "squall-options: needs squall-web<6,>=5.0 but the tree has squall-web" in result.stderr


def test_a_package_without_a_uv_source_in_the_root_pyproject_fails(tree):
    root = tree / "pyproject.toml"
    text = root.read_text()
    (line,) = re.findall(r"^squall-static = .*\n", text, re.M)
    root.write_text(text.replace(line, ""))
    result = _releases(tree, "check")
    assert result.returncode == 1
    (error,) = result.stderr.splitlines()
    assert error.startswith("error: squall-static: no [tool.uv.sources] entry")
