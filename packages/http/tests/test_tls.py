"""TLS: ssl_options as SSLContext or dict, a real TLS client, bad handshakes logged once."""

from __future__ import annotations

import logging
import socket
import ssl
import struct
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from squall.http import HTTPServerRequest
from squall.http._tls import ssl_context_from_options


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


def scheme_app(request: HTTPServerRequest) -> None:
    body = f"{request.protocol} {request.full_url()}".encode()
    request.connection.respond(200, [], body)  # type: ignore[union-attr]


def _client_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def test_https_request_with_sslcontext_sees_protocol_https(
    serve: Any, ca: trustme.CA, server_context: ssl.SSLContext
) -> None:
    st = serve(scheme_app, ssl_options=server_context)
    with httpx.Client(verify=_client_ctx(ca)) as client:
        r1 = client.get(f"https://127.0.0.1:{st.port}/x")
        r2 = client.get(f"https://127.0.0.1:{st.port}/y")
        assert st.server.connections == 1  # keep-alive over TLS
    assert r1.text == f"https https://127.0.0.1:{st.port}/x"
    assert r2.status_code == 200


def test_ssl_options_dict_form_is_accepted(serve: Any, ca: trustme.CA, tmp_path: Path) -> None:
    cert = ca.issue_cert("127.0.0.1")
    certfile = tmp_path / "cert.pem"
    keyfile = tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(certfile), append=True)
    cert.private_key_pem.write_to_path(str(keyfile))
    st = serve(scheme_app, ssl_options={"certfile": str(certfile), "keyfile": str(keyfile)})
    r = httpx.get(f"https://127.0.0.1:{st.port}/", verify=_client_ctx(ca))
    assert r.text.startswith("https ")


def test_ssl_options_dict_with_unknown_key_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ssl_options"):
        ssl_context_from_options({"certfile": "x", "bogus": 1})


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", id="plain-http"),
        pytest.param(b"\x16\x03\x01\x00\x05hello", id="broken-handshake"),
    ],
)
def test_bad_handshake_is_logged_once_without_traceback_and_closed(
    serve: Any, server_context: ssl.SSLContext, ca: trustme.CA,
    caplog: pytest.LogCaptureFixture, data: bytes,
) -> None:  # fmt: skip
    st = serve(scheme_app, ssl_options=server_context)
    with caplog.at_level(logging.DEBUG):
        st.send_raw(data)
        deadline = time.monotonic() + 3
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].name == "squall.http" and records[0].exc_info is None
    assert "127.0.0.1" in records[0].getMessage()
    # and the server still serves TLS clients
    r = httpx.get(f"https://127.0.0.1:{st.port}/", verify=_client_ctx(ca))
    assert r.status_code == 200


@pytest.mark.parametrize("linger", [pytest.param(False, id="fin"), pytest.param(True, id="reset")])
def test_client_leaving_before_the_handshake_is_logged_at_debug_only(
    serve: Any, server_context: ssl.SSLContext, ca: trustme.CA,
    caplog: pytest.LogCaptureFixture, linger: bool,
) -> None:  # fmt: skip
    # A TCP health check: connect, send nothing, close (or reset).
    st = serve(scheme_app, ssl_options=server_context)
    with caplog.at_level(logging.DEBUG, logger="squall.http"):
        sock = st.connect()
        if linger:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not any(
            "TLS handshake" in r.getMessage() for r in caplog.records
        ):
            time.sleep(0.01)
    handshake = [r for r in caplog.records if "TLS handshake" in r.getMessage()]
    assert len(handshake) == 1, [r.getMessage() for r in caplog.records]
    assert handshake[0].levelno == logging.DEBUG
    assert "closed by the peer" in handshake[0].getMessage()
    r = httpx.get(f"https://127.0.0.1:{st.port}/", verify=_client_ctx(ca))
    assert r.status_code == 200


def test_listen_with_ssl_options_serves_tls_on_those_sockets_only(
    ca: trustme.CA, server_context: ssl.SSLContext
) -> None:
    import asyncio

    from squall.http import HTTPServer

    async def main() -> None:
        server = HTTPServer(scheme_app)
        server.listen(0, "127.0.0.1", ssl_options=server_context)
        server.listen(0, "127.0.0.1")
        tls_port = server.sockets[0].getsockname()[1]
        plain_port = server.sockets[1].getsockname()[1]
        async with httpx.AsyncClient(verify=_client_ctx(ca)) as client:
            r = await client.get(f"https://127.0.0.1:{tls_port}/")
            assert r.text.startswith("https ")
            r = await client.get(f"http://127.0.0.1:{plain_port}/")
            assert r.text.startswith("http ")
        await server.shutdown(1)

    asyncio.run(main())


