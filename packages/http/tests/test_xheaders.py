"""xheaders=True: remote_ip and protocol from proxy headers, validated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from squall.http import HTTPHeaders, HTTPServerRequest
from squall.http._xheaders import is_valid_ip, xheaders_ip, xheaders_protocol


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Real-IP": "4.4.4.4"}, "4.4.4.4"),
        ({"X-Real-IP": "not-an-ip"}, "10.0.0.1"),
        ({"X-Forwarded-For": "1.1.1.1, 2.2.2.2"}, "2.2.2.2"),
        ({"X-Forwarded-For": "1.1.1.1, 2.2.2.2, 9.9.9.9"}, "2.2.2.2"),  # 9.9.9.9 trusted
        ({"X-Forwarded-For": "9.9.9.9"}, "9.9.9.9"),  # every hop trusted: the furthest
        ({"X-Forwarded-For": "9.9.9.9, 9.9.9.9"}, "9.9.9.9"),
        ({"X-Forwarded-For": "garbage, 9.9.9.9"}, "10.0.0.1"),
        ({"X-Forwarded-For": "1.1.1.1, garbage"}, "10.0.0.1"),
        ({"X-Forwarded-For": "::1"}, "::1"),
        ({}, "10.0.0.1"),
    ],
)
def test_remote_ip_from_proxy_headers(headers: dict[str, str], expected: str) -> None:
    assert xheaders_ip(HTTPHeaders(headers), "10.0.0.1", {"9.9.9.9"}) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Scheme": "https"}, "https"),
        ({"X-Forwarded-Proto": "https"}, "https"),
        ({"X-Forwarded-Proto": "http, https"}, "https"),
        ({"X-Scheme": "gopher"}, "http"),
        ({}, "http"),
    ],
)
def test_protocol_from_proxy_headers(headers: dict[str, str], expected: str) -> None:
    assert xheaders_protocol(HTTPHeaders(headers), "http") == expected


def test_is_valid_ip() -> None:
    assert is_valid_ip("127.0.0.1") and is_valid_ip("2001:db8::1")
    assert not is_valid_ip("") and not is_valid_ip("1.2.3") and not is_valid_ip("a\x00")


def test_server_with_xheaders_uses_them(serve: Any) -> None:
    def app(request: HTTPServerRequest) -> None:
        body = f"{request.remote_ip} {request.protocol}".encode()
        request.connection.respond(200, [], body)  # type: ignore[union-attr]

    st = serve(app, xheaders=True, trusted_downstream=["5.5.5.5"])
    r = httpx.get(st.url, headers={"X-Forwarded-For": "8.8.8.8, 5.5.5.5", "X-Scheme": "https"})
    assert r.text == "8.8.8.8 https"
    plain = serve(app)
    assert httpx.get(plain.url, headers={"X-Real-IP": "8.8.8.8"}).text == "127.0.0.1 http"
