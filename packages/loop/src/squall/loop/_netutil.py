"""Listening sockets: ``bind_sockets`` (TCP, IPv4 and IPv6) and ``bind_unix_socket``.

Strategy: resolve ``address`` with ``getaddrinfo(AI_PASSIVE)`` and bind one socket per
distinct address it yields, so ``None`` means every interface of every family and
``"localhost"`` means both 127.0.0.1 and ::1. Every socket is non-blocking (the loop accepts
on it), has SO_REUSEADDR (a restarted server can rebind while old connections sit in
TIME_WAIT) and, for IPv6, IPV6_V6ONLY (so the IPv4 socket of the same port does not clash
with a dual-stack IPv6 one). With port 0 the kernel picks a port for the first socket and
the others reuse it, so one number reaches the server on every address; if that number is
taken on another family we start over a few times. Failures close every socket opened so
far: a half-bound server is worse than an error.
"""

from __future__ import annotations

import errno
import os
import socket
import stat

from squall.loop._errors import BindError

# SOMAXCONN is the kernel's cap (4096 on recent Linux); asking for it lets bursts of
# connections (benchmarks, restarts) queue instead of being refused.
_DEFAULT_BACKLOG = socket.SOMAXCONN

# With port 0 and several addresses the port picked for the first may be taken on another
# family; retrying with a fresh pick is cheap and makes "port 0" reliable.
_PORT0_ATTEMPTS = 5

_AddrInfo = tuple[
    socket.AddressFamily, socket.SocketKind, int, str, tuple[str, int] | tuple[str, int, int, int]
]


def _format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _resolve(
    address: str | None, port: int, family: socket.AddressFamily, flags: int
) -> list[_AddrInfo]:
    infos: list[_AddrInfo] = []
    seen: set[tuple[int, str, int]] = set()
    for af, kind, proto, canon, sockaddr in socket.getaddrinfo(
        address, port, family, socket.SOCK_STREAM, 0, flags
    ):
        if af not in (socket.AF_INET, socket.AF_INET6):
            continue
        host = str(sockaddr[0])
        key = (int(af), host, int(sockaddr[1]))
        # /etc/hosts often lists an address twice; binding it twice would fail EADDRINUSE.
        if key in seen:
            continue
        seen.add(key)
        infos.append((af, kind, proto, canon, sockaddr))  # type: ignore[arg-type]
    # IPv4 first: if the system has no usable IPv6 the IPv4 socket is already there.
    infos.sort(key=lambda info: 0 if info[0] == socket.AF_INET else 1)
    return infos


def _close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def _bind_once(
    infos: list[_AddrInfo], port: int, address: str | None, backlog: int, reuse_port: bool
) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    bound_port: int | None = None
    for af, kind, proto, _canon, sockaddr in infos:
        host = str(sockaddr[0])
        try:
            sock = socket.socket(af, kind, proto)
        except OSError as exc:
            # The kernel was built without this family (IPv6 off): skip it, keep the others.
            if exc.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
                continue
            _close_all(sockets)
            raise
        try:
            if os.name != "nt":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if af == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            target_port = bound_port if (port == 0 and bound_port is not None) else sockaddr[1]
            target = (host, target_port, *sockaddr[2:])
            sock.setblocking(False)
            sock.bind(target)
            sock.listen(backlog)
        except OSError as exc:
            sock.close()
            if af == socket.AF_INET6 and exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                # ::1 or :: unusable (IPv6 disabled on the interface): serve the rest.
                continue
            _close_all(sockets)
            shown = _format_address(host, int(target_port))
            raise BindError(
                exc.errno,
                f"cannot bind {shown} (address={address!r}, port={port}): {exc.strerror}",
                host,
                int(target_port),
            ) from exc
        bound_port = int(sock.getsockname()[1])
        sockets.append(sock)
    return sockets


