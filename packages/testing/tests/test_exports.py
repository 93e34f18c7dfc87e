"""The public facade of squall.testing is exactly its ``__all__``; Tornado's names are there."""

from __future__ import annotations

import re
import socket

import squall.httpclient
import squall.testing


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.testing.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        n
        for n, v in vars(squall.testing).items()
        if not n.startswith("_") and type(v).__name__ != "module"
    } - {"annotations"}
    assert set(squall.testing.__all__) - {"__version__"} == public


def test_async_http_client_imported_from_testing_is_the_httpclient_one() -> None:
    from squall.testing import AsyncHTTPClient

    assert AsyncHTTPClient is squall.httpclient.AsyncHTTPClient


def test_bind_unused_port_gives_a_listening_socket_on_127_0_0_1() -> None:
    sock, port = squall.testing.bind_unused_port()
    try:
        assert sock.getsockname() == ("127.0.0.1", port)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        sock.close()
