"""Build and check the sdist and wheel of every squall package (what `nox -s build` runs).

    python tools/build_dists.py [--out DIR] [NAME ...]

For each package of ``packages/`` (or the NAMEs given) this builds an sdist and a wheel
straight from the source tree into DIR (``dist/`` by default, after removing that
package's older files there), then checks them:

- ``twine check --strict``: the metadata is valid and the README renders;
- the wheel holds ``squall/NAME/py.typed``, no ``squall/__init__.py`` (the namespace is
  shared by every package, PEP 420), nothing outside ``squall/NAME/`` and its dist-info,
  and no test files;
- its name, version, dependencies and entry points are the ones ``pyproject.toml`` and
  ``_version.py`` declare;
- a wheel built from the sdist has the same files, byte for byte (RECORD) and the same
  metadata, so a user who installs from the sdist gets what a wheel user gets.

Every problem found is printed, and the exit status is 1 if there was any. The build runs
``uv build`` (``uv`` on PATH, or ``python -m uv``) and twine as ``python -m twine``
(twine brings ``packaging``, which the checks use too).
"""

from __future__ import annotations

import argparse
import configparser
import csv
import io
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGES_DIR = ROOT / "packages"

# Paths a wheel must never ship: the packages' tests stay in the sdist only.
# Files a package may ship outside its own squall/NAME/: two wheels holding the same path
# would overwrite each other, so each such path has exactly one owner (`python -m squall`
# lives in squall-http, which declares no pytest plugin: see that module's docstring).
OUTSIDE_OWN_DIR = {"http": {"squall/__main__.py"}}
TEST_FILE = re.compile(r"(^|/)(tests?|testing_data)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")


def package_names() -> list[str]:
    """Every package directory of the monorepo (the ones with a pyproject.toml)."""
    return sorted(p.parent.name for p in PACKAGES_DIR.glob("*/pyproject.toml"))


def declared_version(name: str) -> str:
    """The version in ``src/squall/NAME/_version.py`` (the one line hatchling reads)."""
    text = (PACKAGES_DIR / name / "src" / "squall" / name / "_version.py").read_text()
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
    if not match:
        raise SystemExit(f"packages/{name}: no __version__ line in _version.py")
    return match.group(1)


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}{result.stderr}"
        )


@dataclass
class Wheel:
    """What the checks need to know of one wheel file."""

    path: Path
    files: list[str]
    record: set[tuple[str, str]]
    metadata: str
    entry_points: str

    @classmethod
    def read(cls, path: Path) -> Wheel:
        with zipfile.ZipFile(path) as zf:
            files = zf.namelist()
            (info,) = {
                f.split("/", 1)[0] for f in files if f.split("/", 1)[0].endswith(".dist-info")
            }
            record_text = zf.read(f"{info}/RECORD").decode()
            metadata = zf.read(f"{info}/METADATA").decode()
            ep_name = f"{info}/entry_points.txt"
            entry_points = zf.read(ep_name).decode() if ep_name in files else ""
        # RECORD lists itself without a hash; every other row is (path, sha256, size).
        record = {(row[0], row[1]) for row in csv.reader(io.StringIO(record_text)) if row}
        return cls(path, files, record, metadata, entry_points)


