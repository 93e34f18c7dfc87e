"""bind_sockets and bind_unix_socket with real sockets on 127.0.0.1 (and ::1 when present)."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from squall.loop import BindError, bind_sockets, bind_unix_socket, bind_unused_port


@pytest.fixture
def opened() -> Iterator[list[socket.socket]]:
    """Sockets a test binds; all closed at the end."""
    socks: list[socket.socket] = []
    try:
        yield socks
    finally:
        for s in socks:
            s.close()


def _ipv6_loopback_usable() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_port_zero_gets_a_free_port_that_accepts_connections(
    opened: list[socket.socket],
) -> None:
    opened += bind_sockets(0, "127.0.0.1")
    assert len(opened) == 1
    sock = opened[0]
    port = sock.getsockname()[1]
    assert port > 0
    assert sock.gettimeout() == 0.0  # non-blocking
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        conn, _ = sock.accept()
        conn.close()


def test_busy_port_error_names_the_address_and_port(opened: list[socket.socket]) -> None:
    opened += bind_sockets(0, "127.0.0.1")
    port = opened[0].getsockname()[1]
    with pytest.raises(BindError) as info:
        bind_sockets(port, "127.0.0.1")
    err = info.value
    assert isinstance(err, OSError)
    assert err.errno == errno.EADDRINUSE
    assert f"127.0.0.1:{port}" in str(err)
    assert (err.address, err.port) == ("127.0.0.1", port)


def test_localhost_binds_every_address_it_resolves_to(opened: list[socket.socket]) -> None:
    resolved = {
        str(info[4][0])
        for info in socket.getaddrinfo("localhost", 0, socket.AF_UNSPEC, socket.SOCK_STREAM)
        if info[0] == socket.AF_INET or _ipv6_loopback_usable()
    }
    opened += bind_sockets(0, "localhost")
    hosts = {s.getsockname()[0] for s in opened}
    ports = {s.getsockname()[1] for s in opened}
    assert hosts == resolved
    assert len(ports) == 1  # port 0: every socket shares the first port chosen


def test_all_interfaces_on_one_port_with_v6only_on_ipv6(opened: list[socket.socket]) -> None:
    opened += bind_sockets(0)
    families = {s.family for s in opened}
    assert socket.AF_INET in families
    assert len({s.getsockname()[1] for s in opened}) == 1
    for s in opened:
        if s.family == socket.AF_INET6:
            assert s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1


def test_family_restricts_to_ipv4(opened: list[socket.socket]) -> None:
    opened += bind_sockets(0, None, family=socket.AF_INET)
    assert [s.family for s in opened] == [socket.AF_INET]


@pytest.mark.skipif(not _ipv6_loopback_usable(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback(opened: list[socket.socket]) -> None:
    opened += bind_sockets(0, "::1")
    assert opened[0].getsockname()[0] == "::1"


def test_reuse_port_lets_two_sockets_share_a_port(opened: list[socket.socket]) -> None:
    opened += bind_sockets(0, "127.0.0.1", reuse_port=True)
    port = opened[0].getsockname()[1]
    opened += bind_sockets(port, "127.0.0.1", reuse_port=True)
    assert opened[1].getsockname() == ("127.0.0.1", port)


def test_backlog_none_means_the_default(opened: list[socket.socket]) -> None:
    opened += bind_sockets(0, "127.0.0.1", backlog=None)
    assert opened[0].getsockname()[1] > 0


def test_unresolvable_address_raises_gaierror() -> None:
    with pytest.raises(socket.gaierror):
        bind_sockets(0, "no-such-host.invalid")


def test_unix_socket_replaces_a_stale_socket_file(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    first = bind_unix_socket(path)
    first.close()  # leaves the file behind, as a crashed server would
    sock = bind_unix_socket(path)
    try:
        assert sock.gettimeout() == 0.0
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
            conn, _ = sock.accept()
            conn.close()
    finally:
        sock.close()


def test_unix_socket_refuses_to_replace_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("precious")
    with pytest.raises(BindError, match="not a socket"):
        bind_unix_socket(str(path))
    assert path.read_text() == "precious"


def test_bind_unused_port_gives_a_listening_ipv4_socket_and_its_port() -> None:
    sock, port = bind_unused_port()
    try:
        assert sock.family == socket.AF_INET
        assert sock.getsockname() == ("127.0.0.1", port)
        assert port > 0
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.close()
        # a second call gets another port while the first socket is open
        other, other_port = bind_unused_port()
        other.close()
        assert other_port != port
    finally:
        sock.close()