def bind_sockets(
    port: int,
    address: str | None = None,
    family: socket.AddressFamily = socket.AF_UNSPEC,
    backlog: int | None = _DEFAULT_BACKLOG,
    flags: int | None = None,
    reuse_port: bool = False,
) -> list[socket.socket]:
    """Create listening, non-blocking TCP sockets bound to ``port`` on ``address``.

    Args:
        port: the port; 0 lets the kernel choose (read it back with
            ``sockets[0].getsockname()[1]``; every returned socket shares it).
        address: a host name or IP address; ``None`` or ``""`` means every interface,
            ``"localhost"`` binds every address it resolves to (127.0.0.1 and ::1).
        family: ``AF_INET`` or ``AF_INET6`` to restrict; ``AF_UNSPEC`` (default) for both.
        backlog: the ``listen()`` queue length (None: the default, ``socket.SOMAXCONN``).
        flags: ``getaddrinfo`` flags (default ``AI_PASSIVE``).
        reuse_port: set SO_REUSEPORT, so several processes can bind the same port.

    Returns:
        The bound, listening sockets (at least one); the caller owns and closes them.

    Raises:
        BindError: a socket could not be bound (busy port: ``errno.EADDRINUSE``); the
            message names the address and the port. Nothing stays open.
        ValueError: ``reuse_port`` on a platform without SO_REUSEPORT.
        socket.gaierror: ``address`` does not resolve.
    """
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("reuse_port=True but this platform has no SO_REUSEPORT")
    if address == "":
        address = None
    if backlog is None:
        backlog = _DEFAULT_BACKLOG
    if not socket.has_ipv6 and family == socket.AF_UNSPEC:
        family = socket.AF_INET
    if flags is None:
        flags = socket.AI_PASSIVE
    infos = _resolve(address, port, family, flags)
    attempts = _PORT0_ATTEMPTS if port == 0 and len(infos) > 1 else 1
    for attempt in range(attempts):
        try:
            sockets = _bind_once(infos, port, address, backlog, reuse_port)
        except BindError as exc:
            if attempt + 1 < attempts and exc.errno == errno.EADDRINUSE:
                continue
            raise
        if not sockets:
            raise BindError(
                errno.EADDRNOTAVAIL,
                f"cannot bind port {port}: no usable address for address={address!r}",
                address or "",
                port,
            )
        return sockets
    raise AssertionError("unreachable")  # pragma: no cover


def bind_unix_socket(
    file: str, mode: int = 0o600, backlog: int | None = _DEFAULT_BACKLOG
) -> socket.socket:
    """Create a listening, non-blocking Unix domain socket at path ``file``.

    A stale socket file left by a previous run is removed; any other existing file is an
    error (we never delete a regular file by mistake).

    Raises:
        BindError: ``file`` exists and is not a socket, or binding failed.
    """
    if backlog is None:
        backlog = _DEFAULT_BACKLOG
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        try:
            st = os.stat(file)
        except FileNotFoundError:
            pass
        else:
            if not stat.S_ISSOCK(st.st_mode):
                raise BindError(
                    errno.EEXIST, f"cannot bind unix socket {file!r}: not a socket", file, 0
                )
            os.remove(file)
        try:
            sock.bind(file)
        except OSError as exc:
            raise BindError(
                exc.errno, f"cannot bind unix socket {file!r}: {exc.strerror}", file, 0
            ) from exc
        os.chmod(file, mode)
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_unused_port(
    reuse_port: bool = False, address: str = "127.0.0.1"
) -> tuple[socket.socket, int]:
    """Bind a listening socket to a free port the kernel picks, for tests.

    Tornado's ``tornado.testing.bind_unused_port``: one IPv4 socket (so the port number is
    the whole address), non-blocking and listening, as :func:`bind_sockets` makes them.

    Returns:
        ``(socket, port)``; the caller owns and closes the socket.

    .. versionadded:: 0.2.0
    """
    sock = bind_sockets(0, address, family=socket.AF_INET, reuse_port=reuse_port)[0]
    return sock, int(sock.getsockname()[1])
