"""squall apps under third-party ASGI servers: uvicorn, Hypercorn (HTTP/1.1, and HTTP/2 over
TLS) and Granian, each a real process on 127.0.0.1, with ``squall.asgi.to_asgi``.

The applications are the examples (``hello``: its module-level ``app``; ``write``: its
``make_app()`` factory) and ``features`` (streamed output, a streamed request body, the
lifespan's startup hook), from asgi_apps.py. Each server process is started in its own
session and killed by its process-group id.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path, Path]:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("asgi-tls")
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    leaf.private_key_pem.write_to_path(str(keyfile))
    return ca, certfile, keyfile


def command(server: str, target: str, port: int, tls: tuple[Path, Path] | None) -> list[str]:
    if server == "uvicorn":
        cmd = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--lifespan", "on", "--no-access-log"]
    elif server == "hypercorn":
        cmd = [sys.executable, "-m", "hypercorn", target, "--bind", f"127.0.0.1:{port}"]
        if tls:
            cmd += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
    else:
        cmd = [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--workers", "1", target]
    return cmd


@contextlib.contextmanager
def asgi_server(
    server: str,
    target: str,
    tmp_path: Path,
    get_free_port: object,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[str]:
    """Start ``server`` serving ``asgi_apps:target``; yield its base URL; kill its group."""
    for _attempt in range(3):
        port = get_free_port()  # type: ignore[operator]
        log = tmp_path / f"{server}-{target}-{port}.log"
        env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{HERE}")
        env.pop("PYTHONWARNINGS", None)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                command(server, f"asgi_apps:{target}", port, tls),
                cwd=str(HERE),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        try:
            scheme = "https" if tls else "http"
            url = f"{scheme}://127.0.0.1:{port}"
            if _wait_ready(proc, url, tls):
                yield url
                return
            if "address already in use" not in log.read_text(errors="replace").lower():
                pytest.fail(f"{server} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    pytest.fail(f"{server}: no free port after three attempts")


def _wait_ready(proc: subprocess.Popen[bytes], url: str, tls: object) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            httpx.get(url + "/", verify=False, timeout=1)
            return True
        except httpx.TransportError:
            time.sleep(0.1)
    return False


SERVERS = ["uvicorn", "hypercorn", "granian"]


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS)
def test_hello_example_under_asgi_server(
    server: str, tmp_path: Path, get_free_port: object
) -> None:
    with asgi_server(server, "hello", tmp_path, get_free_port) as url, httpx.Client() as c:
        r = c.get(url + "/")
        assert r.status_code == 200
        assert r.text == "hello word"
        assert c.post(url + "/").status_code == 405
        assert c.get(url + "/nowhere").status_code == 404


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS)
def test_write_example_factory_under_asgi_server(
    server: str, tmp_path: Path, get_free_port: object
) -> None:
    with asgi_server(server, "write", tmp_path, get_free_port) as url, httpx.Client() as c:
        assert c.get(url + "/").text == "hello itcast 1!hello itcast 2!hello itcast 3!"
        r = c.get(url + "/jsonone")
        assert r.headers["content-type"] == "application/json; charset=UTF-8"
        assert r.json() == {"name": "小明", "age": 24}


@pytest.mark.slow
@pytest.mark.parametrize("server", SERVERS)
def test_lifespan_streaming_and_streamed_body_under_asgi_server(
    server: str, tmp_path: Path, get_free_port: object
) -> None:
    with asgi_server(server, "features", tmp_path, get_free_port) as url, httpx.Client() as c:
        info = c.get(url + "/info?x=1").json()
        assert info["started"] == "lifespan"
        assert info["ip"] == "127.0.0.1"
        assert info["protocol"] == "http"
        assert info["uri"] == "/info?x=1"
        with c.stream("GET", url + "/pieces") as r:
            assert r.read() == b"piece0\npiece1\npiece2\npiece3\n"
        payload = b"q" * (1024 * 1024)

        def body() -> Iterator[bytes]:
            for i in range(0, len(payload), 65536):
                yield payload[i : i + 65536]

        counted = c.put(url + "/count", content=body(), timeout=30).json()
        assert counted["size"] == len(payload)
        assert counted["pieces"] > 1


@pytest.mark.slow
def test_hypercorn_http2_over_tls(
    cert: tuple[trustme.CA, Path, Path], tmp_path: Path, get_free_port: object
) -> None:
    ca, certfile, keyfile = cert
    context = ssl.create_default_context()
    ca.configure_trust(context)
    tls = (certfile, keyfile)
    with (
        asgi_server("hypercorn", "features", tmp_path, get_free_port, tls) as url,
        httpx.Client(http2=True, verify=context) as c,
    ):
        r = c.get(url + "/info")
        assert r.http_version == "HTTP/2"
        assert r.json()["protocol"] == "https"
        assert r.json()["version"] == "HTTP/2"
        assert r.json()["started"] == "lifespan"
        with c.stream("GET", url + "/pieces") as streamed:
            assert streamed.http_version == "HTTP/2"
            assert streamed.read() == b"piece0\npiece1\npiece2\npiece3\n"
        hello = c.post(url + "/count", content=b"x")
        assert hello.status_code == 405
