"""HTTPServer: sockets, processes and graceful shutdown around ``HTTPProtocol``.

Three ways to start, as Tornado's notes show::

    server = HTTPServer(app); server.listen(8000)                     # one process
    server = HTTPServer(app); server.bind(8000); server.start(4)      # forks 4 children
    sockets = bind_sockets(8000); fork_processes(0); server.add_sockets(sockets)

Sockets are attached to the asyncio loop of ``IOLoop.current()`` at once, whether that
loop is running (``asyncio.run(main())``) or not yet (``listen`` then ``IOLoop.start``):
``loop.create_server(sock=..., start_serving=False)`` and ``Server.start_serving`` do no
real waiting, so they are stepped to completion synchronously (see ``_run_now``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable, Mapping
from typing import Any, Final, TypeVar

from squall.http._context import ServerContext
from squall.http._limits import HTTPLimits
from squall.http._protocol import protocol_class
from squall.http._request import HTTPServerRequest
from squall.http._tls import TLSAcceptProtocol, ssl_context_from_options
from squall.loop import IOLoop, bind_sockets, fork_processes

__all__ = ["HTTPServer"]

log: Final = logging.getLogger("squall.http")
_T = TypeVar("_T")

_LIMIT_FIELDS: Final = frozenset(HTTPLimits.__dataclass_fields__)


def _run_now(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine that never really suspends (only ``sleep(0)``-style bare yields)."""
    try:
        while True:
            yielded = coro.send(None)
            if yielded is not None:  # pragma: no cover - a real await: not expected here
                coro.close()
                raise RuntimeError("coroutine suspended on a future")
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _loop() -> asyncio.AbstractEventLoop:
    current = IOLoop.current()
    assert current is not None
    return current.asyncio_loop