def test_client_certificate_is_available_to_the_application(
    serve: Any, ca: trustme.CA, server_context: ssl.SSLContext
) -> None:
    server_context.verify_mode = ssl.CERT_OPTIONAL
    ca.configure_trust(server_context)

    def app(request: HTTPServerRequest) -> None:
        cert = request.get_ssl_certificate()
        body = b"none" if not cert else dict(x[0] for x in cert["subject"])["commonName"].encode()
        request.connection.respond(200, [], body)  # type: ignore[union-attr]

    st = serve(app, ssl_options=server_context)
    client_ctx = _client_ctx(ca)
    assert httpx.get(f"https://127.0.0.1:{st.port}/", verify=client_ctx).text == "none"
    ca.issue_cert("client@example.org", common_name="client").configure_cert(client_ctx)
    assert httpx.get(f"https://127.0.0.1:{st.port}/", verify=client_ctx).text == "client"


# -- bytes already waiting when the server accepts (uvloop delivers them before the
# handshake task runs)

LOOPS = [pytest.param(False, id="asyncio"), pytest.param(True, id="uvloop")]


def _hold_loop(st: Any) -> threading.Event:
    """Block the server's loop until the returned event is set.

    A client then connects and writes while nothing is accepted: when the loop runs again
    the bytes are already in the socket, as on a busy server.
    """
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        held.set()
        release.wait(5)

    st.loop.call_soon_threadsafe(hold)
    assert held.wait(5)
    return release


def echo_app(request: HTTPServerRequest) -> None:
    request.connection.respond(200, [], f"{request.protocol} {request.uri}".encode())  # type: ignore[union-attr]


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_plain_http_sent_at_connect_to_tls_port_is_closed_at_once(
    serve: Any, server_context: ssl.SSLContext, use_uvloop: bool
) -> None:
    # The request is in the socket before the server's handshake starts; it must reach the
    # TLS layer (which refuses it) instead of being dropped and left to the 60 s timeout.
    st = serve(echo_app, ssl_options=server_context, use_uvloop=use_uvloop)
    release = _hold_loop(st)
    with socket.create_connection(("127.0.0.1", st.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        release.set()
        assert s.recv(100) == b""  # closed (a hang would raise TimeoutError)


def _pump(s: socket.socket, out: ssl.MemoryBIO, inc: ssl.MemoryBIO) -> None:
    if out.pending:
        s.sendall(out.read())
    data = s.recv(65536)
    assert data, "server closed the connection during the exchange"
    inc.write(data)


@pytest.mark.parametrize("use_uvloop", LOOPS)
def test_client_hello_sent_at_connect_completes_the_handshake(
    serve: Any, server_context: ssl.SSLContext, ca: trustme.CA, use_uvloop: bool
) -> None:
    st = serve(echo_app, ssl_options=server_context, use_uvloop=use_uvloop)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()  # the ClientHello is now in `out`, ready before we connect
    hello = out.read()
    release = _hold_loop(st)
    with socket.create_connection(("127.0.0.1", st.port), timeout=10) as s:
        s.sendall(hello)  # in the server's socket before it accepts
        release.set()
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                _pump(s, out, inc)
        tls.write(b"GET /early HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        s.sendall(out.read())
        received = b""
        while b"https /early" not in received:
            try:
                received += tls.read(65536)
            except ssl.SSLWantReadError:
                _pump(s, out, inc)
    assert received.startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_pipelined_requests_over_tls_are_answered_in_order(
    serve: Any, ca: trustme.CA, server_context: ssl.SSLContext, use_uvloop: bool
) -> None:
    # Answers to requests read together are collected into one write: over TLS too, they
    # arrive whole and in order, and a Connection: close among them ends the connection.
    def app(request: HTTPServerRequest) -> None:
        request.connection.respond(200, [], request.path.encode())  # type: ignore[union-attr]

    st = serve(app, ssl_options=server_context, use_uvloop=use_uvloop)
    requests = b"".join(b"GET /%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(16))
    requests += b"GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    requests += b"GET /never HTTP/1.1\r\nHost: t\r\n\r\n"
    with (
        socket.create_connection(("127.0.0.1", st.port), timeout=5) as raw,
        _client_ctx(ca).wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(requests)
        buf = bytearray()
        bodies = [st.read_response(tls, buf).body for _ in range(17)]
        assert bodies == [b"/%d" % i for i in range(16)] + [b"/last"]
        assert buf == b"" and st.read_until_close(tls) == b""
