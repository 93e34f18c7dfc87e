"""respond() keeps the connection in step: a given Content-Length must be the body's length."""

from __future__ import annotations

from typing import Any

import pytest

from squall.http import ContentLengthMismatchError, HTTPServerRequest, LocalProtocolError


def _declaring(declared: str) -> Any:
    """A callback announcing ``declared`` bytes for the 5-byte body ``hello``.

    When respond() refuses, the callback answers what it saw with a plain response, so
    the test reads both the refusal and what went out on the wire.
    """

    def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        if request.path == "/next":
            conn.respond(200, [], b"next")
            return
        try:
            conn.respond(200, [("Content-Length", declared)], b"hello")
        except ContentLengthMismatchError as exc:
            assert isinstance(exc, LocalProtocolError) and isinstance(exc, ValueError)
            conn.respond(500, [], f"refused: {exc}".encode())

    return app


PIPELINED = (
    b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
)


@pytest.mark.parametrize("declared", ["3", "10", "x5", "-5"])
def test_a_content_length_that_is_not_the_body_length_is_refused_before_sending(
    serve: Any, declared: str
) -> None:
    raw = serve(_declaring(declared)).send_raw(PIPELINED)
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 500 ")
    assert b"hello" not in raw
    body, _, second = rest.partition(b"HTTP/1.1 ")
    assert body.startswith(b"refused: Content-Length")
    assert f"{declared!r}".encode() in body and b"5 bytes" in body
    # the pipelined request that followed is answered on its own, in step
    assert second.startswith(b"200 OK\r\n") and second.endswith(b"\r\n\r\nnext")


def test_a_matching_content_length_is_sent_once_as_given(serve: Any) -> None:
    raw = serve(_declaring("5")).send_raw(PIPELINED)
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and head.lower().count(b"content-length") == 1
    assert rest.startswith(b"helloHTTP/1.1 200 OK\r\n") and rest.endswith(b"next")


def test_head_answers_keep_the_length_of_the_body_they_leave_out(serve: Any) -> None:
    def app(request: HTTPServerRequest) -> None:
        request.connection.respond(200, [("Content-Length", "42")], b"")  # type: ignore[union-attr]

    raw = serve(app).send_raw(b"HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 ") and b"Content-Length: 42\r\n" in raw
