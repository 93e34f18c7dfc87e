"""TCPServer: accept connections and hand each one, as an IOStream, to ``handle_stream``.

Sockets are served by asyncio's own accept loop (``loop.create_server(sock=...)``, C code
under uvloop), attached at once whether the loop runs already or not yet: with a bound
socket ``create_server`` and ``start_serving`` never really wait, so they are stepped to
completion synchronously (``_run_now``). TLS is done by asyncio's TLS transport, so
``handle_stream`` receives an :class:`SSLIOStream` whose handshake is complete.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import ssl
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any, Final, TypeVar

from squall.loop import IOLoop, bind_sockets, fork_processes
from squall.tcp._iostream import IOStream, SSLIOStream, _StreamProtocol
from squall.tcp._netutil import ssl_options_to_context

# Tornado logs a failed handle_stream on tornado.application: squall.application here.
log: Final = logging.getLogger("squall.application")

_T = TypeVar("_T")


def _run_now(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine that never really suspends (only ``sleep(0)``-style bare yields)."""
    try:
        while True:
            if coro.send(None) is not None:  # pragma: no cover - a real wait: not expected
                coro.close()
                raise RuntimeError("coroutine suspended on a future")
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


class TCPServer:
    """A non-blocking TCP server: subclass it and override :meth:`handle_stream`.

    ::

        class EchoServer(TCPServer):
            async def handle_stream(self, stream, address):
                while True:
                    line = await stream.read_until(b"\\n")
                    await stream.write(line)

        server = EchoServer()
        server.listen(8888)
        IOLoop.current().start()

    Args:
        ssl_options: serve TLS: an ``ssl.SSLContext`` or Tornado's dict (``certfile``,
            ``keyfile``...); the streams are then :class:`SSLIOStream`.
        max_buffer_size: each stream's ``max_buffer_size``.
        read_chunk_size: each stream's ``read_chunk_size``.

    Raises:
        ValueError: ``ssl_options`` is a dict without ``certfile`` or with unknown keys.
    """

    def __init__(
        self,
        ssl_options: ssl.SSLContext | Mapping[str, Any] | None = None,
        max_buffer_size: int | None = None,
        read_chunk_size: int | None = None,
    ) -> None:
        self.ssl_options = ssl_options
        self._ssl = ssl_options_to_context(ssl_options, True) if ssl_options is not None else None
        self.max_buffer_size = max_buffer_size
        self.read_chunk_size = read_chunk_size
        self._servers: list[asyncio.AbstractServer] = []
        self._sockets: list[socket.socket] = []
        self._pending: list[socket.socket] = []
        self._handlers: set[asyncio.Future[Any]] = set()
        self._started = False
        self._stopped = False
        self._backlog = socket.SOMAXCONN

    def listen(
        self,
        port: int,
        address: str | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = socket.SOMAXCONN,
        flags: int | None = None,
        reuse_port: bool = False,
    ) -> None:
        """Bind ``port`` on ``address`` (None: every interface) and start accepting."""
        self._backlog = backlog
        self.add_sockets(bind_sockets(port, address, family, backlog, flags, reuse_port))

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Accept on already bound, listening sockets (``bind_sockets``, ``fork_processes``)."""
        for sock in sockets:
            self.add_socket(sock)

    def add_socket(self, socket: socket.socket) -> None:
        """Accept on one bound, listening socket."""
        io_loop = IOLoop.current()
        assert io_loop is not None
        loop = io_loop.asyncio_loop
        socket.setblocking(False)
        server = _run_now(
            loop.create_server(
                self._protocol,
                sock=socket,
                ssl=self._ssl,
                # create_server calls listen() again, with 100 unless told.
                backlog=self._backlog,
                start_serving=False,
            )
        )
        _run_now(server.start_serving())
        self._servers.append(server)
        self._sockets.append(socket)
        self._started = True

    def bind(
        self,
        port: int,
        address: str | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = socket.SOMAXCONN,
        flags: int | None = None,
        reuse_port: bool = False,
    ) -> None:
        """Bind sockets now; they accept after :meth:`start` (possibly in forked children)."""
        self._backlog = backlog
        sockets = bind_sockets(port, address, family, backlog, flags, reuse_port)
        if self._started:
            self.add_sockets(sockets)
        else:
            self._pending.extend(sockets)

    def start(self, num_processes: int | None = 1, max_restarts: int | None = None) -> None:
        """Accept on the sockets of :meth:`bind`, after forking ``num_processes`` children.

        ``num_processes`` None or <= 0 forks one child per CPU; 1 (default) forks nothing.
        """
        if num_processes != 1:
            fork_processes(num_processes, max_restarts)
        self._started = True
        pending, self._pending = self._pending, []
        self.add_sockets(pending)

    def stop(self) -> None:
        """Stop accepting and close the listening sockets; open streams stay open."""
        if self._stopped:
            return
        self._stopped = True
        for server in self._servers:
            server.close()
        for sock in self._pending:
            sock.close()
        self._servers, self._sockets, self._pending = [], [], []

    @property
    def sockets(self) -> list[socket.socket]:
        """The listening sockets accepting now."""
        return list(self._sockets)

    def handle_stream(self, stream: IOStream, address: Any) -> Any:
        """Override: called with each new connection's stream and the peer's address.

        May be ``async`` (or return an awaitable): it then runs as a Task, and an
        exception it raises is logged on ``squall.application`` (the stream is closed).
        """
        raise NotImplementedError(f"{type(self).__name__} must override handle_stream")

    # -- connections ---------------------------------------------------------------------

    def _protocol(self) -> _StreamProtocol:
        limits = {"max_buffer_size": self.max_buffer_size, "read_chunk_size": self.read_chunk_size}
        cls = SSLIOStream if self._ssl is not None else IOStream
        return _StreamProtocol(cls._for_protocol(**limits), self._connected)

    def _connected(self, stream: Any) -> None:
        address = stream.get_extra_info("peername")
        try:
            result = self.handle_stream(stream, address)
        except Exception:
            log.exception("Error in connection callback")
            stream.close()
            return
        if result is not None and inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._handlers.add(task)
            task.add_done_callback(lambda done: self._handler_done(done, stream))

    def _handler_done(self, task: asyncio.Future[Any], stream: IOStream) -> None:
        self._handlers.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            # Tornado's wording for an async handle_stream that failed (its IOLoop logs the
            # Future's callback), so ExpectLog(app_log, "Exception in callback") ports.
            log.error("Exception in callback %r", task, exc_info=exc)
            stream.close()
