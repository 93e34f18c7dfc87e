"""Packages installed the way users install them: by name, from a real package index.

The distributions are built and checked by ``tools/build_dists.py`` (what ``nox -s build``
runs), uploaded with twine to a pypiserver (a PyPI-compatible index from PyPI) started on
127.0.0.1, and installed by name into fresh virtual environments::

    pip install --index-url http://127.0.0.1:PORT/simple/ --extra-index-url NORMAL squall-X

where NORMAL is the index pip is configured with here (PyPI by default), for the
third-party dependencies only: the test checks from pip's install report that every squall
distribution came from the local index. Then: exactly the declared squall layers are
installed; the package's own tests pass against the installed wheel (imported from the
venv's site-packages, never from the repository's ``src/``); and a plugin's feature works in
a server started from that venv. The index server is ended by its process-group id.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"
NAMES = sorted(p.parent.name for p in PACKAGES.glob("*/pyproject.toml"))
PYPI = "https://pypi.org/simple/"
INDEX_START_TIMEOUT = 30.0
# Whole-command bounds: a fresh venv's pip resolving over the network, a package's tests.
INSTALL_TIMEOUT = 300
TESTS_TIMEOUT = 600


def _pyproject(name: str) -> dict:
    with open(PACKAGES / name / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _version(name: str) -> str:
    text = (PACKAGES / name / "src" / "squall" / name / "_version.py").read_text()
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
    assert match, f"no __version__ in packages/{name}"
    return match.group(1)


def _wheel_tag(name: str) -> str:
    """A pure-Python wheel's tag; squall-websocket's carries its optional C accelerator,
    built for the stable ABI of 3.11+ on this platform (its setup.py)."""
    if name == "websocket":
        return "cp311-abi3-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "py3-none-any"


def declared_layers(name: str) -> set[str]:
    """The squall distributions `name` brings, itself included, read from the pyprojects."""
    found = {f"squall-{name}"}
    for dep in _pyproject(name)["project"].get("dependencies", []):
        m = re.match(r"squall-([a-z]+)", dep)
        if m:
            found |= declared_layers(m.group(1))
    return found


def normal_index() -> str:
    """The index pip uses here when none is given (PIP_INDEX_URL, pip's config, or PyPI)."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    found = re.findall(r"^[\w:.-]*?\.index-url='([^']+)'", listed, re.M)
    return found[0] if found else PYPI


def _run(cmd: list[str], timeout: float, **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result


@dataclass
class Index:
    """The running index: where it serves, what was uploaded to it."""

    port: int
    storage: Path
    dists: list[Path]

    @property
    def simple(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"


def _start_index(storage: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pypiserver",
                "run",
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
                # Uploads without credentials: the index lives for this test only.
                "--authenticate",
                ".",
                "--passwords",
                ".",
                # Names it does not hold are not redirected to PyPI: squall's must come from
                # here, third-party ones through pip's own extra index.
                "--disable-fallback",
                str(storage),
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """True once the index answers; False if it exited (a lost port race, say)."""
    deadline = time.monotonic() + INDEX_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return True
        time.sleep(0.1)
    pytest.fail(f"the index did not answer in {INDEX_START_TIMEOUT:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def index(
    tmp_path_factory: pytest.TempPathFactory, get_free_port: Callable[[], int]
) -> Iterator[Index]:
    base = tmp_path_factory.mktemp("index")
    dist = base / "dist"
    _run([sys.executable, str(ROOT / "tools" / "build_dists.py"), "--out", str(dist)], 600)
    dists = sorted(dist.glob("squall_*"))
    storage = base / "storage"
    storage.mkdir()
    log = base / "pypiserver.log"
    for _ in range(3):
        port = get_free_port()
        proc = _start_index(storage, port, log)
        try:
            if not _wait_healthy(proc, port, log):
                continue
            _run(
                [
                    *(sys.executable, "-m", "twine", "upload", "--non-interactive"),
                    *("--repository-url", f"http://127.0.0.1:{port}/"),
                    *("--username", "squall", "--password", "unused"),
                    *map(str, dists),
                ],
                300,
            )
            yield Index(port, storage, dists)
            return
        finally:
            _stop(proc)
    pytest.fail(f"the index could not start:\n{log.read_text()}")


@dataclass
class Installed:
    """A fresh venv into which one squall package was installed by name."""

    python: Path
    report: dict
    test_deps: bool = field(default=False)

    def squall_dists(self) -> dict[str, str]:
        """{name: version} of the squall distributions in the venv, from their metadata."""
        out = _run(
            [
                str(self.python),
                "-c",
                "import importlib.metadata as md, json; "
                "print(json.dumps({d.metadata['Name']: d.version for d in md.distributions() "
                "if d.metadata['Name'].startswith('squall')}))",
            ],
            60,
        ).stdout
        return json.loads(out)


class Installs:
    """One venv per package, made on first use and shared by this module's tests."""

    def __init__(self, base: Path, index: Index) -> None:
        self.base = base
        self.index = index
        self.done: dict[str, Installed] = {}

    def get(self, name: str) -> Installed:
        if name not in self.done:
            venv = self.base / name
            _run([sys.executable, "-m", "venv", str(venv)], 120)
            python = venv / "bin" / "python"
            report = self.base / f"{name}-report.json"
            _run(
                [
                    *(str(python), "-m", "pip", "install", "--quiet", "--no-input"),
                    *("--report", str(report)),
                    *("--index-url", self.index.simple),
                    *("--extra-index-url", normal_index()),
                    f"squall-{name}",
                ],
                INSTALL_TIMEOUT,
            )
            self.done[name] = Installed(python, json.loads(report.read_text()))
        return self.done[name]

    def with_test_deps(self, name: str) -> Installed:
        """The venv of `name`, plus its [dependency-groups] test list (from the normal index)."""
        installed = self.get(name)
        if not installed.test_deps:
            group = _pyproject(name)["dependency-groups"]["test"]
            _run(
                [str(installed.python), "-m", "pip", "install", "--quiet", "--no-input", *group],
                INSTALL_TIMEOUT,
            )
            installed.test_deps = True
        return installed


@pytest.fixture(scope="module")
def installs(index: Index, tmp_path_factory: pytest.TempPathFactory) -> Installs:
    return Installs(tmp_path_factory.mktemp("venvs"), index)


def test_the_index_holds_every_uploaded_distribution(index):
    uploaded = sorted(p.name for p in index.storage.iterdir())
    assert uploaded == sorted(p.name for p in index.dists)
    # A wheel and an sdist of each package, at the version of the tree.
    expected = set()
    for name in NAMES:
        version = _version(name)
        expected |= {
            f"squall_{name}-{version}-{_wheel_tag(name)}.whl",
            f"squall_{name}-{version}.tar.gz",
        }
    assert set(uploaded) == expected
    page = httpx.get(index.simple + "squall-static/", timeout=10)
    assert page.status_code == 200
    assert f"squall_static-{_version('static')}-py3-none-any.whl" in page.text


@pytest.mark.parametrize("name", NAMES)
def test_install_by_name_brings_exactly_the_declared_layers(installs, index, name):
    installed = installs.get(name)
    expected = declared_layers(name)
    assert installed.squall_dists() == {dist: _version(dist[7:]) for dist in expected}
    # Every squall distribution came from the local index, as a wheel.
    origins = {
        item["metadata"]["name"]: item["download_info"]["url"]
        for item in installed.report["install"]
        if item["metadata"]["name"].startswith("squall")
    }
    assert set(origins) == expected
    for dist, url in origins.items():
        assert url.startswith(f"http://127.0.0.1:{index.port}/"), (dist, url)
        assert url.endswith(".whl"), (dist, url)


def test_squall_static_brings_loop_http_web_and_static_only(installs):
    assert set(installs.get("static").squall_dists()) == {
        "squall-loop",
        "squall-http",
        "squall-web",
        "squall-static",
    }


# Loaded into the package's pytest run (-p): records where each squall package was
# imported from, so the test can prove the run used the installed wheels.
WHERE_PLUGIN = """
import json, os, sys

def pytest_sessionfinish(session):
    found = {
        name: getattr(module, "__file__", None)
        for name, module in list(sys.modules.items())
        if name.startswith("squall.") and name.count(".") == 1
    }
    with open(os.environ["SQUALL_WHERE_OUT"], "w") as f:
        json.dump(found, f)
"""


@pytest.mark.parametrize("name", ["static", "options"])
def test_package_tests_pass_against_the_installed_wheel(installs, tmp_path, name):
    installed = installs.with_test_deps(name)
    (tmp_path / "squall_where.py").write_text(WHERE_PLUGIN)
    where = tmp_path / "where.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PYTHONPATH=str(tmp_path), SQUALL_WHERE_OUT=str(where))
    result = subprocess.run(
        [
            *(str(installed.python), "-m", "pytest", str(PACKAGES / name / "tests")),
            *("-q", "-p", "squall_where", "-p", "no:cacheprovider"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TESTS_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert re.search(r"^\d+ passed", result.stdout.splitlines()[-1]), result.stdout[-2000:]
    imported = json.loads(where.read_text())
    site = installed.python.parent.parent / "lib"
    assert f"squall.{name}" in imported
    for module, path in imported.items():
        assert path is not None and Path(path).is_relative_to(site), (module, path)
        assert "site-packages" in Path(path).parts, (module, path)


STATIC_APP = """
import sys
import squall.loop, squall.web
app = squall.web.Application([], static_path={statics!r})
app.listen(int(sys.argv[1].split("=", 1)[1]), "127.0.0.1")
print("squall.static from", __import__("squall.static").static.__file__, flush=True)
squall.loop.IOLoop.current().start()
"""


def test_static_path_is_served_by_an_installed_squall_static(installs, launcher, tmp_path):
    installed = installs.get("static")
    statics = tmp_path / "statics"
    (statics / "css").mkdir(parents=True)
    (statics / "css" / "site.css").write_bytes(b"body { color: teal }\n")
    script = tmp_path / "static_app.py"
    script.write_text(textwrap.dedent(STATIC_APP.format(statics=str(statics))))
    with launcher.running_example(script, python=str(installed.python)) as srv:
        r = httpx.get(srv.url + "/static/css/site.css", timeout=10)
        assert r.status_code == 200
        assert r.content == b"body { color: teal }\n"
        assert r.headers["content-type"].startswith("text/css")
        assert httpx.get(srv.url + "/static/css/missing.css", timeout=10).status_code == 404
        where = srv.wait_stdout("squall.static from")
    assert str(installed.python.parent.parent) in where and "site-packages" in where


def _readme_command(section: str) -> str:
    """The first ```sh block under the README heading `section`."""
    text = (ROOT / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)\n```", body, re.S)
    assert match, f"no sh block under '## {section}'"
    return match.group(1)


def test_the_readme_command_installs_one_package_with_its_layers_from_a_clone(tmp_path):
    # A copy of what a clone holds for this (the root pyproject and packages/), so the
    # command's .venv is made outside the working tree.
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(ROOT / "pyproject.toml", clone / "pyproject.toml")
    shutil.copytree(
        PACKAGES,
        clone / "packages",
        ignore=shutil.ignore_patterns("__pycache__", ".venv", "*.egg-info"),
    )
    command = _readme_command("Install from the repository")
    assert "./packages/static" in command
    # A user's shell: no venv of the test run, and no UV_PYTHON / UV_PROJECT_ENVIRONMENT
    # (nox sets them in its sessions; uv would install into the session's venv).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "CONDA_PREFIX") and not k.startswith("UV_")
    }
    _run(["bash", "-ec", command], INSTALL_TIMEOUT, cwd=clone, env=env)
    installed = Installed(clone / ".venv" / "bin" / "python", {})
    assert installed.squall_dists() == {d: _version(d[7:]) for d in declared_layers("static")}
    # Installed, not linked to the clone: every layer's files are in the venv.
    for module in ("loop", "http", "web", "static"):
        where = _run(
            [str(installed.python), "-c", f"import squall.{module} as m; print(m.__file__)"], 60
        )
        assert Path(where.stdout.strip()).is_relative_to(clone / ".venv"), (module, where.stdout)


def test_pip_alone_installs_by_name_from_the_built_dist_folder(index, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], 120)
    python = venv / "bin" / "python"
    dist = index.dists[0].parent
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--find-links",
            str(dist),
            "squall-options",
        ],
        INSTALL_TIMEOUT,
    )
    dists = Installed(python, {}).squall_dists()
    assert dists == {d: _version(d[7:]) for d in declared_layers("options")}
