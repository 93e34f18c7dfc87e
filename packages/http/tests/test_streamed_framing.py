"""write_headers never announces a framing it does not use (HTTP/1.0, Content-Length)."""

from __future__ import annotations

from typing import Any

import pytest

from squall.http import HTTPServerRequest


def _streamer(headers: list[tuple[str, str]]) -> Any:
    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        conn.write_headers(200, headers)
        await conn.write(b"one ")
        await conn.write(b"two")
        conn.finish()

    return app


def _head_and_body(raw: bytes) -> tuple[str, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode("latin-1").lower(), body


def test_user_chunked_header_to_http10_client_is_dropped_and_body_close_delimited(
    serve: Any,
) -> None:
    st = serve(_streamer([("Transfer-Encoding", "chunked")]))
    head, body = _head_and_body(st.send_raw(b"GET / HTTP/1.0\r\n\r\n"))
    assert head.startswith("http/1.1 200 ")
    assert "transfer-encoding" not in head
    assert body == b"one two"  # raw bytes, ended by the close


def test_user_chunked_header_to_http11_client_is_used(serve: Any) -> None:
    st = serve(_streamer([("Transfer-Encoding", "chunked")]))
    head, body = _head_and_body(
        st.send_raw(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    )
    assert head.count("transfer-encoding: chunked") == 1
    assert body == b"4\r\none \r\n3\r\ntwo\r\n0\r\n\r\n"


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_transfer_encoding_beside_content_length_is_dropped(serve: Any, version: str) -> None:
    st = serve(_streamer([("Content-Length", "7"), ("Transfer-Encoding", "chunked")]))
    host = "Host: t\r\n" if version == "1.1" else ""
    head, body = _head_and_body(
        st.send_raw(f"GET / HTTP/{version}\r\n{host}Connection: close\r\n\r\n".encode())
    )
    assert "transfer-encoding" not in head and "content-length: 7" in head
    assert body == b"one two"
