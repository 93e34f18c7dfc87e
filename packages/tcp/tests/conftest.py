"""Fixtures of squall.tcp's tests: an IOLoop per test (asyncio, then uvloop), TLS material."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from squall.loop import IOLoop


@pytest.fixture(params=[False, True], ids=["asyncio", "uvloop"])
def io_loop(request: pytest.FixtureRequest) -> Iterator[IOLoop]:
    """A fresh current IOLoop (plain asyncio, then uvloop), closed after the test."""
    loop = IOLoop(use_uvloop=request.param)
    try:
        yield loop
    finally:
        loop.close(all_fds=True)
        IOLoop.clear_current()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority."""
    return trustme.CA()


@pytest.fixture(scope="session")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 and localhost."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="session")
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client context trusting the throwaway CA only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    return context


@pytest.fixture(scope="session")
def cert_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Tornado's dict form of ssl_options (certfile, keyfile) and the CA file."""
    folder: Path = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile, cafile = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(cafile))
    return {"certfile": str(certfile), "keyfile": str(keyfile), "ca_certs": str(cafile)}
