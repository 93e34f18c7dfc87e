"""The TLS contexts of the pools: made once per process, not once per IOLoop."""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any

import pytest

from squall.httpclient import AsyncHTTPClient, HTTPResponse

if TYPE_CHECKING:
    from conftest import Server


def fetch_on_a_new_loop(url: str, **kwargs: Any) -> HTTPResponse:
    async def go() -> HTTPResponse:
        return await AsyncHTTPClient().fetch(url, **kwargs)

    return asyncio.run(go())


def test_a_plain_http_fetch_builds_no_trust_store(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        raise AssertionError("a plain-http fetch built a verifying SSL context")

    monkeypatch.setattr(ssl, "create_default_context", refuse)
    assert fetch_on_a_new_loop(server.url + "/echo").code == 200


def test_https_with_default_fields_builds_the_trust_store_once_per_process(
    tls: tuple[Server, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = tls
    made: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    for _ in range(3):  # three loops, three sets of pools
        with pytest.raises(ssl.SSLCertVerificationError):  # the test CA is not trusted
            fetch_on_a_new_loop(server.url + "/echo")
    assert len(made) <= 1


def test_a_request_with_its_own_ca_still_gets_its_own_context(tls: tuple[Server, str]) -> None:
    server, ca_file = tls
    assert fetch_on_a_new_loop(server.url + "/echo", ca_certs=ca_file).code == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch_on_a_new_loop(server.url + "/echo")
    assert fetch_on_a_new_loop(server.url + "/echo", validate_cert=False).code == 200
