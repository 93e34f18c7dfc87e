"""Independent versions, checked: a package whose code changed must get a new version.

    python tools/releases.py check              # part of `nox` (session `releases`)
    python tools/releases.py record NAME ...    # after a bump (`nox -s release-record -- NAME ...`)

Each ``packages/NAME/RELEASE`` records the package's last release: its version and a
SHA-256 of what a release of it is made of (every file under ``src/`` and the ``[project]``
table of its ``pyproject.toml``: dependencies and entry points are part of a release). The
record is a file in the tree, not a git tag, so the check works the same in a fresh clone,
a shallow one or an unpacked sdist of the repository.

``check`` fails, naming the package and what to do, when

- the package's files no longer match the recorded hash while ``_version.py`` still says
  the recorded version (its code changed and its version did not);
- ``_version.py`` says another version than the record (a bump not recorded yet), or a
  lower one;
- ``CHANGELOG.md`` has no ``## VERSION`` heading for the current version;
- a sibling range (``squall-web>=0.1,<0.2`` in ``dependencies``) does not admit the
  sibling's version in the tree, or names a package the tree does not have: a release of
  one package must never need an unreleased sibling.
- a package has no ``[tool.uv.sources]`` entry in the root ``pyproject.toml`` (what makes
  ``uv pip install ./packages/NAME`` find its siblings in a clone).

``record`` writes the RELEASE file of each NAME for the version in its ``_version.py``.
It refuses to record changed code under an already recorded version (that would hide the
change the check exists to catch) and a version without its CHANGELOG heading.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

DEFAULT_ROOT = Path(__file__).resolve().parent.parent
RECORD_HEADER = """\
# The last release of {dist}: its version and a SHA-256 of its src/ tree and the [project]
# table of its pyproject.toml. Written by `nox -s release-record -- {name}` after a version
# bump; `nox` (session `releases`) fails when the code changed and the version did not.
"""


# Files a build leaves under src/ that are not code: bytecode, and a C extension that an
# editable install compiles in place (squall-websocket's optional accelerator).
_BUILD_OUTPUT = (".pyc", ".pyo", ".so", ".pyd")


@dataclass(frozen=True)
class Package:
    """One package directory of the monorepo, as the checks see it."""

    root: Path
    name: str

    @property
    def path(self) -> Path:
        return self.root / "packages" / self.name

    @property
    def dist(self) -> str:
        return f"squall-{self.name}"

    @property
    def project(self) -> dict[str, object]:
        with open(self.path / "pyproject.toml", "rb") as f:
            project = tomllib.load(f)["project"]
        assert isinstance(project, dict)
        return project

    @property
    def version(self) -> str:
        text = (self.path / "src" / "squall" / self.name / "_version.py").read_text()
        match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
        if not match:
            raise SystemExit(f"{self.path}/src/squall/{self.name}/_version.py: no __version__")
        return match.group(1)

    def tree_hash(self) -> str:
        """SHA-256 of the files under src/ and of the [project] table of pyproject.toml."""
        digest = hashlib.sha256()
        src = self.path / "src"
        files = sorted(
            p
            for p in src.rglob("*")
            if p.is_file()
            and "__pycache__" not in p.parts
            and p.suffix not in _BUILD_OUTPUT
            # setuptools' metadata folder (a build writes src/NAME.egg-info, never committed)
            and not any(part.endswith(".egg-info") for part in p.parts)
        )
        for file in files:
            digest.update(file.relative_to(src).as_posix().encode() + b"\0")
            # A checkout that turned LF into CRLF holds the same code.
            digest.update(file.read_bytes().replace(b"\r\n", b"\n") + b"\0")
        digest.update(json.dumps(self.project, sort_keys=True).encode())
        return digest.hexdigest()

    def recorded(self) -> tuple[str, str] | None:
        """(version, sha256) of the RELEASE file, or None when there is none."""
        path = self.path / "RELEASE"
        if not path.exists():
            return None
        with open(path, "rb") as f:
            data = tomllib.load(f)
        return str(data["version"]), str(data["sha256"])

    def has_changelog_entry(self) -> bool:
        changelog = self.path / "CHANGELOG.md"
        if not changelog.exists():
            return False
        text = changelog.read_text()
        return re.search(rf"^## \[?{re.escape(self.version)}\]?(\s|$)", text, re.M) is not None


def packages(root: Path) -> list[Package]:
    """Every package of the monorepo at `root`."""
    return [
        Package(root, p.parent.name) for p in sorted((root / "packages").glob("*/pyproject.toml"))
    ]


def _record_command(name: str) -> str:
    return f"nox -s release-record -- {name}"


def check_package(pkg: Package) -> list[str]:
    """Problems of one package's version against its release record and CHANGELOG."""
    problems: list[str] = []
    rel = f"packages/{pkg.name}"
    recorded = pkg.recorded()
    if recorded is None:
        return [f"{pkg.dist}: {rel}/RELEASE is missing: run `{_record_command(pkg.name)}`"]
    version, digest = recorded
    if pkg.version == version:
        if pkg.tree_hash() != digest:
            problems.append(
                f"{pkg.dist}: its code changed since {version} was released (src/ or the "
                f"[project] table of pyproject.toml) and its version is still {version}: bump "
                f"{rel}/src/squall/{pkg.name}/_version.py, add the new version's entry to "
                f"{rel}/CHANGELOG.md, then run `{_record_command(pkg.name)}`"
            )
    elif Version(pkg.version) < Version(version):
        problems.append(
            f"{pkg.dist}: _version.py says {pkg.version}, lower than the released {version}"
        )
    else:
        problems.append(
            f"{pkg.dist}: version {pkg.version} is not recorded ({rel}/RELEASE says {version}): "
            f"run `{_record_command(pkg.name)}` in the commit that bumps it"
        )
    if not pkg.has_changelog_entry():
        problems.append(f"{pkg.dist}: {rel}/CHANGELOG.md has no '## {pkg.version}' heading")
    return problems


