"""The TCP echo server and client of Tornado's demos, in squall form (examples/tcp_echo.py).

Statements checked: the server answers each line with the same line, over several lines of
one connection and over many connections at once; it logs each client that leaves; the
client half connects with TCPClient, prints the echo and exits; a client without a server
fails with an error, not a hang.
"""

from __future__ import annotations

import concurrent.futures
import socket

import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("tcp_echo.py") as srv:
        yield srv


def _exchange(port: int, lines: list[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        received = b""
        for line in lines:
            sock.sendall(line)
            while not received.endswith(line):
                chunk = sock.recv(65536)
                assert chunk, "the server closed the connection"
                received += chunk
        return received


def test_server_prints_its_address(server):
    server.wait_stdout(f"echo server listening on 127.0.0.1:{server.port}")


def test_each_line_comes_back_on_the_same_connection(server):
    lines = [b"first line\n", b"second\n", b"x" * 10000 + b"\n"]
    assert _exchange(server.port, lines) == b"".join(lines)


def test_many_clients_at_once(server):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: _exchange(server.port, [b"client %d\n" % i]), range(40)))
    assert results == [b"client %d\n" % i for i in range(40)]


def test_a_client_leaving_is_logged(server):
    mark = server.mark()
    _exchange(server.port, [b"bye\n"])
    server.wait_stderr("lost client at host 127.0.0.1", mark)


def test_the_client_half_echoes_through_the_server(server, launcher):
    done = launcher.run("tcp_echo.py", ["client", f"--port={server.port}", "--message=hello tcp"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "response from server: hello tcp"


def test_the_client_without_a_server_fails_cleanly(launcher):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = launcher.run("tcp_echo.py", ["client", f"--port={port}"], timeout=30)
    assert done.returncode != 0
    assert "StreamClosedError" in done.stderr