class HTTPServer:
    """A non-blocking HTTP/1.1 server.

    Args:
        request_callback: a plain callable ``callback(request)`` called once the whole
            request has arrived (it answers through ``request.connection``; it may return
            an awaitable), or a delegate factory with ``start_request(connection)`` such
            as ``squall.web.Application`` (see ``docs/interfaces.md``).
        ssl_options: an ``ssl.SSLContext`` or Tornado's dict (``certfile``, ``keyfile``…).
        xheaders: trust X-Real-IP / X-Forwarded-For / X-Scheme / X-Forwarded-Proto.
        trusted_downstream: proxy addresses skipped in X-Forwarded-For.
        no_keep_alive: close every connection after one response.
        decompress_request: inflate gzip/deflate request bodies (bounded by max_body_size).
        limits: an ``HTTPLimits``; keyword overrides of single fields go in
            ``**limit_overrides`` (``max_body_size=…``, ``idle_connection_timeout=…``…).
        backlog: the listen queue of the sockets served (connections the kernel holds
            until they are accepted). None: ``socket.SOMAXCONN`` (4096 on recent Linux),
            as ``squall.loop.bind_sockets``; ``listen``/``bind`` take their own.
    """

    def __init__(
        self,
        request_callback: Callable[[HTTPServerRequest], Awaitable[None] | None] | Any,
        *,
        ssl_options: ssl.SSLContext | Mapping[str, Any] | None = None,
        xheaders: bool = False,
        trusted_downstream: Collection[str] | None = None,
        no_keep_alive: bool = False,
        decompress_request: bool = False,
        limits: HTTPLimits | None = None,
        backlog: int | None = None,
        **limit_overrides: Any,
    ) -> None:
        # Tornado's names: max_buffer_size was the default of max_body_size; protocol
        # overrode request.protocol (chunk_size is an HTTPLimits field).
        legacy_buffer = limit_overrides.pop("max_buffer_size", None)
        if legacy_buffer is not None and "max_body_size" not in limit_overrides:
            limit_overrides["max_body_size"] = legacy_buffer
        scheme_override = limit_overrides.pop("protocol", None)
        unknown = set(limit_overrides) - _LIMIT_FIELDS
        if unknown:
            raise TypeError(f"HTTPServer got unknown keyword arguments: {sorted(unknown)}")
        limits = limits if limits is not None else HTTPLimits()
        if limit_overrides:
            import dataclasses

            limits = dataclasses.replace(limits, **limit_overrides)
        self.limits = limits
        self.request_callback = request_callback
        self._ssl: ssl.SSLContext | None = (
            ssl_context_from_options(ssl_options) if ssl_options is not None else None
        )
        self._ctx = ServerContext(
            request_callback,
            limits,
            xheaders=xheaders,
            trusted_downstream=trusted_downstream,
            no_keep_alive=no_keep_alive,
            decompress=decompress_request,
            scheme=scheme_override or ("https" if self._ssl is not None else "http"),
        )
        if backlog is not None and (not isinstance(backlog, int) or backlog < 1):
            raise ValueError(f"backlog must be a positive integer, not {backlog!r}")
        self.backlog: int = socket.SOMAXCONN if backlog is None else backlog
        self._pending: list[socket.socket] = []
        self._pending_backlog: dict[socket.socket, int] = {}  # bind(backlog=) until start()
        self._sockets: list[socket.socket] = []
        self._servers: list[asyncio.AbstractServer] = []
        self._started = False
        self._extra_ctxs: list[ServerContext] = []
        self._shutdown_callbacks: list[Callable[[], Any]] = []

    # -- sockets ---------------------------------------------------------------------------

    def listen(
        self,
        port: int,
        address: str | None = "",
        *,
        ssl_options: ssl.SSLContext | Mapping[str, Any] | None = None,
        **bind_kwargs: Any,
    ) -> None:
        """Bind ``port`` on ``address`` ("" = every interface) and start serving at once.

        ``bind_kwargs`` go to ``squall.loop.bind_sockets`` (``family``, ``backlog``,
        ``reuse_port``); ``backlog`` defaults to the server's. ``ssl_options`` serves
        these sockets over TLS (otherwise the server's own ``ssl_options`` apply).
        """
        context = ssl_context_from_options(ssl_options) if ssl_options is not None else None
        backlog = bind_kwargs.pop("backlog", None) or self.backlog
        for sock in bind_sockets(port, address or None, backlog=backlog, **bind_kwargs):
            self.add_socket(sock, ssl_context=context, backlog=backlog)

    def bind(
        self,
        port: int,
        address: str | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int | None = None,
        reuse_port: bool = False,
    ) -> None:
        """Bind sockets now; they serve after ``start()`` (possibly in forked children).

        ``backlog`` None: the server's.
        """
        backlog = backlog or self.backlog
        socks = bind_sockets(port, address or None, family, backlog, reuse_port=reuse_port)
        if self._started:
            for sock in socks:
                self.add_socket(sock, backlog=backlog)
        else:
            self._pending.extend(socks)
            self._pending_backlog.update(dict.fromkeys(socks, backlog))

    def start(self, num_processes: int | None = 1, max_restarts: int | None = None) -> None:
        """Serve the sockets of ``bind``, after forking ``num_processes`` children.

        ``num_processes`` None or <= 0 forks one child per CPU; 1 forks nothing. Each child
        serves the same listening sockets (the kernel balances connections).
        """
        if num_processes != 1:
            fork_processes(num_processes, max_restarts)
        self._started = True
        pending, self._pending = self._pending, []
        backlogs, self._pending_backlog = self._pending_backlog, {}
        for sock in pending:
            self.add_socket(sock, backlog=backlogs.get(sock))

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Serve already bound, listening sockets (from ``squall.loop.bind_sockets``)."""
        for sock in sockets:
            self.add_socket(sock)

    def add_socket(
        self,
        sock: socket.socket,
        ssl_context: ssl.SSLContext | None = None,
        *,
        backlog: int | None = None,
    ) -> None:
        """Serve one bound, listening socket (over TLS with ``ssl_context`` if given).

        The socket's listen queue becomes ``backlog`` (None: the server's): asyncio and
        uvloop call ``listen()`` again when they start serving a socket.
        """
        loop = _loop()
        sock.setblocking(False)
        ctx = self._ctx
        tls = ssl_context if ssl_context is not None else self._ssl
        if tls is not None and ctx.scheme == "http" and ssl_context is not None:
            ctx = self._tls_ctx()
        factory: Callable[[], asyncio.BaseProtocol]
        http_protocol = protocol_class(loop)
        if tls is None:

            def factory() -> asyncio.BaseProtocol:
                return http_protocol(ctx, loop)
        else:
            context = tls

            def factory() -> asyncio.BaseProtocol:
                return TLSAcceptProtocol(loop, context, lambda: http_protocol(ctx, loop), 60.0)

        # create_server listens again, with its own default of 100 unless told: a burst of
        # connections beyond it would be dropped by the kernel (SYNs retried after 1 s).
        server = _run_now(
            loop.create_server(
                factory, sock=sock, backlog=backlog or self.backlog, start_serving=False
            )
        )
        _run_now(server.start_serving())
        self._sockets.append(sock)
        self._servers.append(server)
        self._started = True

    def _tls_ctx(self) -> ServerContext:
        """A context sharing settings and connections, with scheme https (for listen(ssl=))."""
        base = self._ctx
        tls_ctx = ServerContext.__new__(ServerContext)
        for name in ServerContext.__slots__:
            setattr(tls_ctx, name, getattr(base, name))
        tls_ctx.scheme = "https"
        self._extra_ctxs.append(tls_ctx)
        return tls_ctx

    @property
    def sockets(self) -> list[socket.socket]:
        """The listening sockets being served."""
        return list(self._sockets)

    @property
    def connections(self) -> int:
        """How many client connections are open."""
        return len(self._ctx.connections)

    # -- stopping --------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop accepting new connections (open connections keep being served)."""
        for server in self._servers:
            server.close()
        self._servers = []
        self._sockets = []
        for sock in self._pending:
            sock.close()
        self._pending = []
        self._pending_backlog = {}

    def add_shutdown_callback(self, callback: Callable[[], Any]) -> None:
        """Have ``shutdown()`` call ``callback()`` (an application's clean-up).

        The callbacks run once, in the order added, at the start of ``shutdown()`` (right
        after the listening sockets close, so also on the signal of
        ``install_signal_handlers``). The result is a value (ignored), a callable (called
        too) or an awaitable: awaitables run while the requests in flight are finished and
        are awaited before ``shutdown()`` returns. An exception is logged on the
        ``squall.http`` logger, never raised. ``squall.web.Application.listen`` registers
        the application's ``shutdown()`` (the plugins' ``squall_web_shutdown`` hooks) here.
        """
        self._shutdown_callbacks.append(callback)

    def _run_shutdown_callbacks(self) -> list[asyncio.Future[Any]]:
        """Call the shutdown callbacks; return the awaitables they gave, as futures."""
        callbacks, self._shutdown_callbacks = self._shutdown_callbacks, []
        pending: list[asyncio.Future[Any]] = []
        for callback in callbacks:
            try:
                result = callback()
                if callable(result) and not inspect.isawaitable(result):
                    result = result()
                if inspect.isawaitable(result):
                    pending.append(asyncio.ensure_future(result))
            except Exception:
                log.error("error in shutdown callback %r", callback, exc_info=True)
        return pending

    async def shutdown(self, timeout: float | None = 10.0) -> None:
        """Stop accepting, finish the requests in flight, close idle connections.

        Connections still busy after ``timeout`` seconds are closed abruptly. The
        callbacks of ``add_shutdown_callback`` are called first and awaited before the
        end.
        """
        self.stop()
        ctx = self._ctx
        ctx.shutting_down = True  # responses now carry Connection: close
        for extra in self._extra_ctxs:
            extra.shutting_down = True
        pending = self._run_shutdown_callbacks()
        for proto in list(ctx.connections):
            proto.close_if_idle()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while ctx.connections:
            for proto in list(ctx.connections):
                proto.close_if_idle()
            if deadline is not None and loop.time() >= deadline:
                for proto in list(ctx.connections):
                    log.warning("closing a busy connection at shutdown")
                    proto.abort()
                break
            await asyncio.sleep(0.02)
        for fut in pending:
            try:
                await fut
            except Exception:
                log.error("error in shutdown callback", exc_info=True)
        # Let the transports run connection_lost before the caller closes the loop.
        await asyncio.sleep(0)

    def install_signal_handlers(
        self,
        signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT),
        timeout: float | None = 10.0,
        stop_loop: bool = True,
    ) -> None:
        """On SIGTERM/SIGINT: shut down gracefully (``shutdown(timeout)``), then stop the loop.

        One call for scripts::

            server.listen(8000)
            server.install_signal_handlers()
            IOLoop.current().start()
        """
        loop = _loop()
        stopping = False

        def on_signal() -> None:
            # Once: Ctrl-C pressed again while the requests in flight finish must not run
            # the shutdown callbacks a second time (nor stop the loop under the first).
            nonlocal stopping
            if stopping:
                log.info("already shutting down")
                return
            stopping = True

            async def go() -> None:
                try:
                    await self.shutdown(timeout)
                finally:
                    if stop_loop:
                        loop.stop()

            loop.create_task(go())

        signals = tuple(signals)

        def install() -> None:
            for sig in signals:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, on_signal)

        if loop.is_running() or isinstance(loop, asyncio.BaseEventLoop):
            install()  # asyncio keeps a signal that comes before the loop runs
            return
        # uvloop loses a signal that arrives while its loop is not running (the usual
        # script calls this, then start()): until the loop runs, a plain handler records
        # it, and the loop's own handlers, once installed, act on what was recorded.
        early: list[int] = []
        try:
            for sig in signals:
                signal.signal(sig, lambda signum, frame: early.append(signum))
        except ValueError:  # not the main thread: only the loop can take signals
            pass

        def install_and_catch_up() -> None:
            install()
            if early:
                on_signal()

        loop.call_soon(install_and_catch_up)

    async def close_all_connections(self) -> None:
        """Close every connection now and wait until they are gone (tests, reloads)."""
        for proto in list(self._ctx.connections):
            proto.abort()
        await asyncio.sleep(0)
