"""ASGIServer: squall.http serving an ASGI 3 application (Starlette, FastAPI, ...).

Theory of operation
-------------------
``ASGIBridge`` is an http delegate factory (docs/interfaces.md): squall.http calls
``start_request(connection)`` per request, and the delegate it returns starts the ASGI
call as soon as the head is parsed (``headers_received``), with a scope built from the
request. The body always streams (``stream_body = True``): each piece of the decoded body
waits in the delegate until the application's ``receive()`` takes it; past
``_BUFFERED`` bytes not yet taken, ``data_received`` hands http an awaitable, so squall.http
stops reading the socket until the application catches up (back-pressure upstream).

``send()`` maps the response messages onto the connection: a start followed by a single
last body message is one ``connection.respond`` (one socket write, squall.http's fast
path); anything else is ``write_headers`` + ``write``* + ``finish``, and every ``write``
is awaited, so a streaming application waits while the client is slow (back-pressure
downstream). When the client leaves, ``receive()`` answers ``http.disconnect`` and
``send()`` raises ``ClientDisconnectedError`` (an ``OSError``, as ASGI asks).

Lifespan: the ``lifespan`` scope starts on ``startup()`` (``squall run`` calls it before
serving) or, failing that, before the first request of the process (so ``start(n)``'s
forked children each run their own); ``shutdown`` ends it after the requests in flight.
An application that does not speak lifespan (it raises on that scope) is served without.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Final
from urllib.parse import unquote

from squall.asgi._body import BodyChannel
from squall.asgi._types import ASGIApp, Message
from squall.http import HTTPServer, HTTPServerRequest, StreamClosedError

__all__ = ["ASGIBridge", "ASGIServer", "ClientDisconnectedError", "LifespanError"]

app_log: Final = logging.getLogger("squall.application")

_ASGI: Final = {"version": "3.0", "spec_version": "2.4"}
_ERROR_500: Final = b"Internal Server Error"


_TASK_NAME: Final = "squall.asgi request"


def _task_starter(loop: Any) -> Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]:
    """How ``loop`` starts a request's task.

    On Python 3.12+ the task starts eagerly: an application that answers without waiting
    completes inside ``headers_received`` (no trip through the loop). Python 3.11 has no
    eager start, and stepping the coroutine by hand first would run the application
    outside any task (``current_task()``, which asyncio.timeout and anyio's cancel scopes
    use, must be the one task that also runs the rest), so there the task starts on the
    next turn. Every request task has one name: Python 3.11 formats a fresh "Task-N" per
    task otherwise. A task factory set on the loop is honoured (it makes the tasks).
    """
    if loop.get_task_factory() is not None:
        return loop.create_task  # type: ignore[no-any-return]
    if sys.version_info >= (3, 12):
        return functools.partial(asyncio.Task, loop=loop, name=_TASK_NAME, eager_start=True)
    return functools.partial(asyncio.Task, loop=loop, name=_TASK_NAME)


class _Sent:
    """The awaitable ``send()`` returns when the message went out at once."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that ends at once: awaiting it does not suspend


_SENT: Final = _Sent()


class ClientDisconnectedError(OSError):
    """``send()`` after the client left (ASGI asks for an ``OSError`` subclass)."""


class LifespanError(RuntimeError):
    """The application answered ``lifespan.startup.failed`` (its message is this error's)."""


