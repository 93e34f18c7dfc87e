"""proxy_host / proxy_port / proxy_username / proxy_password through a small real proxy."""

from __future__ import annotations

import asyncio
import base64
import gc
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from squall.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, UnsupportedOptionError

if TYPE_CHECKING:
    from conftest import Server


@pytest.fixture(autouse=True)
def collect_garbage() -> Iterator[None]:
    """A socket the proxy or the client left open warns now, in the test that left it."""
    yield
    gc.collect()


class TinyProxy:
    """An HTTP forward proxy: absolute-form requests only, one request per connection.

    ``seen`` records each request line and its Proxy-Authorization header; ``credentials``
    (``user:password``), when set, is demanded (407 otherwise).
    """

    def __init__(self, credentials: str | None = None) -> None:
        self.credentials = credentials
        self.seen: list[tuple[str, str | None]] = []
        self.server: asyncio.Server | None = None
        self.clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        # A tunnel stays open while the client's pool keeps it; since Python 3.12
        # wait_closed() waits for every connection, so they are closed here.
        for client in self.clients:
            client.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.clients.add(writer)
        upstream: list[asyncio.StreamWriter] = []
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *lines = head.split("\r\n")[:-2]
            fields = dict(line.split(": ", 1) for line in lines)
            auth = fields.pop("Proxy-Authorization", None)
            self.seen.append((request_line, auth))
            expected = None
            if self.credentials is not None:
                expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if expected is not None and auth != expected:
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
                writer.write(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                return
            method, target, version = request_line.split(" ")
            if method == "CONNECT":
                await self._tunnel(target, reader, writer, upstream)
                return
            url = urllib.parse.urlsplit(target)
            body = await reader.readexactly(int(fields.get("Content-Length", "0")))
            fields["Connection"] = "close"
            up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port)
            upstream.append(up_writer)
            path = url.path + (f"?{url.query}" if url.query else "")
            out = f"{method} {path} {version}\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in fields.items()
            )
            up_writer.write(out.encode("latin-1") + b"\r\n" + body)
            while data := await up_reader.read(65536):
                writer.write(data)
        finally:
            # Whatever ended the exchange (EOF, the test closing the proxy, cancellation),
            # both sockets are closed: none is left to the garbage collector.
            for w in (*upstream, writer):
                w.close()

    async def _tunnel(
        self,
        target: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: list[asyncio.StreamWriter],
    ) -> None:
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        upstream.append(up_writer)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def test_requests_go_through_the_proxy(server: Server) -> None:
    async def go() -> None:
        proxy = TinyProxy()
        port = await proxy.start()
        try:
            response = await AsyncHTTPClient().fetch(
                server.url + "/echo?via=proxy", proxy_host="127.0.0.1", proxy_port=port
            )
            assert response.code == 200
            assert proxy.seen == [(f"GET {server.url}/echo?via=proxy HTTP/1.1", None)]
        finally:
            await proxy.close()

    asyncio.run(go())


def test_proxy_credentials_are_sent_as_basic_proxy_authorization(server: Server) -> None:
    async def go() -> None:
        proxy = TinyProxy(credentials="pat:pw")
        port = await proxy.start()
        try:
            client = AsyncHTTPClient()
            response = await client.fetch(
                server.url + "/echo",
                proxy_host="127.0.0.1",
                proxy_port=port,
                proxy_username="pat",
                proxy_password="pw",
            )
            assert response.code == 200
            with pytest.raises(HTTPClientError) as info:
                await client.fetch(server.url + "/echo", proxy_host="127.0.0.1", proxy_port=port)
            assert info.value.code == 407
        finally:
            await proxy.close()

    asyncio.run(go())


def test_proxy_needs_host_and_port_and_digest_is_refused(server: Server) -> None:
    async def go() -> None:
        with pytest.raises(UnsupportedOptionError, match="proxy_host: a proxy needs both"):
            await AsyncHTTPClient().fetch(server.url + "/echo", proxy_host="127.0.0.1")

    asyncio.run(go())
    with pytest.raises(UnsupportedOptionError, match="proxy_auth_mode: 'digest'"):
        HTTPRequest("http://x/", proxy_host="h", proxy_port=1, proxy_auth_mode="digest")


def test_https_goes_through_a_connect_tunnel(tls: tuple[Server, str]) -> None:
    server, ca_file = tls

    async def go() -> None:
        proxy = TinyProxy()
        port = await proxy.start()
        try:
            response = await AsyncHTTPClient().fetch(
                server.url + "/echo", proxy_host="127.0.0.1", proxy_port=port, ca_certs=ca_file
            )
            assert response.code == 200
            assert proxy.seen == [(f"CONNECT 127.0.0.1:{server.port} HTTP/1.1", None)]
        finally:
            await proxy.close()

    asyncio.run(go())
