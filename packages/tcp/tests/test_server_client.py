"""TCPServer, TCPClient (plain and TLS) and the netutil helpers, over real sockets."""

from __future__ import annotations

import asyncio
import datetime
import logging
import socket
import ssl
from typing import Any

import pytest

import squall.tcp
from squall.loop import IOLoop, bind_sockets, bind_unused_port
from squall.tcp import (
    DefaultLoopResolver,
    IOStream,
    OverrideResolver,
    Resolver,
    SSLIOStream,
    StreamClosedError,
    TCPClient,
    TCPServer,
    add_accept_handler,
    is_valid_ip,
    ssl_options_to_context,
)


class EchoServer(TCPServer):
    """The echo server of Tornado's TCPServer docs: lines back, until the client leaves."""

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        try:
            while True:
                line = await stream.read_until(b"\n")
                await stream.write(line)
        except StreamClosedError:
            pass


async def echo_once(port: int, text: bytes = b"hello\n", **connect: Any) -> tuple[bytes, Any]:
    stream = await TCPClient().connect("127.0.0.1", port, **connect)
    await stream.write(text)
    answer = await stream.read_until(b"\n")
    stream.close()
    return answer, stream


def test_echo_server_and_client(io_loop: IOLoop) -> None:
    async def main() -> None:
        sock, port = bind_unused_port()
        server = EchoServer()
        server.add_sockets([sock])
        answers = await asyncio.gather(*(echo_once(port, b"line %d\n" % i) for i in range(20)))
        assert [a for a, _ in answers] == [b"line %d\n" % i for i in range(20)]
        server.stop()

    io_loop.run_sync(main, timeout=30)


def test_listen_and_stop(io_loop: IOLoop) -> None:
    async def main() -> None:
        probe, port = bind_unused_port()
        probe.close()
        server = EchoServer()
        server.listen(port, "127.0.0.1")
        assert [s.getsockname()[1] for s in server.sockets] == [port]
        assert (await echo_once(port))[0] == b"hello\n"
        server.stop()
        server.stop()  # twice: harmless
        with pytest.raises(StreamClosedError) as info:
            await TCPClient().connect("127.0.0.1", port)
        assert isinstance(info.value.real_error, ConnectionRefusedError)

    io_loop.run_sync(main, timeout=30)


def test_bind_then_start_in_this_process(io_loop: IOLoop) -> None:
    server = EchoServer()
    server.bind(0, "127.0.0.1")
    server.start(1)
    port = server.sockets[0].getsockname()[1]

    async def main() -> bytes:
        return (await echo_once(port))[0]

    assert io_loop.run_sync(main, timeout=30) == b"hello\n"
    server.stop()


