"""HTTPS: certificate checks, ca_certs, validate_cert, ssl_options, client certificates."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from squall.httpclient import (
    AsyncHTTPClient,
    HTTPResponse,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    UnsupportedOptionError,
)

if TYPE_CHECKING:
    from conftest import Server


def fetch(url: str, **kwargs: Any) -> HTTPResponse:
    async def go() -> HTTPResponse:
        return await AsyncHTTPClient().fetch(url, **kwargs)

    return asyncio.run(go())


def test_a_certificate_from_an_unknown_ca_is_refused(tls: tuple[Server, str]) -> None:
    server, _ = tls
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(server.url + "/echo")


def test_ca_certs_makes_the_certificate_trusted(tls: tuple[Server, str]) -> None:
    server, ca_file = tls
    response = fetch(server.url + "/echo", ca_certs=ca_file)
    assert response.code == 200


def test_validate_cert_false_accepts_any_certificate(tls: tuple[Server, str]) -> None:
    server, _ = tls
    assert fetch(server.url + "/echo", validate_cert=False).code == 200


def test_ssl_options_context_overrides_the_fields(tls: tuple[Server, str]) -> None:
    server, ca_file = tls
    ctx = ssl.create_default_context(cafile=ca_file)
    # validate_cert=False would accept anything; the context's own checks apply instead
    assert fetch(server.url + "/echo", ssl_options=ctx, validate_cert=False).code == 200
    strict = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch(server.url + "/echo", ssl_options=strict, validate_cert=False)


def test_ssl_options_dict_as_tornado(tls: tuple[Server, str]) -> None:
    server, ca_file = tls
    assert fetch(server.url + "/echo", ssl_options={"ca_certs": ca_file}).code == 200
    response = fetch(server.url + "/echo", ssl_options={"cert_reqs": ssl.CERT_NONE})
    assert response.code == 200
    with pytest.raises(UnsupportedOptionError, match="ssl_options: unknown key 'server_side'"):
        fetch(server.url + "/echo", ssl_options={"server_side": True})


def test_client_certificate_is_presented(
    tmp_path: Any, make_server: Callable[[ssl.SSLContext], Server]
) -> None:
    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca.configure_trust(server_ctx)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_cert = ca.issue_cert("client@example.org")
    cert_file, key_file, ca_file = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    client_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    client_cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    server = make_server(server_ctx)
    response = fetch(
        server.url + "/echo",
        ca_certs=str(ca_file),
        client_cert=str(cert_file),
        client_key=str(key_file),
    )
    assert response.code == 200
    # Without it the server ends the connection: no answer. How the end reaches the client
    # is a race (TLS 1.3 checks the certificate after the client's handshake is done): the
    # server's alert (ssl.SSLError), or a reset when it closes with our request unread
    # (ConnectionResetError, raised as itself, as Tornado re-raises a stream's real error).
    with pytest.raises((HTTPStreamClosedError, ssl.SSLError, ConnectionResetError)):
        fetch(server.url + "/echo", ca_certs=str(ca_file))


def test_a_tls_handshake_cut_by_request_timeout_closes_its_socket() -> None:
    # A server that accepts and never answers the ClientHello: request_timeout cancels the
    # fetch inside the handshake, and the client must close the socket then (as Tornado),
    # not leave it open for the garbage collector.
    async def go() -> tuple[BaseException | None, bool]:
        closed = asyncio.Event()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await reader.read(65536):
                pass
            closed.set()
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        error: BaseException | None = None
        try:
            await AsyncHTTPClient().fetch(f"https://127.0.0.1:{port}/", request_timeout=0.3)
        except Exception as exc:
            error = exc
        try:
            await asyncio.wait_for(closed.wait(), 10)  # a bound, not a measured time
        except TimeoutError:
            pass
        server.close()
        return error, closed.is_set()

    error, closed = asyncio.run(go())
    assert isinstance(error, HTTPTimeoutError) and error.code == 599
    assert closed, "the socket of the timed-out TLS handshake was left open"
