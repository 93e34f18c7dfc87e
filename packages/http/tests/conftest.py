"""Fixtures for squall.http tests: a real HTTPServer on 127.0.0.1 in a thread, raw clients.

The server runs its own asyncio loop in a background thread so that tests can talk to it
with plain blocking sockets (byte-exact requests, one byte at a time, half-closes) and
with httpx. Everything is closed at teardown (``-W error`` turns leaks into failures).
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from squall.http import HTTPServer, HTTPServerRequest


class ServerThread:
    """An HTTPServer serving on 127.0.0.1:<port> from a loop in a background thread."""

    def __init__(self, callback: Any, *, use_uvloop: bool = False, **kwargs: Any) -> None:
        self.callback = callback
        self.kwargs = kwargs
        if use_uvloop:
            uvloop = pytest.importorskip("uvloop")
            self.loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        else:
            self.loop = asyncio.new_event_loop()
        self.server: HTTPServer | None = None
        self.port = 0
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("server thread did not start")
        if self._error is not None:
            raise self._error
        return self

    async def _setup(self) -> None:
        self.server = HTTPServer(self.callback, **self.kwargs)
        self.server.listen(0, "127.0.0.1")
        self.port = self.server.sockets[0].getsockname()[1]

    def _run(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._setup())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        assert self.server is not None
        self.server.stop()
        loop.run_until_complete(self.server.close_all_connections())
        loop.run_until_complete(asyncio.sleep(0.01))
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in the server's loop thread and return its result."""
        fut = asyncio.run_coroutine_threadsafe(_as_coro(fn), self.loop)
        return fut.result(10)

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connect(self, timeout: float = 5.0) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return sock

    def send_raw(self, data: bytes, *, one_byte_at_a_time: bool = False) -> bytes:
        """Send ``data`` on a new connection and return all bytes until the server closes."""
        with self.connect() as sock:
            try:
                if one_byte_at_a_time:
                    for i in range(len(data)):
                        sock.sendall(data[i : i + 1])
                else:
                    sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may close as soon as it has seen enough
            return read_until_close(sock)

    def first_status(self, data: bytes, **kwargs: Any) -> int | None:
        """Send ``data`` and return the status of the first response (None: closed silently)."""
        raw = self.send_raw(data, **kwargs)
        if not raw:
            return None
        return int(raw.split(b" ", 2)[1])

    @staticmethod
    def read_response(sock: socket.socket, buf: bytearray, head_only: bool = False) -> RawResponse:
        return read_response(sock, buf, head_only)

    @staticmethod
    def read_until_close(sock: socket.socket) -> bytes:
        return read_until_close(sock)


async def _as_coro(fn: Callable[[], Any]) -> Any:
    return fn()


def hello(request: HTTPServerRequest) -> None:
    """A plain callback: echoes method, path, body length and arguments count."""
    args = request.arguments  # touches lazily parsed query arguments (limits apply)
    body = (
        f"{request.method} {request.path} {len(request.body)} {len(args)} {len(request.files)}"
    ).encode()
    request.connection.respond(200, [("Content-Type", "text/plain")], body)  # type: ignore[union-attr]


@pytest.fixture
def serve() -> Iterator[Callable[..., ServerThread]]:
    """``serve(callback=hello, use_uvloop=False, **HTTPServer kwargs)`` → a started ServerThread."""
    started: list[ServerThread] = []

    def start(callback: Any = hello, **kwargs: Any) -> ServerThread:
        st = ServerThread(callback, **kwargs).start()
        started.append(st)
        return st

    yield start
    for st in started:
        st.stop()


def read_until_close(sock: socket.socket, limit: int = 1 << 24) -> bytes:
    """Read everything the server sends until it closes (or the socket times out)."""
    chunks = []
    total = 0
    while total < limit:
        try:
            data = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


class RawResponse:
    """A parsed response read from a raw socket."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes, head: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.head = head


def read_response(sock: socket.socket, buf: bytearray, head_only: bool = False) -> RawResponse:
    """Read one response from ``sock`` (leftover bytes stay in ``buf``)."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise EOFError(f"connection closed; got {bytes(buf)!r}")
        buf += data
    end = buf.index(b"\r\n\r\n")
    head = bytes(buf[:end])
    del buf[: end + 4]
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if head_only or status in (204, 304) or 100 <= status < 200:
        return RawResponse(status, headers, body, head)
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            data = sock.recv(65536)
            if not data:
                raise EOFError("closed mid-body")
            buf += data
        body = bytes(buf[:n])
        del buf[:n]
    elif headers.get("transfer-encoding") == "chunked":
        out = bytearray()
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            i = buf.index(b"\r\n")
            size = int(bytes(buf[:i]).split(b";")[0], 16)
            del buf[: i + 2]
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            out += buf[:size]
            del buf[: size + 2]
            if size == 0:
                break
        body = bytes(out)
    else:
        body = bytes(buf) + read_until_close(sock)
        buf.clear()
    return RawResponse(status, headers, body, head)


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    """The cyclic garbage collector off for the test: what is freed, refcounting freed."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