class _Lifespan:
    """The one ``lifespan`` call of an application, driven by ``startup``/``shutdown``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._replies: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.supported = True

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._replies.put)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            # The spec: an app that raises on lifespan does not support it: serve without.
            self.supported = False
            app_log.debug("ASGI application does not support lifespan: %r", exc)
            await self._replies.put({"type": "lifespan.unsupported"})

    async def _step(self, message: str) -> None:
        if not self.supported:
            return
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        await self._inbox.put({"type": message})
        reply = await self._replies.get()
        if reply["type"].endswith(".failed"):
            raise LifespanError(f"{message} failed: {reply.get('message', '')}")

    async def startup(self) -> None:
        await self._step("lifespan.startup")

    async def shutdown(self) -> None:
        if self._task is not None:
            await self._step("lifespan.shutdown")
            await asyncio.gather(self._task, return_exceptions=True)


# ASGI header lists → (as str pairs, the same without Content-Length, its value or -1).
# Applications repeat the same few header lists; a hit skips decoding. Bounded.
_DECODED: dict[Any, tuple[list[tuple[str, str]], list[tuple[str, str]], int]] = {}
_DECODED_MAX: Final = 256


def _decode_headers(
    raw: Any,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], int]:
    try:
        key: Any = tuple(raw)
        hit = _DECODED.get(key)
    except TypeError:  # [name, value] lists: unhashable, no memo
        key = hit = None
    if hit is not None:
        return hit
    pairs = [(bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in raw]
    length = -1
    without = []
    for name, value in pairs:
        if name.lower() == "content-length" and value.isdigit() and length < 0:
            length = int(value)
        else:
            without.append((name, value))
    if length < 0:
        without = pairs
    decoded = (pairs, without, length)
    if key is not None:
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        _DECODED[key] = decoded
    return decoded


class ASGIBridge:
    """An http delegate factory serving an ASGI app; also ``startup()``/``shutdown()``."""

    def __init__(self, app: ASGIApp) -> None:
        if not callable(app):
            raise TypeError(f"an ASGI application is a callable, not {type(app).__name__}")
        self.app = app
        self._lifespan: _Lifespan | None = None
        self._ready: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._live = False  # lifespan started: requests go straight to the application
        self._spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]] | None = None
        # what send() returns when a message went out at once: a future done already
        # (awaiting one does not suspend, in C), of the loop serving (see _ensure_ready)
        self._sent: Awaitable[None] = _SENT
        self._state: dict[str, Any] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start_request(self, connection: Any) -> _ASGIRequest:
        """Called by squall.http once per request."""
        return _ASGIRequest(self, connection)

    def _ensure_ready(self) -> asyncio.Future[None]:
        ready = self._ready
        if ready is None:
            loop = self._loop = asyncio.get_running_loop()
            self._spawn = _task_starter(loop)
            sent = loop.create_future()
            sent.set_result(None)
            self._sent = sent
            ready = self._ready = loop.create_task(self._start_lifespan())
        return ready

    async def _start_lifespan(self) -> None:
        lifespan = self._lifespan = _Lifespan(self.app)
        await lifespan.startup()
        self._state = lifespan.state if lifespan.supported else None
        self._live = True

    async def startup(self) -> None:
        """Run the application's ``lifespan.startup`` (once).

        Raises:
            LifespanError: the application answered ``lifespan.startup.failed``.
        """
        await self._ensure_ready()

    async def shutdown(self, timeout: float | None = 10.0) -> None:
        """Wait for ASGI calls still running (cancelled after ``timeout``), then lifespan."""
        if self._tasks:
            _done, pending = await asyncio.wait(list(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        if self._lifespan is not None and self._ready is not None and self._ready.done():
            lifespan, self._lifespan = self._lifespan, None
            await lifespan.shutdown()


# id(transport) → what is kept of that connection (``_Connection``): the scope template
# of its requests, and the scope of its last request. What stays the same on one
# connection is built once and copied per request (a dict copy is cheaper than a
# twelve-key literal), and the addresses are asked once per connection (each
# get_extra_info costs a system call under uvloop). A keep-alive client mostly repeats its
# request (same method, target and headers): then the last scope is copied whole. Keyed by
# id with a plain dict (a WeakKeyDictionary lookup builds a weak reference per call); the
# reference's callback drops the entry when the transport dies, before its id can be reused.
_VERSIONS: Final = {"HTTP/1.1": "1.1", "HTTP/1.0": "1.0"}


class _Connection:
    """What ``_scope`` keeps of one connection."""

    __slots__ = ("ref", "template", "remote_ip", "scheme", "version", "port", "last_key",
                 "last_scope", "last_headers")  # fmt: skip

    def __init__(
        self,
        ref: weakref.ref[Any],
        template: dict[str, Any],
        remote_ip: str | None,
        scheme: str,
        version: str,
        port: Any,
    ) -> None:
        self.ref = ref
        self.template = template  # the scope but for its per-request keys
        self.remote_ip = remote_ip  # what it was made from
        self.scheme = scheme
        self.version = version
        self.port = port  # the peer's
        # the last request made from the template: (method, uri, header pairs), its scope
        # (without "state") and its ASGI header list; None when not kept (large headers)
        self.last_key: tuple[str, str, tuple[tuple[str, str], ...]] | None = None
        self.last_scope: dict[str, Any] | None = None
        self.last_headers: list[tuple[bytes, bytes]] | None = None


_CONNECTIONS: dict[int, _Connection] = {}


def _new_template(
    remote_ip: str | None, scheme: str, version: str, port: Any, server: Any
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": _ASGI,
        "http_version": _VERSIONS.get(version) or version[5:],
        "method": "",
        "scheme": scheme,
        "path": "",
        "raw_path": b"",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": (remote_ip, port) if port is not None else None,
        "server": server,
    }


def _connection_of(
    transport: Any, key: int, request: HTTPServerRequest
) -> tuple[_Connection | None, dict[str, Any]]:
    """A new record for ``transport`` (None if it cannot be weakly referenced: nothing is
    kept then), and the scope template of its requests."""
    remote_ip = request.remote_ip
    scheme = request.protocol
    version = request.version
    peer = transport.get_extra_info("peername")
    sock = transport.get_extra_info("sockname")
    port = peer[1] if isinstance(peer, tuple) else None
    server = tuple(sock[:2]) if isinstance(sock, tuple) else None
    template = _new_template(remote_ip, scheme, version, port, server)
    try:
        ref = weakref.ref(transport, lambda _ref: _CONNECTIONS.pop(key, None))
    except TypeError:  # not weakly referenceable: built every time
        return None, template
    known = _CONNECTIONS[key] = _Connection(ref, template, remote_ip, scheme, version, port)
    return known, template


# Request header names → their ASGI form (lower-cased latin-1 bytes): a server sees the
# same few dozen names over and over. Bounded, cleared wholesale when full.
_NAMES: dict[str, bytes] = {}
_NAMES_MAX: Final = 1000
# Only header lists of short values are kept with a connection's last request, so what a
# connection keeps stays small.
_HEADERS_MEMO_CHARS: Final = 2048


def _request_headers(pairs: tuple[tuple[str, str], ...]) -> tuple[list[tuple[bytes, bytes]], int]:
    """The ASGI header list of ``pairs``, and the length of their values."""
    names = _NAMES
    out = []
    size = 0
    for name, value in pairs:
        key = names.get(name)
        if key is None:
            if len(names) >= _NAMES_MAX:
                names.clear()
            key = names[name] = name.lower().encode("latin-1")
        out.append((key, value.encode("latin-1")))
        size += len(value)
    return out, size


def _scope(
    request: HTTPServerRequest, connection: Any, state: dict[str, Any] | None
) -> dict[str, Any]:
    """The ASGI scope of ``request`` (a new dict; its header list is the request's own)."""
    transport = connection.transport
    key = id(transport)
    known = _CONNECTIONS.get(key)
    pairs = tuple(request.headers.get_all())
    method = request.method
    uri = request.uri
    if (
        known is not None
        and known.ref() is transport
        and known.remote_ip == request.remote_ip
        and known.scheme == request.protocol
        and known.version == request.version
    ):
        if known.last_key == (method, uri, pairs):
            # the connection's last request again: its scope, fresh copies
            scope = known.last_scope.copy()  # type: ignore[union-attr]
            scope["headers"] = known.last_headers.copy()  # type: ignore[union-attr]
            if state is not None:
                scope["state"] = dict(state)
            return scope
        template = known.template
    elif known is not None and known.ref() is transport:
        # X-Real-Ip or X-Scheme (xheaders): this request speaks for another client. The
        # connection keeps the template of its first request; this one is built anew.
        template = _new_template(
            request.remote_ip, request.protocol, request.version, known.port,
            known.template["server"],
        )  # fmt: skip
        known = None
    else:
        known, template = _connection_of(transport, key, request)
    scope = template.copy()
    scope["method"] = method
    path = request.path
    scope["path"] = unquote(path) if "%" in path else path
    scope["raw_path"] = path.encode("latin-1")
    query = request.query
    if query:
        scope["query_string"] = query.encode("latin-1")
    headers, size = _request_headers(pairs)
    scope["headers"] = headers
    if known is not None and size <= _HEADERS_MEMO_CHARS:
        known.last_key = (method, uri, pairs)
        known.last_scope = scope.copy()
        known.last_headers = headers.copy()  # the application may change its own
    if state is not None:
        scope["state"] = dict(state)  # each request gets a shallow copy (ASGI's lifespan state)
    return scope


class _ASGIRequest(BodyChannel):
    """The http ``RequestDelegate`` of one request: runs the ASGI call (module docstring)."""

    __slots__ = ("bridge", "connection", "_request", "_status", "_decoded", "_streaming",
                 "_task")  # fmt: skip

    stream_body = True
    max_body_size: int | None = None

    def __init__(self, bridge: ASGIBridge, connection: Any) -> None:
        self.bridge = bridge
        self.connection = connection
        self._request: HTTPServerRequest | None = None
        self._status = 0
        # the response's headers decoded (_decode_headers), set by http.response.start
        self._decoded: tuple[list[tuple[str, str]], list[tuple[str, str]], int] | None = None
        self._streaming = False
        self._task: asyncio.Task[None] | None = None
        # BodyChannel.__init__, inline (one call fewer per request)
        self._chunks = None
        self._buffered = 0
        self._body_done = False
        self._body_sent = False
        self._gone = False
        self._complete = False
        self._waiter = None
        self._drained = None

    # -- http's side -----------------------------------------------------------------------

    def headers_received(self, request: HTTPServerRequest) -> None:
        self._request = request
        bridge = self.bridge
        if bridge._live:
            # The common case: one task on a thin wrapper of the application's call. The
            # wrapper does the bookkeeping at its end (a done callback would cost one more
            # trip through the loop per request).
            task = bridge._spawn(self._call(_scope(request, self.connection, bridge._state)))  # type: ignore[misc]
            if not task.done():  # (an eager task may be over already)
                self._task = task
                bridge._tasks.add(task)
            return
        ready = bridge._ready
        if ready is None:
            ready = bridge._ensure_ready()
        task = bridge._loop.create_task(self._run(request, ready))  # type: ignore[union-attr]
        task.add_done_callback(bridge._tasks.discard)
        bridge._tasks.add(task)

    data_received = BodyChannel.feed
    on_connection_close = BodyChannel.client_left

    def finish(self) -> None:
        """The request body is complete (``BodyChannel.end``, inline: every request ends so)."""
        self._body_done = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the ASGI call ---------------------------------------------------------------------

    async def _call(self, scope: Message) -> None:
        """The application's call (the fast path of ``headers_received``), then its end."""
        try:
            await self.bridge.app(scope, self.receive, self.send)
        except BaseException as exc:
            if isinstance(exc, Exception) and not self._gone:
                app_log.error("Exception in ASGI application %s", self._uri(), exc_info=True)
            self._fail()
            if not isinstance(exc, Exception):
                raise  # cancelled (shutdown) or exiting: the task ends so
        else:
            if not self._complete:
                if not self._gone and not self._streaming:
                    app_log.error("ASGI application returned without a response: %s", self._uri())
                self._fail()
        finally:
            task = self._task
            if task is not None:
                self._task = None
                self.bridge._tasks.discard(task)

    async def _run(self, request: HTTPServerRequest, ready: asyncio.Future[None]) -> None:
        if not ready.done():
            try:
                await asyncio.shield(ready)
            except Exception:
                app_log.error("ASGI lifespan startup failed", exc_info=True)
                self._fail()
                return
        lifespan = self.bridge._lifespan
        state = lifespan.state if lifespan is not None and lifespan.supported else None
        scope = _scope(request, self.connection, state)
        try:
            await self.bridge.app(scope, self.receive, self.send)
        except Exception:
            if not self._gone:
                app_log.error("Exception in ASGI application %s", request.uri, exc_info=True)
            self._fail()
            return
        if not self._complete:
            if not self._gone and not self._streaming:
                app_log.error("ASGI application returned without a response: %s", request.uri)
            self._fail()

    def _uri(self) -> str:
        request = self._request
        return request.uri if request is not None else ""

    def _fail(self) -> None:
        """Answer 500 if nothing was sent yet, else cut the connection (the body is short)."""
        self.complete()
        conn = self.connection
        if self._gone or conn.closed:
            return
        if not self._streaming:
            try:
                conn.respond(500, [("Content-Type", "text/plain")], _ERROR_500)
            except StreamClosedError:
                pass
            return
        conn.transport.abort()

    def send(self, message: Message) -> Awaitable[None]:
        """ASGI ``send``: response messages onto the squall.http connection.

        A plain function returning an awaitable (ASGI asks only for that): the start and a
        whole body complete at once, without a coroutine; only streamed pieces wait.
        """
        kind = message["type"]
        if self._gone or self._complete:
            if self._gone:
                raise ClientDisconnectedError("the client disconnected")
            raise RuntimeError(f"ASGI message {kind!r} after the response was complete")
        if kind == "http.response.body":
            body = message.get("body", b"")
            more = message.get("more_body", False)
            conn = self.connection
            try:
                if not self._streaming:
                    if not self._status:
                        raise RuntimeError("http.response.body before http.response.start")
                    headers, no_length, length = self._decoded  # type: ignore[misc]
                    if not more:
                        self._complete = True
                        if length == len(body) and self._request.method != "HEAD":  # type: ignore[union-attr]
                            # squall.http adds this very Content-Length itself, and a header
                            # list without one takes its memoized fast path
                            headers = no_length
                        conn.respond(self._status, headers, body)
                        if self._waiter is not None or self._drained is not None:
                            self.complete()  # wake a receive() or a producer waiting
                        return self.bridge._sent
                    self._streaming = True
                    conn.write_headers(self._status, headers)
                if not more:
                    if body:
                        conn.write(body)
                    self._complete = True
                    conn.finish()
                    self._after_complete()
                    return self.bridge._sent
                if body:
                    return self._wait(conn.write(body))
                return self.bridge._sent
            except StreamClosedError:
                self._gone = True
                raise ClientDisconnectedError("the client disconnected") from None
        elif kind == "http.response.start":
            if self._status:
                raise RuntimeError("http.response.start sent twice")
            self._decoded = _decode_headers(message.get("headers", ()))
            self._status = message["status"]
            return self.bridge._sent
        raise RuntimeError(f"unexpected ASGI message {kind!r} on an http scope")

    async def _wait(self, written: Awaitable[None]) -> None:
        """Back-pressure: wait until the connection's buffer drained below its mark."""
        try:
            await written
        except StreamClosedError:
            self._gone = True
            raise ClientDisconnectedError("the client disconnected") from None

    def _after_complete(self) -> None:
        self.complete()


class ASGIServer(HTTPServer):
    """An ``HTTPServer`` serving an ASGI 3 application (``listen``, ``bind`` + ``start``).

    ``server_options`` are ``HTTPServer``'s (``ssl_options``, ``xheaders``, limits...).
    ``await server.startup()`` runs the application's lifespan startup now (else it runs
    before the first request); ``shutdown()`` runs its lifespan shutdown after the
    requests in flight.
    """

    def __init__(self, app: ASGIApp, **server_options: Any) -> None:
        self.bridge = ASGIBridge(app)
        super().__init__(self.bridge, **server_options)
        self.add_shutdown_callback(self.bridge.shutdown)

    @property
    def asgi_app(self) -> ASGIApp:
        """The ASGI application served."""
        return self.bridge.app

    async def startup(self) -> None:
        """Run the application's ``lifespan.startup`` now (once).

        Raises:
            LifespanError: the application answered ``lifespan.startup.failed``.
        """
        await self.bridge.startup()