def _entry_points(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return {s: {k: v.strip() for k, v in parser[s].items()} for s in parser.sections()}


def _declared_entry_points(project: dict[str, object]) -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    eps = project.get("entry-points", {})
    assert isinstance(eps, dict)
    for group, items in eps.items():
        groups[group] = dict(items)
    for key, group in (("scripts", "console_scripts"), ("gui-scripts", "gui_scripts")):
        items = project.get(key)
        if isinstance(items, dict):
            groups[group] = dict(items)
    return groups


def _requirement_key(text: str) -> str:
    """A requirement in one canonical form, so pyproject's and METADATA's spellings compare."""
    req = Requirement(text)
    spec = ",".join(sorted(str(s) for s in req.specifier))
    extras = ",".join(sorted(req.extras))
    marker = f";{req.marker}" if req.marker else ""
    return f"{canonicalize_name(req.name)}[{extras}]{spec}{marker}"


def check_wheel(name: str, wheel: Wheel) -> list[str]:
    """Problems of the wheel of packages/NAME against what its pyproject declares."""
    problems: list[str] = []
    where = f"{wheel.path.name}"
    with open(PACKAGES_DIR / name / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    if f"squall/{name}/py.typed" not in wheel.files:
        problems.append(f"{where}: no squall/{name}/py.typed (type checkers would ignore it)")
    if "squall/__init__.py" in wheel.files:
        problems.append(f"{where}: ships squall/__init__.py (breaks the shared namespace)")
    for path in wheel.files:
        top = path.split("/", 1)[0]
        if top.endswith(".dist-info"):
            continue
        if not path.startswith(f"squall/{name}/") and path not in OUTSIDE_OWN_DIR.get(name, ()):
            problems.append(f"{where}: {path} is outside squall/{name}/")
        if TEST_FILE.search(path):
            problems.append(f"{where}: ships the test file {path}")
    meta = HeaderParser().parsestr(wheel.metadata)
    if meta["Name"] != project["name"]:
        problems.append(f"{where}: Name is {meta['Name']!r}, pyproject says {project['name']!r}")
    if meta["Version"] != declared_version(name):
        problems.append(
            f"{where}: Version is {meta['Version']!r}, _version.py says {declared_version(name)!r}"
        )
    requires = {
        _requirement_key(r) for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r
    }
    declared = {_requirement_key(r) for r in project.get("dependencies", [])}
    if requires != declared:
        problems.append(
            f"{where}: Requires-Dist {sorted(requires)} differ from the pyproject's "
            f"dependencies {sorted(declared)}"
        )
    got = _entry_points(wheel.entry_points)
    want = _declared_entry_points(project)
    if got != want:
        problems.append(f"{where}: entry points {got} differ from the pyproject's {want}")
    return problems


def compare_rebuilt(direct: Wheel, rebuilt: Wheel) -> list[str]:
    """Problems where the wheel built from the sdist differs from the direct one."""
    problems: list[str] = []
    where = f"{direct.path.name} (from the sdist)"
    only_direct = sorted(set(direct.files) - set(rebuilt.files))
    only_rebuilt = sorted(set(rebuilt.files) - set(direct.files))
    if only_direct:
        problems.append(f"{where}: missing {only_direct}")
    if only_rebuilt:
        problems.append(f"{where}: has extra files {only_rebuilt}")
    changed = sorted(p for p, _ in direct.record ^ rebuilt.record if p in rebuilt.files)
    if changed and not (only_direct or only_rebuilt):
        problems.append(f"{where}: different content in {sorted(set(changed))}")
    if direct.metadata != rebuilt.metadata:
        problems.append(f"{where}: METADATA differs")
    if direct.entry_points != rebuilt.entry_points:
        problems.append(f"{where}: entry_points.txt differs")
    return problems


def build(name: str, out: Path, scratch: Path) -> list[str]:
    """Build packages/NAME into `out` and return the problems found in its dists."""
    for old in out.glob(f"squall_{name}-*"):
        old.unlink()
    source = PACKAGES_DIR / name
    # --no-sources: the dists must carry the standard metadata users get from an index.
    _run(
        [
            *_uv(),
            "build",
            "--quiet",
            "--no-sources",
            "--sdist",
            "--wheel",
            "-o",
            str(out),
            str(source),
        ]
    )
    (sdist,) = out.glob(f"squall_{name}-*.tar.gz")
    (wheel_path,) = out.glob(f"squall_{name}-*.whl")
    rebuilt_dir = scratch / name
    _run(
        [*_uv(), "build", "--quiet", "--no-sources", "--wheel", "-o", str(rebuilt_dir), str(sdist)]
    )
    (rebuilt_path,) = rebuilt_dir.glob("*.whl")
    direct = Wheel.read(wheel_path)
    problems = check_wheel(name, direct)
    problems += compare_rebuilt(direct, Wheel.read(rebuilt_path))
    if rebuilt_path.name != wheel_path.name:
        problems.append(f"{wheel_path.name}: the sdist builds {rebuilt_path.name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="packages (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="default: dist/")
    args = parser.parse_args(argv)
    names = args.names or package_names()
    unknown = sorted(set(names) - set(package_names()))
    if unknown:
        parser.error(f"no such package under packages/: {', '.join(unknown)}")
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="squall-rebuild-") as scratch:
        for name in names:
            found = build(name, out, Path(scratch))
            problems += found
            print(f"squall-{name} {declared_version(name)}: {'ok' if not found else 'PROBLEMS'}")
    dists = sorted(str(p) for n in names for p in out.glob(f"squall_{n}-*"))
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *dists],
        capture_output=True,
        text=True,
    )
    if twine.returncode != 0:
        problems.append(f"twine check failed:\n{twine.stdout}{twine.stderr}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"{len(dists)} distributions checked, written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
