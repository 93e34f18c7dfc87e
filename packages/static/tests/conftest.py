"""Fixtures of squall.static's tests: a real server in a thread, a site on disk, raw HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from squall.http import HTTPServer
from squall.web import Application


@contextmanager
def serving(app: Application, use_uvloop: bool = False) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) from a thread; yield its base URL."""
    # The loop first: a skip (no uvloop) must not leave an open socket behind, whose
    # ResourceWarning would fail whichever test the garbage collector runs in.
    if use_uvloop:
        uvloop = pytest.importorskip("uvloop")
        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    started = threading.Event()
    box: dict[str, HTTPServer] = {}
    errors: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:

            async def start() -> None:
                server = HTTPServer(app)
                server.add_sockets([sock])
                box["server"] = server

            loop.run_until_complete(start())
        except BaseException as exc:  # report to the test thread
            errors.append(exc)
            started.set()
            return
        started.set()
        loop.run_forever()
        server = box["server"]
        server.stop()
        loop.run_until_complete(server.shutdown(2))
        loop.run_until_complete(app.shutdown())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.run_until_complete(loop.shutdown_asyncgens())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert started.wait(10), "server did not start"
        if errors:
            raise errors[0]
        yield f"http://127.0.0.1:{port}"
    finally:
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Application], str]]:
    """``serve(app, use_uvloop=False) -> base_url``: every app started is stopped after."""
    with _Stack() as s:
        yield s.serve


class _Stack:
    def __init__(self) -> None:
        self._cms: list[object] = []

    def serve(self, app: Application, use_uvloop: bool = False) -> str:
        cm = serving(app, use_uvloop)
        url = cm.__enter__()
        self._cms.append(cm)
        return url

    def __enter__(self) -> _Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        while self._cms:
            cm = self._cms.pop()
            cm.__exit__(None, None, None)  # type: ignore[attr-defined]


def raw_request(base_url: str, request: bytes, timeout: float = 10.0) -> bytes:
    """Send ``request`` as is on a new connection and return everything the server sends."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def raw_get(base_url: str, target: str, method: str = "GET", extra: str = "") -> bytes:
    """A raw ``GET target`` (never normalised, unlike httpx) with ``Connection: close``."""
    req = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n"
    return raw_request(base_url, req.encode("latin-1"))


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and body of one raw response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The notes' layout: statics/ with html/index.html, css, favicon, robots, a big file."""
    root = tmp_path / "statics"
    (root / "html" / "sub").mkdir(parents=True)
    (root / "html" / "empty").mkdir()
    (root / "css").mkdir()
    (root / "html" / "index.html").write_text("<h1>index</h1>")
    (root / "html" / "sub" / "index.html").write_text("<h1>sub</h1>")
    (root / "html" / "page.html").write_text("<p>page</p>")
    (root / "css" / "a.css").write_text("body { color: red }")
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00icon")
    (root / "robots.txt").write_text("User-agent: *\n")
    (root / "data.bin").write_bytes(bytes(range(256)) * 16)  # 4 KiB
    (root / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "statics_other").mkdir()
    (tmp_path / "statics_other" / "x.txt").write_text("other")
    return root


class Raw:
    """Raw HTTP helpers handed to tests by the ``raw`` fixture (conftest is not importable)."""

    request = staticmethod(raw_request)
    get = staticmethod(raw_get)
    parse = staticmethod(parse_response)


@pytest.fixture
def raw() -> type[Raw]:
    """Raw-socket HTTP: ``raw.get(url, target)``, ``raw.request(url, bytes)``, ``raw.parse``."""
    return Raw
