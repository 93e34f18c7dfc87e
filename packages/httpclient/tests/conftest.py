"""A real squall.http server on 127.0.0.1 (a thread with its own loop) for the client tests.

The app is a plain squall.http callable: the client package needs only squall-http, and the
tests see exactly the bytes each route sends.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

from squall.http import HTTPServer, HTTPServerRequest

DIGEST_REALM = "squall-tests"
DIGEST_NONCE = "5ca1ab1e"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class App:
    """The routes the tests fetch; ``seen`` records each request (method, uri, headers)."""

    def __init__(self) -> None:
        self.seen: list[HTTPServerRequest] = []
        self.gate: asyncio.Event | None = None
        # /bytes/NAME answers 200 with bodies[NAME]: (headers, body), as given.
        self.bodies: dict[str, tuple[list[tuple[str, str]], bytes]] = {}

    def _json(self, request: HTTPServerRequest, status: int = 200, **extra: Any) -> None:
        doc = {
            "method": request.method,
            "uri": request.uri,
            "headers": [list(h) for h in request.headers.get_all()],
            "body": request.body.decode("latin-1"),
            "remote_ip": request.remote_ip,
            **extra,
        }
        body = json.dumps(doc).encode()
        request.connection.respond(status, [("Content-Type", "application/json")], body)

    async def __call__(self, request: HTTPServerRequest) -> None:
        self.seen.append(request)
        conn = request.connection
        path = request.path
        if path == "/echo":
            self._json(request)
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            conn.respond(code, [("Content-Type", "text/plain")], b"status body")
        elif path.startswith("/hops/"):
            left = int(path.rsplit("/", 1)[1])
            if left == 0:
                self._json(request)
            else:
                conn.respond(302, [("Location", f"/hops/{left - 1}")], b"hop body")
        elif path.startswith("/redirect/"):
            # /redirect/CODE?to=URL
            code = int(path.rsplit("/", 1)[1])
            target = request.query_arguments.get("to", [b"/echo"])[0].decode()
            conn.respond(code, [("Location", target)], b"")
        elif path == "/gzip":
            data = b"squall " * 100
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                conn.respond(200, [("Content-Encoding", "gzip")], gzip.compress(data))
            else:
                conn.respond(200, [], data)
        elif path.startswith("/bytes/"):
            extra, data = self.bodies[path.rsplit("/", 1)[1]]
            conn.respond(200, extra, data)
        elif path == "/chunks":
            conn.write_headers(200, [("Content-Type", "text/plain"), ("X-Test", "a")])
            for i in range(3):
                await conn.write(f"chunk{i};".encode())
                await asyncio.sleep(0.01)
            conn.finish()
        elif path == "/gate":
            assert self.gate is not None
            await self.gate.wait()
            conn.respond(200, [], b"opened")
        elif path == "/basic":
            expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
            if request.headers.get("Authorization") == expected:
                conn.respond(200, [], b"welcome ann")
            else:
                conn.respond(401, [("WWW-Authenticate", 'Basic realm="x"')], b"")
        elif path == "/digest":
            self._digest(request)
        elif path == "/close":
            assert conn.transport is not None
            conn.transport.abort()
        elif path == "/cookie":
            conn.respond(200, [("Set-Cookie", "session=abc; Path=/")], b"set")
        else:
            conn.respond(404, [], b"no such route")

    def _digest(self, request: HTTPServerRequest) -> None:
        conn = request.connection
        header = request.headers.get("Authorization", "")
        challenge = f'Digest realm="{DIGEST_REALM}", nonce="{DIGEST_NONCE}", qop="auth"'
        if not header.startswith("Digest "):
            conn.respond(401, [("WWW-Authenticate", challenge)], b"")
            return
        fields = dict(part.strip().split("=", 1) for part in header[len("Digest ") :].split(","))
        f = {k: v.strip('"') for k, v in fields.items()}
        ha1 = _md5(f"{f['username']}:{DIGEST_REALM}:pa55")
        ha2 = _md5(f"{request.method}:{f['uri']}")
        good = _md5(f"{ha1}:{f['nonce']}:{f['nc']}:{f['cnonce']}:{f['qop']}:{ha2}")
        if f["username"] == "bob" and f["response"] == good:
            conn.respond(200, [], b"welcome bob")
        else:
            conn.respond(401, [("WWW-Authenticate", challenge)], b"")


class Server:
    """A served :class:`App`: ``url``, ``app``, and ``open_gate()`` for ``/gate``."""

    def __init__(self, ssl_options: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.app = App()
        self.loop = asyncio.new_event_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        scheme = "https" if ssl_options is not None else "http"
        netloc = f"[{host}]" if family == socket.AF_INET6 else host
        self.url = f"{scheme}://{netloc}:{self.port}"
        self._ssl = ssl_options
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> HTTPServer:
            self.app.gate = asyncio.Event()
            server = HTTPServer(self.app, ssl_options=self._ssl)
            server.add_sockets([self.sock])
            self.http_server = server
            return server

        server = self.loop.run_until_complete(start())
        self._started.set()
        self.loop.run_forever()
        server.stop()
        self.loop.run_until_complete(server.close_all_connections())
        tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in tasks:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())

    def connections(self) -> int:
        """How many client connections the server holds open now (asked on its loop)."""

        async def count() -> int:
            return self.http_server.connections

        return asyncio.run_coroutine_threadsafe(count(), self.loop).result(10)

    def wait_for_connections(self, expected: int, within: float = 10.0) -> int:
        """Poll until the server holds ``expected`` connections (or ``within`` s pass)."""
        deadline = time.monotonic() + within
        while (now := self.connections()) != expected and time.monotonic() < deadline:
            time.sleep(0.01)
        return now

    def start(self) -> Server:
        self._thread.start()
        assert self._started.wait(10), "server did not start"
        return self

    def open_gate(self) -> None:
        assert self.app.gate is not None
        self.loop.call_soon_threadsafe(self.app.gate.set)

    def stop(self) -> None:
        self.open_gate()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
        self.sock.close()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def make_server() -> Iterator[Callable[..., Server]]:
    """``make_server(ssl_options=None, host="127.0.0.1") -> Server``, started; all stopped after."""
    made: list[Server] = []

    def make(ssl_options: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> Server:
        srv = Server(ssl_options, host).start()
        made.append(srv)
        return srv

    try:
        yield make
    finally:
        for srv in made:
            srv.stop()


@pytest.fixture
def tls(tmp_path: Any) -> Iterator[tuple[Server, str]]:
    """An HTTPS server whose certificate a fresh CA (trustme) signed; yields it and the CA file."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    srv = Server(ssl_options=ctx).start()
    try:
        yield srv, str(ca_file)
    finally:
        srv.stop()
