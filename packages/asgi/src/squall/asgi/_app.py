"""``to_asgi(app)``: a squall.web Application (any http delegate factory) as an ASGI 3 app.

Theory of operation
-------------------
The Application is driven exactly as squall.http drives it (docs/interfaces.md): one
``start_request(connection)`` per request, ``headers_received(request)``, the body (whole,
or piece by piece through ``data_received`` when the handler streams it), ``finish()``, and
``on_connection_close()`` if the client leaves first. The connection is an
``ASGIConnection``: its calls queue ASGI messages, which the ASGI call drains in order.

- ``lifespan``: ``lifespan.startup`` runs ``app.startup()`` (the plugins' startup hooks),
  ``lifespan.shutdown`` runs ``app.shutdown()``. A server without lifespan (``httpx``'s
  ``ASGITransport``) gets the startup hooks before its first request instead.
- ``http``: the request is built from the scope: ``remote_ip`` from ``client``,
  ``protocol`` from ``scheme``, ``uri`` from ``raw_path`` (as the client sent it; it holds
  ``root_path``, so the application's rules see the whole path) and ``query_string``.
  The whole response is handed over without a waiting task when the handler answers at
  once; otherwise a task watches ``receive()`` for ``http.disconnect``.
- ``websocket``: squall.websocket's handlers, through a translating transport
  (``_websocket``: ASGI messages in, frames out and back).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final
from urllib.parse import quote

from squall.asgi._connection import ASGIConnection
from squall.asgi._types import Message, Receive, Scope, Send
from squall.asgi._websocket import serve_websocket
from squall.http import HTTPHeaders, HTTPInputError, HTTPServerRequest, parse_body_arguments

__all__ = ["SquallASGIApp", "to_asgi"]

log: Final = logging.getLogger("squall.general")

_DEFAULT_MAX_BODY: Final = 100 * 1024 * 1024  # squall.http's default max_body_size


class UnsupportedScopeError(RuntimeError):
    """The ASGI server called the application with a scope type it does not serve."""


# ASGI request header list → (its HTTPHeaders, whether it announces an HTTP/1 body, its
# Host or None). A client repeats the same headers request after request: a hit is one
# copy instead of a decode and a normalization per header. Only lists of short values are
# kept (the memo stays small); bounded, cleared wholesale when full.
_HEADERS: dict[Any, tuple[HTTPHeaders, bool, str | None]] = {}
_HEADERS_MAX: Final = 256
_HEADERS_MEMO_BYTES: Final = 2048


def _headers_from_scope(raw: Any) -> tuple[HTTPHeaders, bool, str | None]:
    try:
        key: Any = tuple(raw)
        hit = _HEADERS.get(key)
    except TypeError:  # [name, value] lists: unhashable, no memo
        key = hit = None
    if hit is not None:
        return hit[0].copy(), hit[1], hit[2]
    headers = HTTPHeaders()
    size = 0
    for name, value in raw:
        headers.add(name.decode("latin-1"), value.decode("latin-1"))
        size += len(value)
    # HTTP/1.x announces a body with Content-Length or Transfer-Encoding
    announced = "Content-Length" in headers or "Transfer-Encoding" in headers
    host = headers.get("Host")
    if key is not None and size <= _HEADERS_MEMO_BYTES:
        if len(_HEADERS) >= _HEADERS_MAX:
            _HEADERS.clear()
        _HEADERS[key] = (headers.copy(), announced, host)  # a copy: the request's may change
    return headers, announced, host


# scope's http_version → (the request's version, whether a body may come unannounced:
# HTTP/2 and 3 frame a body without Content-Length or Transfer-Encoding)
_VERSIONS: Final = {
    "1.1": ("HTTP/1.1", False),
    "1.0": ("HTTP/1.0", False),
    "2": ("HTTP/2", True),
    "3": ("HTTP/3", True),
}


def _request_from_scope(scope: Scope, conn: ASGIConnection) -> tuple[HTTPServerRequest, bool]:
    """The request of an ``http`` scope, and whether it may have a body.

    A bodiless HTTP/1 GET needs no ``receive()``; HTTP/2 and 3 frame a body without
    Content-Length or Transfer-Encoding, so theirs is always read. (The usual scope,
    with every optional key, is built inline in ``SquallASGIApp.__call__``; this is the
    general form, for scopes that leave keys out.)
    """
    headers, announced, host = _headers_from_scope(scope["headers"])
    if host is None:
        host = _host_from_server(scope, headers)
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(scope["path"], safe="/%:@!$&'()*+,;=~-._")
    query = scope.get("query_string") or b""
    uri = f"{path}?{query.decode('latin-1')}" if query else path
    client = scope.get("client")
    version, unannounced = _version(scope.get("http_version", "1.1"))
    request = HTTPServerRequest(
        scope["method"],
        uri,
        version,
        headers,
        None,  # body
        host or "127.0.0.1",  # (what the request would find itself, without a lookup)
        None,  # files
        conn,  # type: ignore[arg-type]
        client[0] if client else None,
        scope.get("scheme", "http"),
    )
    return request, announced or unannounced


def _host_from_server(scope: Scope, headers: HTTPHeaders) -> str | None:
    """No Host header: the scope's ``server`` stands in for it (set on the headers too)."""
    server = scope.get("server")
    if server and server[1] is not None:
        host: str = f"{server[0]}:{server[1]}"
        headers["Host"] = host
        return host
    return None


