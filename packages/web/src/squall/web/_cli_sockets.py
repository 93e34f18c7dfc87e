"""``squall run``: the listening sockets, from a port, a Unix socket path, or a parent.

Four sources, one of them per run:

- ``--port``/``--address`` (default 127.0.0.1:8000): ``squall.loop.bind_sockets``.
- ``--uds PATH``: ``squall.loop.bind_unix_socket`` (a stale socket file is replaced; any
  other file at PATH is an error).
- ``--fd N`` (repeatable): a listening socket the parent process left open on file
  descriptor N (a supervisor such as circus, or a shell's ``exec 3<>``).
- systemd socket activation: ``LISTEN_PID`` equal to this process's id and ``LISTEN_FDS=n``
  mean the n descriptors from 3 on are listening sockets (``sd_listen_fds(3)``). The
  variables are removed once read, as ``sd_listen_fds(unset_environment=1)`` does, so a
  process this one starts does not take them for its own. Used when no other source was
  given on the command line; naming another source as well is refused rather than leaving
  the sockets systemd passed unserved.

All sockets are bound in the first process, before any fork: the children of
``--processes`` share them (the kernel spreads the connections).
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Mapping, MutableMapping

from squall.loop import BindError, bind_sockets, bind_unix_socket

SD_LISTEN_FDS_START = 3
"""The first descriptor systemd passes (``sd-daemon.h``)."""

_SYSTEMD_VARS = ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")


class SocketSetupError(Exception):
    """A listening socket cannot be made as asked (one-line message naming the option)."""


def systemd_fds(environ: Mapping[str, str], pid: int) -> list[int]:
    """The descriptors systemd passed to process ``pid``, or [] when it passed none to it.

    Raises:
        SocketSetupError: ``LISTEN_FDS`` is set for this process but is not a count.
    """
    if environ.get("LISTEN_PID", "").strip() != str(pid):
        return []  # absent, or meant for another process (our parent, say)
    raw = environ.get("LISTEN_FDS", "").strip()
    try:
        count = int(raw)
    except ValueError:
        raise SocketSetupError(f"LISTEN_FDS={raw!r} is not a number of sockets") from None
    if count < 0:
        raise SocketSetupError(f"LISTEN_FDS={raw!r} is not a number of sockets")
    return list(range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + count))


def forget_systemd_vars(environ: MutableMapping[str, str]) -> None:
    """Remove systemd's socket-activation variables (they were meant for this process only)."""
    for name in _SYSTEMD_VARS:
        environ.pop(name, None)


def inherited_socket(fd: int, origin: str) -> socket.socket:
    """The listening stream socket open on descriptor ``fd``; ``origin`` names it in errors.

    Raises:
        SocketSetupError: ``fd`` is not open, not a socket, not a stream or not listening.
    """
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        raise SocketSetupError(
            f"{origin}: file descriptor {fd} is not open ({exc.strerror})"
        ) from None
    if not stat.S_ISSOCK(mode):
        raise SocketSetupError(f"{origin}: file descriptor {fd} is not a socket")
    sock = socket.socket(fileno=fd)
    try:
        if sock.type != socket.SOCK_STREAM:
            raise SocketSetupError(f"{origin}: file descriptor {fd} is not a stream socket")
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            raise SocketSetupError(
                f"{origin}: the socket on file descriptor {fd} is not listening "
                "(the parent must call listen() before passing it)"
            )
    except BaseException:
        sock.detach()  # not ours to close: the descriptor stays as the parent left it
        raise
    sock.setblocking(False)
    return sock


def tcp_sockets(port: int, address: str) -> list[socket.socket]:
    """Bound, listening TCP sockets for ``address:port`` (every address it resolves to).

    Raises:
        SocketSetupError: the port is busy, the address is not local or does not resolve.
    """
    try:
        return bind_sockets(port, address or None)
    except BindError as exc:
        raise SocketSetupError(exc.strerror or str(exc)) from None
    except socket.gaierror as exc:
        raise SocketSetupError(f"--address {address!r} does not resolve: {exc.strerror}") from None


def unix_socket(path: str) -> socket.socket:
    """A listening Unix domain socket at ``path`` (mode 0o666: the proxy in front reads it).

    Raises:
        SocketSetupError: ``path`` holds another kind of file, or cannot be bound.
    """
    try:
        return bind_unix_socket(path, mode=0o666)
    except BindError as exc:
        raise SocketSetupError(f"--uds: {exc.strerror or exc}") from None


def socket_url(sock: socket.socket, scheme: str) -> str:
    """Where ``sock`` serves: ``http://127.0.0.1:8000/``, ``http://[::1]:8000/``, ``unix:PATH``."""
    if sock.family == socket.AF_UNIX:
        name = sock.getsockname()
        path = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        return f"unix:{path}"
    host, port = sock.getsockname()[:2]
    return address_url(host, port, scheme)


def address_url(host: str, port: int, scheme: str) -> str:
    """``http://HOST:PORT/``, with an IPv6 address in brackets (RFC 3986's IP-literal)."""
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}/"