def test_a_failing_handle_stream_is_logged_and_its_stream_closed(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(TCPServer):
        async def handle_stream(self, stream: IOStream, address: Any) -> None:
            await stream.read_bytes(1)
            raise RuntimeError("handler bug")

    class BrokenSync(TCPServer):
        def handle_stream(self, stream: IOStream, address: Any) -> None:
            raise RuntimeError("sync handler bug")

    async def main() -> None:
        for server in (Broken(), BrokenSync()):
            sock, port = bind_unused_port()
            server.add_socket(sock)
            stream = await TCPClient().connect("127.0.0.1", port)
            await stream.write(b"x")
            assert await stream.read_until_close() == b""  # the server closed it
            server.stop()

    # Tornado logs these on tornado.application: squall.application.
    with caplog.at_level(logging.ERROR, logger="squall.application"):
        io_loop.run_sync(main, timeout=30)
    errors = [r for r in caplog.records if r.name == "squall.application" and r.exc_info]
    assert [str(r.exc_info[1]) for r in errors if r.exc_info] == [
        "handler bug",
        "sync handler bug",
    ]
    # Tornado's wording: "Exception in callback" for the async one, "Error in connection
    # callback" for the plain one.
    assert errors[0].getMessage().startswith("Exception in callback")
    assert errors[1].getMessage() == "Error in connection callback"


def test_handle_stream_must_be_overridden(io_loop: IOLoop) -> None:
    stream = IOStream(socket.socket())
    with pytest.raises(NotImplementedError, match="handle_stream"):
        TCPServer().handle_stream(stream, None)
    stream.close()


def test_the_server_sees_the_client_address_and_source_ip(io_loop: IOLoop) -> None:
    seen: list[Any] = []

    class Recorder(TCPServer):
        def handle_stream(self, stream: IOStream, address: Any) -> None:
            seen.append(address)
            stream.close()

    async def main() -> None:
        sock, port = bind_unused_port()
        server = Recorder()
        server.add_socket(sock)
        stream = await TCPClient().connect("127.0.0.1", port, source_ip="127.0.0.1")
        await stream.read_until_close()
        assert seen == [stream.get_extra_info("sockname")]
        assert seen[0][0] == "127.0.0.1"
        server.stop()

    io_loop.run_sync(main, timeout=30)


# -- TLS ------------------------------------------------------------------------------------------


def test_tls_echo_with_contexts(
    io_loop: IOLoop, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    kinds: list[type] = []

    class TLSEcho(EchoServer):
        async def handle_stream(self, stream: IOStream, address: Any) -> None:
            kinds.append(type(stream))
            await super().handle_stream(stream, address)

    async def main() -> None:
        sock, port = bind_unused_port()
        server = TLSEcho(ssl_options=server_context)
        server.add_socket(sock)
        answer, stream = await echo_once(port, b"secret\n", ssl_options=client_context)
        assert answer == b"secret\n"
        assert isinstance(stream, SSLIOStream)
        assert await stream.wait_for_handshake() is stream
        assert stream.get_extra_info("ssl_object") is not None
        server.stop()

    io_loop.run_sync(main, timeout=30)
    assert kinds == [SSLIOStream]


def test_tls_with_tornados_dict_options(io_loop: IOLoop, cert_files: dict[str, str]) -> None:
    async def main() -> None:
        sock, port = bind_unused_port()
        server = EchoServer(
            ssl_options={"certfile": cert_files["certfile"], "keyfile": cert_files["keyfile"]}
        )
        server.add_socket(sock)
        answer, _ = await echo_once(port, ssl_options={"ca_certs": cert_files["ca_certs"]})
        assert answer == b"hello\n"
        # a client that does not trust the CA fails the handshake
        with pytest.raises(StreamClosedError) as info:
            await TCPClient().connect("127.0.0.1", port, ssl_options={})
        assert isinstance(info.value.real_error, ssl.SSLError)
        server.stop()

    io_loop.run_sync(main, timeout=30)


def test_connect_timeout_raises_timeout_error(
    io_loop: IOLoop, client_context: ssl.SSLContext
) -> None:
    async def main() -> None:
        # A listening socket nobody accepts on: TCP connects (the kernel's backlog) but the
        # TLS handshake never gets an answer.
        sock, port = bind_unused_port()
        try:
            for timeout in (0.05, datetime.timedelta(milliseconds=50)):
                with pytest.raises(TimeoutError, match="timed out"):
                    await TCPClient().connect(
                        "127.0.0.1", port, ssl_options=client_context, timeout=timeout
                    )
        finally:
            sock.close()

    io_loop.run_sync(main, timeout=30)


# -- resolvers, accept handlers, helpers -----------------------------------------------------------


def test_resolver_uses_the_loops_getaddrinfo(io_loop: IOLoop) -> None:
    async def main() -> list[tuple[int, Any]]:
        resolver = Resolver()
        assert isinstance(resolver, DefaultLoopResolver)
        try:
            return await resolver.resolve("127.0.0.1", 80, socket.AF_INET)
        finally:
            resolver.close()

    assert io_loop.run_sync(main) == [(socket.AF_INET, ("127.0.0.1", 80))]


def test_override_resolver_and_tcpclient_with_a_resolver(io_loop: IOLoop) -> None:
    async def main() -> None:
        sock, port = bind_unused_port()
        server = EchoServer()
        server.add_socket(sock)
        resolver = OverrideResolver(
            DefaultLoopResolver(),
            {"echo.invalid": "127.0.0.1", ("other.invalid", 1): ("127.0.0.1", port)},
        )
        assert await resolver.resolve("echo.invalid", 5, socket.AF_INET) == [
            (socket.AF_INET, ("127.0.0.1", 5))
        ]
        client = TCPClient(resolver=resolver)
        for host, target in (("echo.invalid", port), ("other.invalid", 1)):
            stream = await client.connect(host, target, af=socket.AF_INET)
            await stream.write(b"via resolver\n")
            assert await stream.read_until(b"\n") == b"via resolver\n"
            stream.close()
        client.close()
        server.stop()

    io_loop.run_sync(main, timeout=30)


def test_add_accept_handler_calls_back_per_connection_until_removed(io_loop: IOLoop) -> None:
    async def main() -> None:
        listener = bind_sockets(0, "127.0.0.1", socket.AF_INET)[0]
        port = listener.getsockname()[1]
        accepted: asyncio.Queue[tuple[socket.socket, Any]] = asyncio.Queue()
        remove = add_accept_handler(listener, lambda conn, addr: accepted.put_nowait((conn, addr)))
        clients = [await TCPClient().connect("127.0.0.1", port) for _ in range(3)]
        for client in clients:
            connection, address = await accepted.get()
            assert not connection.getblocking()
            stream = IOStream(connection)  # an accepted socket: taken over at once
            await stream.write(b"hi")
            assert await client.read_bytes(2) == b"hi"
            assert address in [c.get_extra_info("sockname") for c in clients]
            stream.close()
        remove()
        remove()  # twice: harmless
        late = await TCPClient().connect("127.0.0.1", port)  # queued in the backlog only
        await asyncio.sleep(0.05)
        assert accepted.empty()
        late.close()
        for client in clients:
            client.close()
        listener.close()

    io_loop.run_sync(main, timeout=30)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("fe80::1%lo", True),
        ("2001:db8::ff00:42:8329", True),
        ("", False),
        ("localhost", False),
        ("256.1.1.1", False),
        ("127.0.0.1\x00", False),
        ("1.2.3", False),
    ],
)
def test_is_valid_ip(text: str, valid: bool) -> None:
    assert is_valid_ip(text) is valid