def _version(version: str) -> tuple[str, bool]:
    known = _VERSIONS.get(version)
    if known is not None:
        return known
    return "HTTP/" + version, not version.startswith("1")


class SquallASGIApp:
    """An ASGI 3 application serving a squall.http delegate factory (``to_asgi``'s result).

    Attributes:
        app: the wrapped application (a ``squall.web.Application``).
        max_body_size: the largest whole body read when the handler does not lower it.
    """

    def __init__(self, app: Any, *, max_body_size: int = _DEFAULT_MAX_BODY) -> None:
        if not hasattr(app, "start_request"):
            raise TypeError(
                f"to_asgi() needs a squall.web.Application (an object with start_request), "
                f"not {type(app).__name__}"
            )
        self.app = app
        self.max_body_size = max_body_size
        self._started = False
        self._starting: asyncio.Future[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 entry point."""
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return
        if not self._started:
            await self._startup()
        # The http scope, here rather than in a method of its own (one coroutine fewer per
        # request), and the request built inline from the usual scope (every optional key
        # present, as uvicorn, Hypercorn and Granian give it): each call and each tuple
        # packed and unpacked on the way costs, and this runs for every request.
        method = scope["method"]
        conn = ASGIConnection(method == "HEAD", scope)
        try:
            raw = scope["raw_path"]
            query = scope["query_string"]
            client = scope["client"]
            version, unannounced = _VERSIONS[scope["http_version"]]
            scheme = scope["scheme"]
            raw_headers = scope["headers"]
            if not raw:
                raise KeyError("raw_path")  # None or b"": the general form quotes path
        except KeyError:
            request, may_have_body = _request_from_scope(scope, conn)
        else:
            try:
                hit = _HEADERS[tuple(raw_headers)]
            except (KeyError, TypeError):  # new, or [name, value] lists (unhashable)
                headers, announced, host = _headers_from_scope(raw_headers)
            else:
                headers = hit[0].copy()
                announced = hit[1]
                host = hit[2]
            if host is None:
                host = _host_from_server(scope, headers)
            path = raw.decode("latin-1")
            request = HTTPServerRequest(
                method,
                f"{path}?{query.decode('latin-1')}" if query else path,
                version,
                headers,
                None,  # body
                host or "127.0.0.1",  # (what the request would find itself, without a lookup)
                None,  # files
                conn,  # type: ignore[arg-type]
                client[0] if client else None,
                scheme,
            )
            may_have_body = announced or unannounced
        delegate = self.app.start_request(conn)
        ready = delegate.headers_received(request)
        if ready is not None and not await self._ready(ready, conn):
            return
        if conn._state != 2:  # (not conn.finished, without the property)
            if may_have_body and self._too_large(delegate, request, conn):
                pass  # answered 413 before reading
            else:
                try:
                    streams = delegate.stream_body
                except AttributeError:  # a delegate other than web's dispatcher
                    streams = False
                if streams:
                    if not await self._stream_body(delegate, conn, receive):
                        return
                elif may_have_body and not await self._whole_body(delegate, request, conn, receive):
                    return
            if conn._state != 2:
                # web keeps its own reference to a handler it runs as a task
                delegate.finish()
        if conn._state == 2 and not conn._gone:
            # Answered at once (the common case): send the response here, without the
            # draining loop. Nothing more can be queued once the response is finished.
            whole = conn._whole
            try:
                if whole is not None:
                    await send(whole[0])
                    await send(whole[1])
                    return
                for message, future in conn._out:
                    await send(message)
                    if future is not None and not future.done():
                        future.set_result(None)
            except (OSError, RuntimeError):
                self._client_left(conn, delegate)  # the server refuses: client gone
            return
        await self._drain(conn, delegate, receive, send)

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The scopes but http: lifespan and websocket."""
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            if not self._started:
                await self._startup()
            await serve_websocket(self.app, scope, receive, send)
        else:
            raise UnsupportedScopeError(f"squall.asgi does not serve the {kind!r} scope")

    async def _startup(self) -> None:
        # One run for every caller: requests that arrive while it runs wait for it.
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._run_startup())
        await asyncio.shield(self._starting)
        self._started = True

    async def _run_startup(self) -> None:
        startup = getattr(self.app, "startup", None)
        if startup is not None:
            await startup()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._startup()
                except Exception as exc:
                    log.error("squall.asgi: startup failed", exc_info=True)
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                shutdown = getattr(self.app, "shutdown", None)
                try:
                    if shutdown is not None:
                        await shutdown()
                except Exception as exc:
                    log.error("squall.asgi: shutdown failed", exc_info=True)
                    await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _ready(ready: Any, conn: ASGIConnection) -> bool:
        """Wait for the awaitable ``headers_received`` returned (a streaming handler's async
        ``prepare``) before the body is read; False when it failed (answered 500)."""
        try:
            await ready
        except Exception:
            log.error("Uncaught exception in headers_received", exc_info=True)
            if not conn.headers_written:
                conn.respond(500, [("Content-Type", "text/plain")], b"Internal Server Error")
            elif not conn.finished:
                conn._abort()
            return conn.finished
        return True

    def _limit(self, delegate: Any, conn: ASGIConnection) -> int:
        """The body limit in force: the connection's, else the delegate's, else ours."""
        if conn._max_body is not None:
            return conn._max_body
        return getattr(delegate, "max_body_size", None) or self.max_body_size

    def _too_large(self, delegate: Any, request: HTTPServerRequest, conn: ASGIConnection) -> bool:
        """Answer 413 when the announced Content-Length is over the limit."""
        declared = request.headers.get("Content-Length")
        if (
            declared is None
            or not declared.isdigit()
            or int(declared) <= self._limit(delegate, conn)
        ):
            return False
        conn.respond(413, [("Content-Type", "text/plain")], b"request body too large")
        return True

    @staticmethod
    async def _next(conn: ASGIConnection, receive: Receive) -> Message | None:
        """The next message of the body, or None when it stalled past ``set_body_timeout``
        (answered 408)."""
        timeout = conn._body_timeout
        if timeout is None:
            return await receive()
        try:
            return await asyncio.wait_for(receive(), timeout)
        except TimeoutError:
            log.warning("squall.asgi: request body stalled for %s s: 408", timeout)
            if not conn.headers_written:
                conn.respond(408, [("Content-Type", "text/plain")], b"request body timeout")
            elif not conn.finished:
                conn._abort()
            return None

    async def _stream_body(self, delegate: Any, conn: ASGIConnection, receive: Receive) -> bool:
        """Feed ``data_received``; False when the client left."""
        size = 0
        while True:
            message = await self._next(conn, receive)
            if message is None:
                return True
            limit = self._limit(delegate, conn)  # (data_received may change it)
            if message["type"] == "http.disconnect":
                self._client_left(conn, delegate)
                return False
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit and not conn.headers_written:
                conn.respond(413, [("Content-Type", "text/plain")], b"request body too large")
                return True
            if chunk and not conn.finished:
                pending = delegate.data_received(chunk)
                if pending is not None:
                    await pending  # flow control: the next message waits for the handler
            if not message.get("more_body", False):
                return True

    async def _whole_body(
        self, delegate: Any, request: HTTPServerRequest, conn: ASGIConnection, receive: Receive
    ) -> bool:
        """Read the body, parse its form arguments; False when the client left."""
        limit = self._limit(delegate, conn)
        chunks = []
        size = 0
        while True:
            message = await self._next(conn, receive)
            if message is None:
                return True
            if message["type"] == "http.disconnect":
                self._client_left(conn, delegate)
                return False
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    conn.respond(413, [("Content-Type", "text/plain")], b"request body too large")
                    return True
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if chunks:
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            request.body = body
            try:
                parse_body_arguments(
                    request.headers.get("Content-Type", ""),
                    body,
                    request.body_arguments,
                    request.files,
                    request.headers,
                )
            except HTTPInputError as exc:
                status = getattr(exc, "status_hint", 400) or 400
                conn.respond(status, [("Content-Type", "text/plain")], str(exc).encode())
        return True

    @staticmethod
    def _client_left(conn: ASGIConnection, delegate: Any) -> None:
        if conn._gone:
            return
        conn._disconnected()
        if not conn.finished:
            try:
                delegate.on_connection_close()
            except Exception:
                log.error("Uncaught exception in on_connection_close", exc_info=True)

    async def _drain(
        self, conn: ASGIConnection, delegate: Any, receive: Receive, send: Send
    ) -> None:
        """Send the queued messages in order until the response is finished."""
        watcher: asyncio.Task[None] | None = None
        try:
            while True:
                whole = conn._whole
                if whole is not None:  # respond(): the whole response, nothing after it
                    conn._whole = None
                    for message in whole:
                        try:
                            await send(message)
                        except (OSError, RuntimeError):
                            self._client_left(conn, delegate)
                            return
                    return
                out = conn._out
                if out:
                    conn._out = []
                    for message, future in out:
                        try:
                            await send(message)
                        except (OSError, RuntimeError):
                            # the server refuses to send: the client is gone
                            self._client_left(conn, delegate)
                            return
                        if future is not None and not future.done():
                            future.set_result(None)
                    continue
                if conn._state == 2:  # finished (or dropped) and all sent
                    return
                if watcher is None:
                    watcher = asyncio.ensure_future(_wait_disconnect(receive))
                wake = conn._wake = asyncio.get_running_loop().create_future()
                await asyncio.wait((wake, watcher), return_when=asyncio.FIRST_COMPLETED)
                conn._wake = None
                if watcher.done() and not conn._out and conn._whole is None:
                    self._client_left(conn, delegate)
                    return
        finally:
            if watcher is not None and not watcher.done():
                watcher.cancel()


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


def to_asgi(app: Any, *, max_body_size: int = _DEFAULT_MAX_BODY) -> SquallASGIApp:
    """Return an ASGI 3 application serving ``app`` (a ``squall.web.Application``).

    Run it under any ASGI server (``uvicorn module:asgi_app``, Hypercorn, Granian) or test
    it in process with ``httpx.ASGITransport(app=to_asgi(app))``. ``max_body_size`` bounds
    a whole request body (a handler's own ``max_body_size`` wins), as squall.http's does.

    Raises:
        TypeError: ``app`` is not an http delegate factory (no ``start_request``).
    """
    return SquallASGIApp(app, max_body_size=max_body_size)
