"""The one entry point for squall's checks: tests, lint, types, imports, integration, bench.

`nox` with no arguments runs what a contributor must pass (every session but `bench` and
the other `default=False` ones: `autobahn`, `build`, `release-record`).
The matrix is generated from package metadata: each `packages/*/pyproject.toml` names its
Pythons in its classifiers and its sibling dependencies in `[project] dependencies`, so a
new package or a new Python needs no edit here.

Why editable installs: uv caches builds of local directories by their metadata files, so a
non-editable install could test stale sources; an editable install of a PEP 420 namespace
package adds only that package's `src/` to `sys.path`, so the layering (a package sees only
itself and the siblings it declares) still holds.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PACKAGES_DIR = ROOT / "packages"


def _pyproject(name: str) -> dict:
    with open(PACKAGES_DIR / name / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


PACKAGES = sorted(p.parent.name for p in PACKAGES_DIR.glob("*/pyproject.toml"))


def _siblings(name: str) -> list[str]:
    """The squall packages `name` needs, itself included, lowest layer first."""
    seen: list[str] = []

    def visit(pkg: str) -> None:
        for dep in _pyproject(pkg)["project"].get("dependencies", []):
            m = re.match(r"squall-([a-z]+)", dep)
            if m and m.group(1) not in seen:
                visit(m.group(1))
        if pkg not in seen:
            seen.append(pkg)

    visit(name)
    return seen


def _pythons(name: str) -> list[str]:
    return nox.project.python_versions(_pyproject(name))


def _group(name: str, group: str) -> list[str]:
    return list(nox.project.dependency_groups(_pyproject(name), group))


ALL_PYTHONS = sorted({py for pkg in PACKAGES for py in _pythons(pkg)})
MATRIX = [(py, pkg) for pkg in PACKAGES for py in _pythons(pkg)]


XDIST = "pytest-xdist>=3.6"


def _workers() -> list[str]:
    """pytest-xdist arguments: SQUALL_TEST_WORKERS processes (default 3; 0 runs in-process).

    Most of a test's time is spent waiting for a server process to start or a socket to
    answer, so three workers pay even on two cores (the integration suite: 96 s instead of
    190 s, measured on a busier machine than the one-process run).
    A file's tests stay in one worker (--dist loadfile), in the order they are written.
    """
    raw = os.environ.get("SQUALL_TEST_WORKERS", "3")
    if not raw.isdigit():
        raise SystemExit(f"SQUALL_TEST_WORKERS must be a whole number, not {raw!r}")
    return ["-n", raw, "--dist", "loadfile"] if int(raw) > 0 else ["-p", "no:xdist"]


def _install_packages(session: nox.Session, names: list[str], extras: str = "") -> None:
    args: list[str] = []
    for n in names:
        args += ["-e", f"{PACKAGES_DIR / n}{extras if n == 'loop' else ''}"]
    if session.venv_backend == "uv":
        # The root pyproject's uv sources (non-editable sibling folders, for the README's
        # install from a clone) would clash with these editable ones: the list is the source.
        args.insert(0, "--no-sources")
    session.install(*args)


@nox.session
@nox.parametrize(
    "python,package",
    [nox.param(py, pkg, tags=[pkg], id=f"{py}-{pkg}") for py, pkg in MATRIX],
)
def tests(session: nox.Session, package: str) -> None:
    """Unit tests of one package, in a venv holding only it and the siblings it declares."""
    _install_packages(session, _siblings(package))
    session.install(*_group(package, "test"), XDIST)
    tests_dir = str(PACKAGES_DIR / package / "tests")
    session.run("pytest", tests_dir, *_workers(), *session.posargs)
    if package == "websocket" and session.python == ALL_PYTHONS[0]:
        # Again on the pure-Python masking its optional C accelerator falls back to (on one
        # Python: that code is the same on each, and the suite costs a minute per run).
        session.run(
            "pytest",
            tests_dir,
            *_workers(),
            *session.posargs,
            env={"SQUALL_WEBSOCKET_PURE": "1"},
        )


# The packages whose tests exercise squall.http's request path, run again against its
# mypyc-compiled build (everything above http; http's own first).
COMPILED_SUITES = ["http", "web", "websocket", "asgi", "static", "httpclient", "testing"]


def _compiled_http_wheel(session: nox.Session) -> str:
    """Build squall-http with its mypyc hook on, for this session's Python; the wheel's path."""
    session.install("hatchling>=1.26", "mypy>=1.15", "setuptools>=77")
    # Not session.create_tmp(): it points TMPDIR there, too deep for the tests' unix sockets.
    out = Path(session.virtualenv.location) / "compiled-http"
    if out.exists():
        for old in out.glob("*.whl"):
            old.unlink()
    # No build isolation: the hook types the package against the squall-loop installed here.
    session.run(
        "python", "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-w", str(out),
        str(PACKAGES_DIR / "http"),
        env={"HATCH_BUILD_HOOKS_ENABLE": "1"},
    )  # fmt: skip
    wheels = sorted(out.glob("squall_http-*.whl"))
    if len(wheels) != 1 or wheels[0].name.endswith("-none-any.whl"):
        session.error(f"expected one platform wheel of squall-http in {out}, found {wheels}")
    return str(wheels[0])


@nox.session(python=ALL_PYTHONS)
def compiled(session: nox.Session) -> None:
    """The suites above squall.http again, on its mypyc-compiled build (hatch_build.py).

    Every Python: the unit suites of COMPILED_SUITES; the first Python also the integration
    suite (but the package-index test, which builds pure wheels of its own).
    """
    session.install("pip>=24")
    _install_packages(session, ["loop"])
    wheel = _compiled_http_wheel(session)
    # The compiled wheel stands for squall-http among the editable siblings that need it.
    others = [p for p in PACKAGES if p not in ("loop", "http", "template", "compress", "tcp")]
    args = [wheel] + [a for p in others for a in ("-e", str(PACKAGES_DIR / p))]
    session.install(*(["--no-sources"] if session.venv_backend == "uv" else []), *args)
    check = (
        "import squall.http, sys; sys.exit(0 if squall.http.compiled() else "
        "'squall.http is not the compiled build')"
    )
    session.run("python", "-c", check)
    for pkg in COMPILED_SUITES:
        session.install(*_group(pkg, "test"), XDIST)
    for pkg in COMPILED_SUITES:
        session.run("pytest", str(PACKAGES_DIR / pkg / "tests"), *_workers(), *session.posargs)
    if session.python == ALL_PYTHONS[0]:
        # The integration suite too, on one Python (it needs every package: the rest join
        # the same environment, after the package suites that must not see them).
        rest = [p for p in PACKAGES if p not in ("loop", "http", *others)]
        session.install(
            *(["--no-sources"] if session.venv_backend == "uv" else []),
            wheel,
            *[a for p in [*others, *rest] for a in ("-e", str(PACKAGES_DIR / p))],
            "uvloop>=0.19",
            "-r",
            str(ROOT / "integration_tests" / "requirements.txt"),
        )
        session.run("python", "-c", check)
        tests_dir = ROOT / "integration_tests"
        session.run(
            "pytest", str(tests_dir), "--ignore", str(INDEX_TEST), *_workers(), *session.posargs
        )


@nox.session(python=ALL_PYTHONS)
def integration(session: nox.Session) -> None:
    """Every behaviour of the notes, against real servers started as processes."""
    tests_dir = ROOT / "integration_tests"
    if not any(tests_dir.glob("test_*.py")):
        session.error("integration_tests/ holds no test_*.py: nothing would be checked")
    # With uvloop, as users run it (the command picks it when installed): the tests that
    # take --uvloop/--no-uvloop would otherwise run the asyncio case twice.
    _install_packages(session, PACKAGES, extras="[uvloop]")
    reqs = tests_dir / "requirements.txt"
    if reqs.exists():
        session.install("-r", str(reqs))
    session.run(
        "pytest", str(tests_dir), "--ignore", str(INDEX_TEST), *_workers(), *session.posargs
    )


# Built wheels are the same on every Python (py3-none-any) and each package's tests already
# run on each Python, so the index test runs once: it costs minutes (builds, fresh venvs).
INDEX_TEST = ROOT / "integration_tests" / "test_install_from_index.py"


@nox.session(python=ALL_PYTHONS[0])
def index(session: nox.Session) -> None:
    """Every package built, uploaded to a local PyPI-compatible index, installed by name."""
    session.install("-r", str(ROOT / "integration_tests" / "requirements.txt"))
    session.run("pytest", str(INDEX_TEST), *session.posargs)


@nox.session(python=ALL_PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=ALL_PYTHONS[0])
def types(session: nox.Session) -> None:
    """mypy --strict over every package's src/."""
    session.install("mypy>=1.13")
    _install_packages(session, PACKAGES, extras="[uvloop]")
    session.install("httpx>=0.27", "pytest>=8")
    args: list[str] = []
    for pkg in PACKAGES:
        args += ["-p", f"squall.{pkg}"]
    session.run("mypy", *args, *session.posargs)


