"""The websocket scope of squall.asgi.to_asgi: squall.websocket handlers driven by ASGI messages
(in process) and served by uvicorn and Hypercorn to squall.websocket's own client (here, not in
packages/asgi/tests: it needs squall-websocket, which squall-asgi does not depend on)."""

from __future__ import annotations

import asyncio
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
from typing import Any

import pytest

from squall.asgi import to_asgi
from squall.web import Application
from squall.websocket import WebSocketHandler, websocket_connect

closed: list[Any] = []


class Echo(WebSocketHandler):
    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return "chat" if "chat" in subprotocols else None

    def on_message(self, message: str | bytes) -> None:
        if message == "bye":
            self.close(4000, "asked to")
        elif message == "ping me":
            self.ping(b"p")
            self.write_message("pinged")
        else:
            self.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        closed.append((self.close_code, self.close_reason))


class Refuse(WebSocketHandler):
    def check_origin(self, origin: str) -> bool:
        return False


def make_app() -> Application:
    return Application([(r"/ws", Echo), (r"/refuse", Refuse)])


def _scope(path: str, **extra: Any) -> dict[str, Any]:
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"example.com"),
            (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-protocol", b"chat"),
            (b"sec-websocket-extensions", b"permessage-deflate"),
        ],
        "client": ("127.0.0.1", 4000),
        "server": ("127.0.0.1", 80),
        "subprotocols": ["chat"],
    }
    scope.update(extra)
    return scope


async def _drive(path: str, incoming: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    """Run one websocket call; each incoming message waits for the previous answer."""
    sent: list[dict[str, Any]] = []
    got = asyncio.Event()
    queue = list(incoming)

    async def receive() -> dict[str, Any]:
        if len(sent) > 0:
            # no wait_for here: on 3.11 it can swallow the cancellation that ends the reader
            await got.wait()
            got.clear()
        if queue:
            return queue.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        got.set()

    await asyncio.wait_for(to_asgi(make_app())(_scope(path, **extra), receive, send), 5)
    return sent


def test_accept_with_subprotocol_echo_text_and_bytes_then_server_close() -> None:
    closed.clear()
    sent = asyncio.run(
        _drive(
            "/ws",
            [
                {"type": "websocket.connect"},
                {"type": "websocket.receive", "text": "hello"},
                {"type": "websocket.receive", "bytes": b"\x00\x01" * 40000},
                {"type": "websocket.receive", "text": "bye"},
            ],
        )
    )
    assert sent[0]["type"] == "websocket.accept" and sent[0]["subprotocol"] == "chat"
    assert sent[1] == {"type": "websocket.send", "text": "hello"}
    assert sent[2] == {"type": "websocket.send", "bytes": b"\x00\x01" * 40000}
    assert sent[3] == {"type": "websocket.close", "code": 4000, "reason": "asked to"}
    assert [code for code, _reason in closed] == [4000]  # the code the close echo carried


def test_handler_ping_is_answered_without_reaching_the_client() -> None:
    sent = asyncio.run(
        _drive(
            "/ws",
            [
                {"type": "websocket.connect"},
                {"type": "websocket.receive", "text": "ping me"},
                {"type": "websocket.receive", "text": "bye"},
            ],
        )
    )
    assert [m["type"] for m in sent] == [
        "websocket.accept", "websocket.send", "websocket.close",
    ]  # fmt: skip
    assert sent[1]["text"] == "pinged"


def test_client_disconnect_reaches_on_close_with_its_code() -> None:
    closed.clear()
    sent = asyncio.run(
        _drive(
            "/ws",
            [
                {"type": "websocket.connect"},
                {"type": "websocket.receive", "text": "x"},
                {"type": "websocket.disconnect", "code": 1001},
            ],
        )
    )
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send"]
    assert [code for code, _reason in closed] == [1001]


def test_refused_handshake_uses_http_response_extension_when_offered() -> None:
    sent = asyncio.run(
        _drive(
            "/refuse",
            [{"type": "websocket.connect"}],
            headers=[(b"host", b"example.com"), (b"origin", b"http://evil.example")],
            extensions={"websocket.http.response": {}},
        )
    )
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 403
    assert b"Cross origin" in sent[1]["body"]


def test_refused_handshake_without_the_extension_is_a_close() -> None:
    sent = asyncio.run(
        _drive(
            "/refuse",
            [{"type": "websocket.connect"}],
            headers=[(b"host", b"example.com"), (b"origin", b"http://evil.example")],
        )
    )
    assert sent == [{"type": "websocket.close", "code": 1008}]


SERVER_APP = """
import squall.web
from squall.asgi import to_asgi
from squall.websocket import WebSocketHandler

class Echo(WebSocketHandler):
    def on_message(self, message):
        self.write_message("echo: " + message if isinstance(message, str) else message,
                           binary=isinstance(message, bytes))

app = to_asgi(squall.web.Application([(r"/ws", Echo)]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(cmd: list[str], folder: Path, port: int) -> Iterator[None]:
    env = dict(os.environ, PYTHONPATH=str(folder))
    env.pop("PYTHONWARNINGS", None)
    proc = subprocess.Popen(
        cmd, cwd=str(folder), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{cmd[2]} did not start")
                time.sleep(0.1)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.mark.slow
@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
def test_squall_websocket_under_asgi_server(server: str, tmp_path: Path) -> None:
    (tmp_path / "ws_app.py").write_text(textwrap.dedent(SERVER_APP))
    port = _free_port()
    if server == "uvicorn":
        cmd = [sys.executable, "-m", "uvicorn", "ws_app:app", "--port", str(port),
               "--ws", "wsproto", "--log-level", "warning"]  # fmt: skip
    else:
        cmd = [sys.executable, "-m", "hypercorn", "ws_app:app", "--bind", f"127.0.0.1:{port}"]

    async def talk() -> tuple[Any, Any, Any]:
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/ws")
        await ws.write_message("hi")
        first = await ws.read_message()
        await ws.write_message(b"\x01\x02", binary=True)
        second = await ws.read_message()
        ws.close(1000)
        end = await ws.read_message()
        return first, second, end

    with _server(cmd, tmp_path, port):
        first, second, end = asyncio.run(talk())
    assert first == "echo: hi"
    assert second == b"\x01\x02"
    assert end is None
