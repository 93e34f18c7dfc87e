"""Packages one by one: each squall distribution installed alone (with what it declares)
into a fresh virtual environment, and a third-party plugin found through entry points.

Checked: squall-loop alone works and brings nothing else; squall-tcp on squall-loop alone
serves the TCP echo demo, without squall.http; loop + http serve a plain
callable; loop + http + web serve hello world, and a plugin's feature (``static_path``,
``template_path``, ``render``, ``static_url``) fails naming the package to install; then
squall-static, squall-options and squall-template, each added alone, work; and an installed
third-party distribution registered under the ``squall.web`` entry-point group changes a
running app (a route and a header) with no change to the app's code.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = Path(__file__).resolve().parent / "thirdparty_plugin"


class Venvs:
    """Fresh virtual environments holding chosen squall packages (uv, or venv + pip).

    Each package (and the third-party plugin) is built into a wheel once per module, and
    every venv installs the wheels it needs by file: a wheel install takes a fraction of a
    second where an editable install rebuilds each time, and the wheels are what users get
    (entry points, ``py.typed`` and all).
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.uv = shutil.which("uv")
        self.wheels: dict[str, Path] = {}

    def build(self, name: str, source: Path) -> None:
        """Build the wheel of `source` (a project folder), known from now on as `name`."""
        out = self.base / "wheels" / name
        if self.uv:
            self._run([self.uv, "build", "--quiet", "--wheel", "--out-dir", str(out), str(source)])
        else:
            self._run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "--quiet",
                    "--no-deps",
                    "-w",
                    str(out),
                    str(source),
                ]
            )
        (wheel,) = out.glob("*.whl")
        self.wheels[name] = wheel

    def create(self, name: str, packages: list[str]) -> Path:
        """A new venv `name` holding the wheels of `packages` (and their PyPI dependencies)."""
        path = self.base / name
        if self.uv:
            self._run([self.uv, "venv", "--quiet", "--python", sys.executable, str(path)])
        else:
            self._run([sys.executable, "-m", "venv", str(path)])
        python = path / "bin" / "python"
        self.install(python, *packages)
        return python

    def install(self, python: Path, *packages: str) -> None:
        """Install the wheels of `packages` into the venv of `python`."""
        files = [str(self.wheels[p]) for p in packages]
        if self.uv:
            self._run([self.uv, "pip", "install", "--quiet", "--python", str(python), *files])
        else:
            self._run([str(python), "-m", "pip", "install", "--quiet", *files])

    @staticmethod
    def _run(cmd: list[str]) -> None:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def venvs(tmp_path_factory) -> Venvs:
    venvs = Venvs(tmp_path_factory.mktemp("venvs"))
    for name in ("loop", "http", "web", "options", "static", "template", "tcp"):
        venvs.build(name, ROOT / "packages" / name)
    venvs.build("plugin", PLUGIN)
    return venvs


