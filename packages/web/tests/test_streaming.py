"""@stream_request_body: prepare before the body, data_received per piece, size limits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from squall.web import Application, RequestHandler, stream_request_body


@stream_request_body
class Upload(RequestHandler):
    max_body_size = 1024 * 1024

    def prepare(self) -> None:
        self.pieces: list[int] = []
        self.total = 0
        self.prepared_with_body = bool(self.request.body)

    def data_received(self, chunk: bytes) -> None:
        self.pieces.append(len(chunk))
        self.total += len(chunk)

    def post(self) -> None:
        self.write(
            {
                "total": self.total,
                "pieces": len(self.pieces),
                "prepared_with_body": self.prepared_with_body,
                "body_kept": len(self.request.body),
            }
        )

    put = post


@stream_request_body
class AsyncUpload(RequestHandler):
    async def prepare(self) -> None:
        await asyncio.sleep(0.01)
        self.total = 0

    async def data_received(self, chunk: bytes) -> None:
        await asyncio.sleep(0)
        self.total += len(chunk)

    def post(self) -> None:
        self.write(str(self.total))


@stream_request_body
class RefusesInPrepare(RequestHandler):
    def prepare(self) -> None:
        raise PermissionError("no uploads")

    def data_received(self, chunk: bytes) -> None:
        raise AssertionError("must not be called")

    def post(self) -> None:
        raise AssertionError("must not be called")


class SmallBodies(RequestHandler):
    max_body_size = 10

    def post(self) -> None:
        self.write(self.request.body)


@pytest.fixture
def app() -> Application:
    return Application(
        [
            (r"/upload", Upload),
            (r"/async-upload", AsyncUpload),
            (r"/refuses", RefusesInPrepare),
            (r"/small", SmallBodies),
        ]
    )


def gen_body(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        n = min(piece, size - sent)
        yield b"x" * n
        sent += n


def test_body_arrives_in_pieces_after_prepare(squall_client: httpx.Client) -> None:
    r = squall_client.post("/upload", content=gen_body(512 * 1024))
    data = r.json()
    assert data["total"] == 512 * 1024
    assert data["pieces"] >= 1
    assert data["prepared_with_body"] is False
    assert data["body_kept"] == 0


def test_async_prepare_and_data_received(squall_client: httpx.Client) -> None:
    r = squall_client.post("/async-upload", content=b"y" * 300_000)
    assert r.text == "300000"


def test_error_in_prepare_answers_before_the_body(squall_client: httpx.Client) -> None:
    r = squall_client.post("/refuses", content=b"z" * 1000)
    assert r.status_code == 500


def test_per_handler_limit_above_it_is_413(squall_client: httpx.Client) -> None:
    assert squall_client.post("/small", content=b"123456789").text == "123456789"
    r = squall_client.post("/small", content=b"x" * 100)
    assert r.status_code == 413


def test_streaming_handler_limit(squall_server: Any) -> None:
    with socket.create_connection(("127.0.0.1", squall_server.port), timeout=5) as s:
        s.sendall(
            b"PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (2 * 1024 * 1024)
        )
        data = s.recv(65536)
    assert data.startswith(b"HTTP/1.1 413")


def test_stream_request_body_needs_a_handler_class() -> None:
    with pytest.raises(TypeError):
        stream_request_body(object)  # type: ignore[type-var]
