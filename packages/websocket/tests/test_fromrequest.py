"""websocket_connect(HTTPRequest(...)): headers, timeout and TLS fields of a request object."""

from __future__ import annotations

import asyncio
import socket
import ssl
import types
from typing import Any

import pytest
import tornado.httpclient
import tornado.httputil

from squall.websocket import UnsupportedRequestField, WebSocketHandler, websocket_connect
from squall.websocket._fromrequest import from_request


class ShowHeaders(WebSocketHandler):
    def open(self) -> None:
        self.write_message(
            "|".join(
                [
                    ",".join(self.request.headers.get_list("X-Token")),
                    self.request.headers.get("Cookie", ""),
                    self.request.headers.get("User-Agent", ""),
                ]
            )
        )


def test_a_tornado_http_request_gives_url_and_headers(ws: Any) -> None:
    async def main() -> str:
        async with ws.app([("/ws", ShowHeaders)]) as url:
            headers = tornado.httputil.HTTPHeaders({"Cookie": "session=abc"})
            headers.add("X-Token", "one")
            headers.add("X-Token", "two")
            request = tornado.httpclient.HTTPRequest(
                url + "/ws", headers=headers, user_agent="demo-agent/1"
            )
            conn = await websocket_connect(request)
            message = await conn.read_message()
            conn.close()
            assert isinstance(message, str)
            return message

    assert ws.run(main()) == "one,two|session=abc|demo-agent/1"


def test_headers_argument_adds_to_the_request_headers(ws: Any) -> None:
    async def main() -> str:
        async with ws.app([("/ws", ShowHeaders)]) as url:
            request = types.SimpleNamespace(url=url + "/ws", headers={"Cookie": "a=1"})
            conn = await websocket_connect(request, headers={"X-Token": "extra"})
            message = await conn.read_message()
            conn.close()
            assert isinstance(message, str)
            return message

    assert ws.run(main()) == "extra|a=1|"


def test_the_request_connect_timeout_bounds_the_handshake(ws: Any) -> None:
    # A listening socket that never answers the handshake.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        request = tornado.httpclient.HTTPRequest(f"ws://127.0.0.1:{port}/", connect_timeout=0.2)
        with pytest.raises(TimeoutError):
            ws.run(websocket_connect(request), timeout=10.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("auth_username", "user"),
        ("proxy_host", "proxy.example"),
        ("client_cert", "/tmp/cert.pem"),
        ("body", b"data"),
    ],
)
def test_a_field_a_handshake_cannot_honour_is_refused_by_name(field: str, value: Any) -> None:
    request = types.SimpleNamespace(url="ws://127.0.0.1:1/", **{field: value})
    with pytest.raises(UnsupportedRequestField, match=f"HTTPRequest.{field}"):
        asyncio.run(websocket_connect(request))


def test_an_object_without_a_url_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="URL string or an HTTPRequest, not int"):
        asyncio.run(websocket_connect(42))


def test_validate_cert_false_and_ca_certs_become_ssl_contexts(tmp_path: Any) -> None:
    trustme = pytest.importorskip("trustme")
    request = types.SimpleNamespace(url="wss://h/", validate_cert=False)
    _, _, _, ctx = from_request(request, None, 20.0, None)
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    request = types.SimpleNamespace(url="wss://h/", ca_certs=str(tmp_path / "ca.pem"))
    _, _, _, ctx = from_request(request, None, 20.0, None)
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and len(ctx.get_ca_certs()) == 1