@nox.session(python=ALL_PYTHONS[0])
def imports(session: nox.Session) -> None:
    """import-linter: squall.web > squall.http > squall.loop; web imports no plugin."""
    session.install("import-linter>=2.1")
    _install_packages(session, PACKAGES)
    session.run("lint-imports")


@nox.session(python=ALL_PYTHONS[0])
def soak(session: nox.Session) -> None:
    """Mixed load through a real server (5 min asyncio, 2.5 min uvloop), then leak checks.

    A session of its own rather than an integration test: it runs once, on one Python (the
    integration session runs on every Python), needs uvloop and wrk, and its summary (RSS,
    fds, requests by kind, latency) is printed whole. `nox -s soak -- --seconds 45` (or
    SQUALL_SOAK_SECONDS=45) shortens it for development; integration_tests/soak/README.md.
    """
    _install_packages(session, PACKAGES, extras="[uvloop]")
    session.run("python", str(ROOT / "integration_tests" / "soak" / "run.py"), *session.posargs)


@nox.session(python=ALL_PYTHONS[0])
def releases(session: nox.Session) -> None:
    """A package whose code changed since its recorded release must have a new version."""
    session.install("packaging>=24")
    session.run("python", str(ROOT / "tools" / "releases.py"), "check")


@nox.session(python=ALL_PYTHONS[0], name="release-record", default=False)
def release_record(session: nox.Session) -> None:
    """Record the bumped versions of the packages named: `nox -s release-record -- web`."""
    if not session.posargs:
        session.error("name the bumped packages: nox -s release-record -- web http")
    session.install("packaging>=24")
    session.run("python", str(ROOT / "tools" / "releases.py"), "record", *session.posargs)


