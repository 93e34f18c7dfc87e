"""CONNECT in squall.web: 405 unless the matched handler defines ``connect``.

A CONNECT target is authority-form (``host:port``), so a rule reaches it only when its
pattern matches that text. squall.http reads no body for CONNECT (RFC 9110 §9.3.6) and
closes the connection after the answer; these tests send raw bytes to a live server.
"""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest

from squall.web import Application, RequestHandler


class Tunnel(RequestHandler):
    def connect(self) -> None:
        self.set_status(403)
        self.write(f"no tunnel to {self.request.path}, body {len(self.request.body)}")

    def get(self) -> None:
        self.write("get")


class GetOnly(RequestHandler):
    def get(self) -> None:
        self.write("x")


def _app() -> Application:
    return Application(
        [
            (r"tunnel\.example:443", Tunnel),
            (r"plain\.example:443", GetOnly),
            (r"/tunnel", Tunnel),
            (r"/getonly", GetOnly),
        ]
    )


def _exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):  # the server closes after a CONNECT answer
            out += chunk
    return out


def _connect(target: bytes, extra: bytes = b"") -> bytes:
    return b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%b\r\n" % (target, target, extra)


@pytest.fixture
def port(squall_live_server: Any) -> int:
    return int(squall_live_server(_app()).port)


def test_handler_defining_connect_answers_it_without_a_body(port: int) -> None:
    raw = _exchange(
        port,
        _connect(b"tunnel.example:443", b"Content-Length: 4\r\n")
        + b"abcdGET /getonly HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", raw) == [b"403"]  # the follower is not served
    assert raw.endswith(b"no tunnel to tunnel.example:443, body 0")


def test_handler_without_connect_answers_405_listing_what_it_allows(port: int) -> None:
    raw = _exchange(port, _connect(b"plain.example:443"))
    assert raw.startswith(b"HTTP/1.1 405 ")
    assert re.search(rb"\r\nAllow: GET, HEAD\r\n", raw)


def test_connect_to_a_target_no_rule_matches_is_405(port: int) -> None:
    assert _exchange(port, _connect(b"elsewhere.example:443")).startswith(b"HTTP/1.1 405 ")


def test_allow_header_names_connect_when_the_handler_defines_it(port: int) -> None:
    raw = _exchange(port, b"POST /tunnel HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 405 ")
    assert re.search(rb"\r\nAllow: GET, HEAD, CONNECT\r\n", raw)


def test_connect_is_not_among_the_default_supported_methods() -> None:
    # As in Tornado: a ported handler's own SUPPORTED_METHODS logic sees the same tuple.
    assert "CONNECT" not in RequestHandler.SUPPORTED_METHODS
    assert GetOnly._method_name("CONNECT") is None
    assert Tunnel._method_name("CONNECT") == "connect"
