"""``squall run --interface asgi|wsgi module:app``: FastAPI and Flask apps served by the
squall command as real processes (lifespan at start and at SIGTERM), and the refusals."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from squall.asgi import CLIAppError, cli_app
from squall.web import Application

FASTAPI_APP = """
import contextlib, pathlib
from fastapi import FastAPI

@contextlib.asynccontextmanager
async def lifespan(app):
    pathlib.Path("events.txt").write_text("startup\\n")
    yield
    with open("events.txt", "a") as f:
        f.write("shutdown\\n")

app = FastAPI(lifespan=lifespan)

@app.get("/items/{n}")
async def item(n: int, q: str = ""):
    return {"n": n, "q": q}

def make():
    return app
"""

FLASK_APP = """
from flask import Flask
app = Flask(__name__)

@app.get("/")
def index():
    return "flask on squall"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def squall_run(folder: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(folder))
    env.pop("PYTHONWARNINGS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "squall", "run", *args, "--port", str(port), "--no-uvloop"],
        cwd=str(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        url = f"http://127.0.0.1:{port}"
        while True:
            if proc.poll() is not None:
                pytest.fail(f"squall run exited {proc.returncode}: {proc.stdout.read()}")  # type: ignore[union-attr]
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("squall run did not start serving")
                time.sleep(0.1)
        yield proc, url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()  # type: ignore[union-attr]


@pytest.mark.slow
@pytest.mark.parametrize("factory", [False, True])
def test_squall_run_interface_asgi_serves_fastapi_with_lifespan(
    tmp_path: Path, factory: bool
) -> None:
    (tmp_path / "api_mod.py").write_text(textwrap.dedent(FASTAPI_APP))
    target = ["api_mod:make", "--factory"] if factory else ["api_mod:app"]
    with squall_run(tmp_path, *target, "--interface", "asgi") as (proc, url):
        assert httpx.get(f"{url}/items/3?q=z").json() == {"n": 3, "q": "z"}
        assert (tmp_path / "events.txt").read_text() == "startup\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    assert (tmp_path / "events.txt").read_text() == "startup\nshutdown\n"


@pytest.mark.slow
def test_squall_run_interface_wsgi_serves_flask(tmp_path: Path) -> None:
    (tmp_path / "flask_mod.py").write_text(textwrap.dedent(FLASK_APP))
    with squall_run(tmp_path, "flask_mod:app", "--interface", "wsgi") as (proc, url):
        assert httpx.get(url).text == "flask on squall"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


def test_an_application_with_interface_asgi_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "sq_mod.py").write_text("import squall.web\napp = squall.web.Application([])\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    env.pop("PYTHONWARNINGS", None)
    done = subprocess.run(
        [sys.executable, "-m", "squall", "run", "sq_mod:app", "--interface", "asgi"],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: --interface asgi: sq_mod:app is a squall.web Application: "
        "serve it without --interface asgi"
    )


def test_cli_app_refuses_what_it_cannot_serve() -> None:
    with pytest.raises(CLIAppError, match="not an ASGI app"):
        cli_app(42, "asgi", "m:x")
    with pytest.raises(CLIAppError, match="squall.web Application"):
        cli_app(Application([]), "wsgi", "m:app")


FORKING_SERVER = """
import os, sys
from squall.asgi import ASGIServer
from squall.loop import IOLoop

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["started_in"] = os.getpid()
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = f"{os.getpid()} {scope['state']['started_in']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})

server = ASGIServer(app)
server.bind(int(sys.argv[1]), "127.0.0.1")
server.start(2)
IOLoop.current().start()
"""


@pytest.mark.slow
def test_bind_and_start_forks_children_that_each_run_lifespan(tmp_path: Path) -> None:
    (tmp_path / "forking.py").write_text(textwrap.dedent(FORKING_SERVER))
    port = _free_port()
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / "forking.py"), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        seen: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(seen) < 2 and time.monotonic() < deadline:
            try:
                with httpx.Client() as c:  # a new connection each time: any child may take it
                    pid, started_in = c.get(f"http://127.0.0.1:{port}/", timeout=2).text.split()
                seen[pid] = started_in
            except httpx.TransportError:
                time.sleep(0.1)
        assert len(seen) == 2, f"one child answered every request: {seen}"
        assert all(pid == started for pid, started in seen.items())  # lifespan ran in each
        assert str(proc.pid) not in seen
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