@nox.session(python=ALL_PYTHONS[0], default=False)
def build(session: nox.Session) -> None:
    """sdist and wheel of every package into dist/, checked (tools/build_dists.py says how)."""
    session.install("uv>=0.5", "twine>=6.1")
    session.run("python", str(ROOT / "tools" / "build_dists.py"), *session.posargs)


@nox.session(python=ALL_PYTHONS[0], default=False)
def bench(session: nox.Session) -> None:
    """Side-by-side load tests against peers (wrk); writes benchmarks/RESULTS.md.

    Also builds squall-http with mypyc and unpacks it for the "mypyc" rows (run.py's
    --compiled-http), unless the arguments name a build already.
    """
    _install_packages(session, PACKAGES, extras="[uvloop]")
    session.install("-r", str(ROOT / "benchmarks" / "requirements.txt"))
    args = list(session.posargs)
    if not any(a.startswith("--compiled-http") for a in args) and "--list" not in args:
        import zipfile

        tree = Path(session.virtualenv.location) / "compiled-http-tree"
        if tree.exists():
            import shutil

            shutil.rmtree(tree)
        session.install("pip>=24")
        with zipfile.ZipFile(_compiled_http_wheel(session)) as whl:
            whl.extractall(tree)
        args = ["--compiled-http", str(tree), *args]
    session.run("python", str(ROOT / "benchmarks" / "run.py"), *args)


AUTOBAHN = ROOT / "packages" / "websocket" / "autobahn"


def _python27() -> str | None:
    """Python 2.7 for Autobahn|Testsuite: on PATH, else pyenv's newest 2.7.x."""
    import glob
    import shutil
    import subprocess

    found = shutil.which("python2.7")
    if found and subprocess.run([found, "--version"], capture_output=True).returncode == 0:
        return found
    try:
        pyenv_root = subprocess.run(
            ["pyenv", "root"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/2.7.*/bin/python2.7"))
    return candidates[-1] if candidates else None


@nox.session(python=ALL_PYTHONS[0], default=False)
def autobahn(session: nox.Session) -> None:
    """Autobahn|Testsuite's fuzzing client against squall's echo server (10-20 minutes).

    wstest runs on Python 2.7 only: a virtualenv of its own (.nox/autobahn-py27, made once
    by virtualenv<20.22, the last that makes 2.7 environments, with pip 20.3) holds it and its
    pinned dependencies. `nox -s autobahn -- --server tornado` runs Tornado's echo server
    through the same cases; other arguments go to packages/websocket/autobahn/run.py.
    """
    py27 = _python27()
    if py27 is None:
        session.error("Python 2.7 is needed for wstest (pyenv install 2.7.18)")
    _install_packages(session, _siblings("websocket"))
    session.install("virtualenv<20.22", "tornado==6.6.1")
    env27 = Path(session.virtualenv.location).parent / "autobahn-py27"
    wstest = env27 / "bin" / "wstest"
    if not wstest.exists():
        session.run("virtualenv", "--python", py27, str(env27))
        session.run(
            str(env27 / "bin" / "pip"),
            "install",
            "--disable-pip-version-check",
            "-r",
            str(AUTOBAHN / "requirements-py27.txt"),
            external=True,
        )
    session.run(
        "python",
        str(AUTOBAHN / "run.py"),
        "--wstest",
        str(wstest),
        "--workdir",
        str(Path(session.virtualenv.location).parent / "autobahn-reports"),
        *session.posargs,
    )
