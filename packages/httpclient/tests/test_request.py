"""HTTPRequest: fields, Tornado's defaults, and the fields refused by name."""

from __future__ import annotations

import pytest

from squall.http import HTTPHeaders
from squall.httpclient import HTTPRequest, HTTPResponse, UnsupportedOptionError


def test_a_dict_of_headers_becomes_http_headers() -> None:
    request = HTTPRequest("http://x/", headers={"X-A": "1"})
    assert isinstance(request.headers, HTTPHeaders)
    assert request.headers["x-a"] == "1"
    assert isinstance(HTTPRequest("http://x/").headers, HTTPHeaders)


def test_a_str_body_is_stored_as_utf8() -> None:
    assert HTTPRequest("http://x/", method="POST", body="é").body == "é".encode()
    assert HTTPRequest("http://x/").body is None


def test_unset_fields_are_none_until_the_client_merges_its_defaults() -> None:
    request = HTTPRequest("http://x/")
    assert request.follow_redirects is None
    assert request.request_timeout is None


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"expect_100_continue": True}, "expect_100_continue"),
        ({"prepare_curl_callback": print}, "prepare_curl_callback"),
        ({"network_interface": "eth0"}, "network_interface"),
        ({"proxy_auth_mode": "digest"}, "proxy_auth_mode"),
        ({"ssl_options": "strict"}, "ssl_options"),
    ],
)
def test_fields_squall_cannot_honour_are_refused_by_name(
    fields: dict[str, object], named: str
) -> None:
    with pytest.raises(UnsupportedOptionError, match=f"^{named}: ") as info:
        HTTPRequest("http://x/", **fields)  # type: ignore[arg-type]
    assert info.value.option == named


def test_unknown_auth_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported auth_mode ntlm"):
        HTTPRequest("http://x/", auth_username="u", auth_mode="ntlm")


def test_body_and_body_producer_together_are_refused() -> None:
    async def producer(write: object) -> None:
        pass

    with pytest.raises(ValueError, match="only one of body and body_producer"):
        HTTPRequest("http://x/", method="POST", body=b"x", body_producer=producer)  # type: ignore[arg-type]


def test_response_of_a_non_2xx_code_carries_an_error() -> None:
    request = HTTPRequest("http://x/")
    assert HTTPResponse(request, 200).error is None
    error = HTTPResponse(request, 418).error
    assert error is not None and "418" in str(error)
    assert HTTPResponse(request, 201).body == b""
    assert HTTPResponse(request, 500, reason="Broken").reason == "Broken"
    assert HTTPResponse(request, 500).reason == "Internal Server Error"