def test_ssl_options_to_context(server_context: ssl.SSLContext, cert_files: dict[str, str]) -> None:
    assert ssl_options_to_context(server_context) is server_context
    server = ssl_options_to_context(
        {"certfile": cert_files["certfile"], "keyfile": cert_files["keyfile"]}
    )
    assert server.protocol == ssl.PROTOCOL_TLS_SERVER
    client = ssl_options_to_context({"cert_reqs": ssl.CERT_NONE}, server_side=False)
    assert client.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert client.verify_mode == ssl.CERT_NONE and not client.check_hostname
    with pytest.raises(ValueError, match="unknown ssl_options keys: \\['certfiel'\\]"):
        ssl_options_to_context({"certfiel": "x"})
    with pytest.raises(ValueError, match="needs a 'certfile'"):
        ssl_options_to_context({})
    with pytest.raises(ValueError, match="needs a 'certfile'"):
        TCPServer(ssl_options={"keyfile": "k.pem"})


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(squall.tcp) if not n.startswith("_")} - {"annotations"}
    public = {n for n in public if type(getattr(squall.tcp, n)).__name__ != "module"}
    assert set(squall.tcp.__all__) - {"__version__"} == public


def test_echo_over_a_unix_socket(io_loop: IOLoop, tmp_path: Any) -> None:
    path = str(tmp_path / "echo.sock")

    async def main() -> bytes:
        server = EchoServer()
        server.add_socket(squall.tcp.bind_unix_socket(path))
        stream = IOStream(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        await stream.connect(path)
        stream.set_nodelay(True)  # not TCP: ignored
        await stream.write(b"over unix\n")
        answer = await stream.read_until(b"\n")
        stream.close()
        server.stop()
        return answer

    assert io_loop.run_sync(main, timeout=30) == b"over unix\n"
