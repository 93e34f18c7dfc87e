"""Network helpers: accept handlers, name resolution, IP checks and TLS contexts.

Tornado's ``tornado.netutil`` beside the socket binders of squall.loop (re-exported by
``squall.tcp``). Resolution is asyncio's ``loop.getaddrinfo`` (which runs the blocking
``getaddrinfo`` in the loop's default executor): Tornado's thread-pool resolvers have no job
left, so only the loop one and the overriding wrapper exist.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Final

from squall.loop import IOLoop

_ACCEPT_ERRORS_TO_SKIP: Final = frozenset({errno.ECONNABORTED, errno.EPROTO})
"""accept() failures about one connection (it vanished first): the listener goes on."""

_SSL_DICT_KEYS: Final = frozenset(
    {"ssl_version", "certfile", "keyfile", "cert_reqs", "ca_certs", "ciphers", "password"}
)


def add_accept_handler(
    sock: socket.socket, callback: Callable[[socket.socket, Any], None]
) -> Callable[[], None]:
    """Call ``callback(connection, address)`` for each connection accepted on ``sock``.

    ``sock`` is a listening socket (``bind_sockets``); the accepted sockets are
    non-blocking and owned by the callback. Returns a function that stops accepting (it
    does not close ``sock``).
    """
    io_loop = IOLoop.current()
    assert io_loop is not None
    loop = io_loop.asyncio_loop
    sock.setblocking(False)
    removed = False

    def accept_ready() -> None:
        # Take what the backlog holds now, but not forever: a flood must not starve the
        # loop (other fds wait for their turn).
        for _ in range(128):
            if removed:
                return
            try:
                connection, address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _ACCEPT_ERRORS_TO_SKIP:
                    continue
                raise
            connection.setblocking(False)
            callback(connection, address)

    def remove() -> None:
        nonlocal removed
        if not removed:
            removed = True
            loop.remove_reader(sock.fileno())

    loop.add_reader(sock.fileno(), accept_ready)
    return remove


def is_valid_ip(ip: str) -> bool:
    """True if ``ip`` is an IPv4 or IPv6 address (not a host name, not empty)."""
    if not ip or "\x00" in ip:
        return False
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return False
    return True


def ssl_options_to_context(
    ssl_options: ssl.SSLContext | Mapping[str, Any], server_side: bool | None = None
) -> ssl.SSLContext:
    """An ``ssl.SSLContext`` for ``ssl_options``: a context is returned as is.

    The dict form takes Tornado's keys: ``certfile``, ``keyfile``, ``password``,
    ``cert_reqs``, ``ca_certs``, ``ciphers``, ``ssl_version``. A server context
    (``server_side`` True, the default) needs ``certfile``; a client one verifies
    certificates against ``ca_certs`` or the system's store.

    Raises:
        ValueError: an unknown key, or a server dict without ``certfile``.
    """
    if isinstance(ssl_options, ssl.SSLContext):
        return ssl_options
    unknown = set(ssl_options) - _SSL_DICT_KEYS
    if unknown:
        raise ValueError(f"unknown ssl_options keys: {sorted(unknown)}")
    server = server_side is not False
    if server and "certfile" not in ssl_options:
        raise ValueError("server ssl_options needs a 'certfile'")
    default = ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT
    protocol = ssl_options.get("ssl_version", default)
    if protocol == getattr(ssl, "PROTOCOL_SSLv23", None) or protocol == ssl.PROTOCOL_TLS:
        protocol = default  # Tornado's old default means "negotiate"
    context = ssl.SSLContext(protocol)
    if "certfile" in ssl_options:
        context.load_cert_chain(
            ssl_options["certfile"], ssl_options.get("keyfile"), ssl_options.get("password")
        )
    if "cert_reqs" in ssl_options:
        if ssl_options["cert_reqs"] == ssl.CERT_NONE and not server:
            context.check_hostname = False
        context.verify_mode = ssl_options["cert_reqs"]
    if "ca_certs" in ssl_options:
        context.load_verify_locations(ssl_options["ca_certs"])
    elif not server:
        context.load_default_certs()
    if "ciphers" in ssl_options:
        context.set_ciphers(ssl_options["ciphers"])
    context.options |= ssl.OP_NO_COMPRESSION
    return context


class Resolver:
    """Resolves host names: ``await Resolver().resolve("example.com", 80)``.

    ``Resolver()`` gives a :class:`DefaultLoopResolver`; subclass and override
    :meth:`resolve` for another source (``TCPClient(resolver=...)`` uses it).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Resolver:
        if cls is Resolver:
            return super().__new__(DefaultLoopResolver)
        return super().__new__(cls)

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """The ``(family, address)`` pairs of ``host``, ``address`` being what
        ``socket.connect`` takes (``(ip, port)`` or ``(ip, port, flow, scope)``).

        Raises:
            OSError: ``host`` does not resolve (``socket.gaierror``).
        """
        raise NotImplementedError

    def close(self) -> None:
        """Free what the resolver holds (nothing, for the loop's)."""


class DefaultLoopResolver(Resolver):
    """A :class:`Resolver` on the asyncio loop's ``getaddrinfo``."""

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """See :meth:`Resolver.resolve`."""
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, family=family, type=socket.SOCK_STREAM
        )
        return [(int(af), address) for af, _kind, _proto, _canon, address in infos]


class OverrideResolver(Resolver):
    """Answers some names from a mapping, asks ``resolver`` for the others (tests, pins).

    ``mapping`` keys are a host, a ``(host, port)`` or a ``(host, port, family)``; values
    are a host or a ``(host, port)`` to resolve instead::

        OverrideResolver(DefaultLoopResolver(), {"example.com": "127.0.0.1",
                                                 ("login.example.com", 443): ("localhost", 8443)})
    """

    def __init__(self, resolver: Resolver, mapping: Mapping[Any, Any]) -> None:
        self.resolver = resolver
        self.mapping = dict(mapping)

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """See :meth:`Resolver.resolve`."""
        for key in ((host, port, family), (host, port)):
            if key in self.mapping:
                host, port = self.mapping[key]
                break
        else:
            if host in self.mapping:
                host = self.mapping[host]
        return await self.resolver.resolve(host, port, family)

    def close(self) -> None:
        """Close the wrapped resolver."""
        self.resolver.close()