def check_ranges(pkgs: list[Package]) -> list[str]:
    """Problems where a sibling range does not admit the sibling's version in the tree."""
    versions = {p.dist: p.version for p in pkgs}
    problems: list[str] = []
    for pkg in pkgs:
        deps = pkg.project.get("dependencies", [])
        assert isinstance(deps, list)
        for dep in deps:
            req = Requirement(dep)
            if not req.name.startswith("squall-"):
                continue
            have = versions.get(req.name)
            if have is None:
                problems.append(f"{pkg.dist}: depends on {req.name}, which is not in packages/")
            elif not req.specifier.contains(have, prereleases=True):
                problems.append(
                    f"{pkg.dist}: needs {req} but the tree has {req.name} {have}: widen the "
                    f"range in packages/{pkg.name}/pyproject.toml (and bump {pkg.dist})"
                )
    return problems


def check_sources(root: Path, pkgs: list[Package]) -> list[str]:
    """Problems where a package has no uv source in the root pyproject (README's clone install).

    Without one, ``uv pip install ./packages/X`` would look for that package on an index
    when another package needs it.
    """
    with open(root / "pyproject.toml", "rb") as f:
        sources = tomllib.load(f).get("tool", {}).get("uv", {}).get("sources", {})
    return [
        f"{p.dist}: no [tool.uv.sources] entry in the root pyproject.toml: add "
        f"`{p.dist} = {{ workspace = true, editable = false }}`"
        for p in pkgs
        if p.dist not in sources
    ]


def check(root: Path) -> list[str]:
    """Every problem of every package of the tree at `root`."""
    pkgs = packages(root)
    problems: list[str] = []
    for pkg in pkgs:
        problems += check_package(pkg)
    return problems + check_ranges(pkgs) + check_sources(root, pkgs)


def record(pkg: Package) -> str:
    """Write pkg's RELEASE for its current version; refuse what would hide a change."""
    recorded = pkg.recorded()
    digest = pkg.tree_hash()
    if recorded is not None:
        version, old = recorded
        if pkg.version == version and digest != old:
            raise SystemExit(
                f"error: {pkg.dist}: its code changed and its version is still {version}: "
                f"bump packages/{pkg.name}/src/squall/{pkg.name}/_version.py first"
            )
        if Version(pkg.version) < Version(version):
            raise SystemExit(f"error: {pkg.dist}: {pkg.version} is lower than {version}")
    if not pkg.has_changelog_entry():
        raise SystemExit(
            f"error: {pkg.dist}: packages/{pkg.name}/CHANGELOG.md has no "
            f"'## {pkg.version}' heading: write the entry first"
        )
    text = RECORD_HEADER.format(dist=pkg.dist, name=pkg.name)
    text += f'version = "{pkg.version}"\nsha256 = "{digest}"\n'
    (pkg.path / "RELEASE").write_text(text)
    return f"{pkg.dist} {pkg.version} recorded"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="fail when a package changed and its version did not")
    rec = sub.add_parser("record", help="write packages/NAME/RELEASE after a version bump")
    rec.add_argument("names", nargs="+", metavar="NAME")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    if args.command == "check":
        problems = check(root)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        if problems:
            return 1
        print(", ".join(f"{p.dist} {p.version}" for p in packages(root)) + ": released as recorded")
        return 0
    known = {p.name: p for p in packages(root)}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"no such package under packages/: {', '.join(unknown)}")
    for name in args.names:
        print(record(known[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