def _script(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


LIST_SQUALL = """
import importlib.metadata as md
names = sorted({d.metadata["Name"] for d in md.distributions()})
print("dists", [n for n in names if n.startswith("squall")])
"""


def test_loop_alone(venvs, launcher, tmp_path):
    python = venvs.create("loop", ["loop"])
    script = _script(
        tmp_path,
        "use_loop.py",
        LIST_SQUALL
        + """
import asyncio
from squall.loop import IOLoop, PeriodicCallback, bind_sockets
loop = IOLoop.current()
seen = []
loop.add_callback(seen.append, "callback")
loop.call_later(0.01, seen.append, "later")
ticks = []
pc = PeriodicCallback(lambda: ticks.append(1), 5)
pc.start()
async def main():
    await asyncio.sleep(0.1)
    return 42
print("run_sync", loop.run_sync(main), seen, len(ticks) > 0)
pc.stop()
socks = bind_sockets(0, "127.0.0.1")
print("bound", all(s.getsockname()[0] == "127.0.0.1" for s in socks))
for s in socks:
    s.close()
for name in ("squall.http", "squall.web"):
    try:
        __import__(name)
        print("imported", name)
    except ModuleNotFoundError:
        print("missing", name)
""",
    )
    result = launcher.run(script, [], python=str(python))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "dists ['squall-loop']"
    assert lines[1] == "run_sync 42 ['callback', 'later'] True"
    assert lines[2] == "bound True"
    assert lines[3:] == ["missing squall.http", "missing squall.web"]


def test_loop_and_http_serve_a_plain_callable(venvs, launcher, tmp_path):
    python = venvs.create("http", ["loop", "http"])
    script = _script(
        tmp_path,
        "plain.py",
        LIST_SQUALL
        + """
import sys
import squall.http, squall.loop
try:
    import squall.web
    print("imported squall.web")
except ModuleNotFoundError:
    print("missing squall.web", flush=True)

def app(request):
    body = f"plain {request.method} {request.path} {request.query_arguments}".encode()
    request.connection.respond(200, [("Content-Type", "text/plain")], body)

port = int(sys.argv[1].split("=", 1)[1])
server = squall.http.HTTPServer(app)
server.listen(port, "127.0.0.1")
squall.loop.IOLoop.current().start()
""",
    )
    with launcher.running_example(script, python=str(python)) as srv:
        r = httpx.get(srv.url + "/hi?x=1")
        assert r.status_code == 200
        assert r.text == "plain GET /hi {'x': [b'1']}"
        out = srv.wait_stdout("squall.web")
    assert out.splitlines()[:2] == ["dists ['squall-http', 'squall-loop']", "missing squall.web"]


PLUGIN_ERRORS = """
import squall.web
for setting, value in (("static_path", "."), ("template_path", ".")):
    try:
        squall.web.Application([], **{setting: value})
        print(setting, "accepted")
    except Exception as exc:
        print(setting, type(exc).__name__, str(exc).replace("\\n", " "))
"""


def test_loop_http_web_serve_hello_and_name_missing_plugins(venvs, launcher, tmp_path):
    python = venvs.create("web", ["loop", "http", "web"])
    with launcher.running_example("hello.py", python=str(python)) as srv:
        assert httpx.get(srv.url + "/").text == "hello word"
    result = launcher.run(
        _script(tmp_path, "errors.py", LIST_SQUALL + PLUGIN_ERRORS), [], python=str(python)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "dists ['squall-http', 'squall-loop', 'squall-web']"
    assert lines[1].startswith("static_path MissingPluginError") and "squall-static" in lines[1]
    assert lines[2].startswith("template_path MissingPluginError") and "squall-template" in lines[2]
    # The methods that need a plugin name it too, at request time.
    script = _script(
        tmp_path,
        "methods.py",
        """
import sys
import squall.loop, squall.web

class Use(squall.web.RequestHandler):
    def get(self, what):
        try:
            if what == "render":
                self.render("page.html")
            else:
                self.write(self.static_url("x.css"))
        except squall.web.MissingPluginError as exc:
            self.write(str(exc))

app = squall.web.Application([(r"/(render|static_url)", Use)])
app.listen(int(sys.argv[1].split("=", 1)[1]), "127.0.0.1")
squall.loop.IOLoop.current().start()
""",
    )
    with launcher.running_example(script, python=str(python)) as srv:
        assert "squall-template" in httpx.get(srv.url + "/render").text
        assert "squall-static" in httpx.get(srv.url + "/static_url").text


def test_web_plus_static_alone(venvs, launcher, tmp_path, examples_dir):
    python = venvs.create("static", ["loop", "http", "web", "static"])
    script = _script(
        tmp_path,
        "static_alone.py",
        f"""
import sys
import squall.loop, squall.web
from squall.static import StaticFileHandler
statics = {str(examples_dir / "statics")!r}
app = squall.web.Application(
    [(r"/(.*)", StaticFileHandler, dict(path=statics + "/html", default_filename="index.html"))],
    static_path=statics,
)
app.listen(int(sys.argv[1].split("=", 1)[1]), "127.0.0.1")
squall.loop.IOLoop.current().start()
""",
    )
    with launcher.running_example(script, python=str(python)) as srv:
        r = httpx.get(srv.url + "/static/css/style.css")
        assert r.content == (examples_dir / "statics/css/style.css").read_bytes()
        assert (
            httpx.get(srv.url + "/").content
            == (examples_dir / "statics/html/index.html").read_bytes()
        )
    result = launcher.run(
        _script(tmp_path, "errors.py", LIST_SQUALL + PLUGIN_ERRORS), [], python=str(python)
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "dists ['squall-http', 'squall-loop', 'squall-static', 'squall-web']"
    assert lines[1] == "static_path accepted"
    assert "squall-template" in lines[2]


def test_tcp_with_loop_alone_serves_the_echo_demo(venvs, launcher, tmp_path):
    python = venvs.create("tcp", ["loop", "tcp"])
    script = _script(
        tmp_path,
        "use_tcp.py",
        LIST_SQUALL
        + """
for name in ("squall.tcp", "squall.loop.gen", "squall.http"):
    try:
        __import__(name)
        print("imported", name)
    except ModuleNotFoundError:
        print("missing", name)
""",
    )
    result = launcher.run(script, [], python=str(python))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "dists ['squall-loop', 'squall-tcp']",
        "imported squall.tcp",
        "imported squall.loop.gen",
        "missing squall.http",
    ]
    with launcher.running_example("tcp_echo.py", python=str(python)) as srv:
        done = launcher.run(
            "tcp_echo.py", ["client", f"--port={srv.port}", "--message=alone"], python=str(python)
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "response from server: alone"


def test_web_plus_options_alone(venvs, launcher):
    python = venvs.create("options", ["loop", "http", "web", "options"])
    with launcher.running_example("options.py", ["--pppp=a,1"], python=str(python)) as srv:
        assert httpx.get(srv.url + "/").text == "hello word"
        assert srv.wait_stdout("]").splitlines()[:2] == [str(srv.port), "['a', '1']"]
    result = launcher.run("options.py", ["--port=sdf"], python=str(python))
    assert result.returncode == 2
    with launcher.running_example("logging_off.py", ["--logging=none"], python=str(python)) as srv:
        assert httpx.get(srv.url + "/").text == "hello word"


def test_web_plus_template_alone(venvs, launcher, tmp_path, examples_dir):
    python = venvs.create("template", ["loop", "http", "web", "template"])
    script = _script(
        tmp_path,
        "template_alone.py",
        f"""
import sys
import squall.loop, squall.web

class Page(squall.web.RequestHandler):
    def get(self):
        self.render("debug.html", message="<alone>")

app = squall.web.Application([(r"/", Page)], template_path={str(examples_dir / "templates")!r})
app.listen(int(sys.argv[1].split("=", 1)[1]), "127.0.0.1")
squall.loop.IOLoop.current().start()
""",
    )
    with launcher.running_example(script, python=str(python)) as srv:
        r = httpx.get(srv.url + "/")
        assert r.status_code == 200
        assert "template v1" in r.text and "&lt;alone&gt;" in r.text
    result = launcher.run(
        _script(tmp_path, "errors.py", LIST_SQUALL + PLUGIN_ERRORS), [], python=str(python)
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "dists ['squall-http', 'squall-loop', 'squall-template', 'squall-web']"
    assert "squall-static" in lines[1]
    assert lines[2] == "template_path accepted"


def test_third_party_plugin_changes_a_running_app_without_code_change(venvs, launcher):
    python = venvs.create("plugin", ["loop", "http", "web"])
    with launcher.running_example("hello.py", python=str(python)) as srv:
        r = httpx.get(srv.url + "/")
        assert r.text == "hello word" and "x-hello-plugin" not in r.headers
        assert httpx.get(srv.url + "/plugin-hello").status_code == 404
    venvs.install(python, "plugin")
    # The same script, unchanged, started again: the plugin is found by its entry point.
    with launcher.running_example("hello.py", python=str(python)) as srv:
        r = httpx.get(srv.url + "/")
        assert r.text == "hello word"
        assert r.headers["x-hello-plugin"] == "1"
        r = httpx.get(srv.url + "/plugin-hello")
        assert (r.status_code, r.text) == (200, "hello from a plugin")
        assert r.headers["x-hello-plugin"] == "1"
    # SQUALL_WEB_NO_AUTOLOAD=1 turns entry-point discovery off.
    with launcher.running_example(
        "hello.py", python=str(python), env={"SQUALL_WEB_NO_AUTOLOAD": "1"}
    ) as srv:
        assert httpx.get(srv.url + "/plugin-hello").status_code == 404
