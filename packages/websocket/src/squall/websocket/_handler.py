"""WebSocketHandler: Tornado's API over squall.web's RequestHandler and http's hand-over.

The handshake is an ordinary GET through the whole RequestHandler lifecycle (before-hooks,
``prepare``, ``get_current_user``, signed cookies, ``@authenticated``), so a refused
handshake answers like any handler. ``get`` then checks the upgrade (RFC 6455 §4.2.1),
answers ``101`` through ``request.connection.upgrade`` and hands the connection to a
``WebSocketProtocol``; the access log line and ``on_finish`` are those of the 101.
``open()`` runs next (it may be async), and only when it has finished are messages
delivered to ``on_message``, in order (an async ``on_message`` is awaited before the next).

Answers before the upgrade (Tornado's): 400 ``Can "Upgrade" only to "WebSocket".``,
400 ``"Connection" must be "Upgrade".``, 403 ``Cross origin websockets not allowed``
(``check_origin``; same origin by default), 426 with ``Sec-WebSocket-Version: 13`` for
another protocol version, and 400 ``Missing/Invalid WebSocket headers`` for a missing or
malformed ``Sec-WebSocket-Key`` or an HTTP/1.0 request.
"""

from __future__ import annotations

import inspect
import logging
import socket
from collections.abc import Awaitable
from typing import Any, Final
from urllib.parse import urlparse

from squall.web import HTTPError, RequestHandler
from squall.web._base import DONE  # the completed awaitable web runs no Task for
from squall.web.escape import json_encode
from squall.websocket._appstate import DEFAULT_MAX_MESSAGE_SIZE, OPEN_SOCKETS
from squall.websocket._connection import WebSocketProtocol
from squall.websocket._deflate import accept_offer, check_options
from squall.websocket._errors import WebSocketClosedError
from squall.websocket._handshake import accept_key, key_is_valid, split_header

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "WebSocketHandler"]

gen_log: Final = logging.getLogger("squall.general")
app_log: Final = logging.getLogger("squall.application")

# Headers that describe a body: a 101 has none (as Tornado clears them for 1xx).
_BODY_HEADERS: Final = frozenset(("content-type", "content-length", "content-encoding", "etag"))


class WebSocketHandler(RequestHandler):
    """Subclass it and define ``open``, ``on_message`` and ``on_close`` (Tornado's API).

    Attributes:
        ws_connection: the ``WebSocketProtocol`` once the handshake is done; None before it,
            and again from ``close()`` or the connection's end on (Tornado's test of a
            live connection: ``if self.ws_connection is None``).
        close_code / close_reason: what the peer's close frame said (None if it had none).
        open_args / open_kwargs: the path arguments given to ``open``.
    """

    # squall.web answers HEAD with get() when a handler has no head(); here get() is the
    # handshake, so HEAD stays unsupported: a 405, as Tornado answers it.
    SUPPORTED_METHODS = tuple(m for m in RequestHandler.SUPPORTED_METHODS if m != "HEAD")

    def __init__(self, application: Any, request: Any, **kwargs: Any) -> None:
        self.ws_connection: WebSocketProtocol | None = None
        # The protocol after ws_connection is cleared (the close's bookkeeping needs it).
        self._ws_protocol: WebSocketProtocol | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.open_args: tuple[Any, ...] = ()
        self.open_kwargs: dict[str, Any] = {}
        self._selected_subprotocol: str | None = None
        self._nodelay = False
        self._on_close_called = False
        self._open_failed = False
        super().__init__(application, request, **kwargs)

    # -- overridable -------------------------------------------------------------------------

    def open(self, *args: Any, **kwargs: Any) -> Awaitable[None] | None:
        """Called when the WebSocket is open, with the rule's path arguments; may be async.

        No message reaches ``on_message`` before it returns (or its awaitable completes).
        """

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Handle one message (str for text, bytes for binary); may be async.

        An awaitable it returns is awaited before the next message is delivered.
        """
        raise NotImplementedError

    def on_ping(self, data: bytes) -> None:
        """Called with a ping's payload (the pong is already sent)."""

    def on_pong(self, data: bytes) -> None:
        """Called with a pong's payload."""

    def on_close(self) -> None:
        """Called once when the WebSocket is closed (``close_code``/``close_reason`` set)."""

    def on_connection_close(self) -> None:
        """Called when the connection ends; calls ``on_close()`` (once), as in Tornado.

        Handlers written for Tornado override it to clean up: keep calling
        ``super().on_connection_close()`` so that ``on_close`` still runs.
        """
        self.ws_connection = None
        if not self._on_close_called:
            self._on_close_called = True
            self.on_close()

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """Pick one of the client's ``Sec-WebSocket-Protocol`` values, or None for none.

        Called at every handshake, with an empty list when the client offered none (as
        Tornado). Returning a value it did not offer is a ValueError (a 500: a bug of the
        handler).
        """
        return None

    def check_origin(self, origin: str) -> bool:
        """Whether to accept a handshake the browser says is cross-origin, from ``origin``.

        Browsers let any page open a WebSocket to any host, with its cookies, so every
        handshake is checked (Tornado 6.6's rule, whatever ``cross_origin_protection``
        says): ``Sec-Fetch-Site: same-origin`` (or ``none``) passes; without that header,
        no ``Origin`` (not a browser) or an ``Origin`` whose host and port equal ``Host``
        passes. Only the rest comes here; by default, ``check_trusted_origin`` decides
        (the ``trusted_origins`` setting). Runs after ``prepare()``, so it may use what
        ``prepare`` found (a token, a user). A refusal is a 403.
        """
        return self.check_trusted_origin(origin)

    def _origin_allowed(self) -> bool:
        headers = self.request.headers
        origin = headers.get("Origin")
        if origin is None:
            origin = headers.get("Sec-Websocket-Origin")
        site = headers.get("Sec-Fetch-Site")
        if site in ("same-origin", "none"):
            return True
        if site is None:
            if origin is None:
                return True  # not a browser: nothing a page could forge
            try:
                netloc = urlparse(origin).netloc
            except ValueError:  # "http://[::1": the client's text, so a refusal, never a 500
                netloc = None
            host = (headers.get("Host") or "").lower()
            return netloc is not None and netloc.lower() == host or self.check_origin(origin)
        if not origin:  # cross-site or same-site, and no origin to trust
            return False
        return self.check_origin(origin)

    def get_compression_options(self) -> dict[str, Any] | None:
        """None (the default): no compression. A dict (even empty): permessage-deflate.

        Keys: ``compression_level`` (0-9), ``mem_level`` (1-9) as Tornado, and
        ``server_no_context_takeover``, ``client_no_context_takeover`` (bool),
        ``server_max_window_bits``, ``client_max_window_bits`` (9-15); another key is a
        ValueError naming it.
        """
        return None

    # -- settings ----------------------------------------------------------------------------

    @property
    def ping_interval(self) -> float | None:
        """Seconds between pings (setting ``websocket_ping_interval``; None or 0: none)."""
        value: float | None = self.settings.get("websocket_ping_interval")
        return value

    @property
    def ping_timeout(self) -> float | None:
        """Seconds to wait for a pong before closing (``websocket_ping_timeout``).

        None: one ping interval; 0: never close for a missing pong. Never longer than the
        interval: a longer value is cut to it, with one warning naming both.
        """
        value: float | None = self.settings.get("websocket_ping_timeout")
        return value

    @property
    def max_message_size(self) -> int:
        """The largest message accepted (``websocket_max_message_size``, 10 MiB): 1009 above."""
        value = self.settings.get("websocket_max_message_size")
        return DEFAULT_MAX_MESSAGE_SIZE if value is None else int(value)

    # -- the handshake -----------------------------------------------------------------------

    def get(self, *args: Any, **kwargs: Any) -> Awaitable[None]:  # type: ignore[override]
        """The opening handshake; override it only to wrap it (``super().get(...)``).

        Returns an awaitable, as Tornado's coroutine does, so an override written
        ``async def get(...): ...; await super().get(*args, **kwargs)`` (authentication
        before the handshake) works; it completes once ``open()`` has run.
        """
        self.open_args = args
        self.open_kwargs = kwargs
        headers = self.request.headers
        if headers.get("Upgrade", "").lower() != "websocket":
            return self._refuse(400, 'Can "Upgrade" only to "WebSocket".')
        tokens = [t.lower() for t in split_header(headers.get_list("Connection"))]
        if "upgrade" not in tokens:
            return self._refuse(400, '"Connection" must be "Upgrade".')
        if not self._origin_allowed():
            return self._refuse(403, "Cross origin websockets not allowed")
        if headers.get("Sec-WebSocket-Version", "").strip() != "13":
            self.set_status(426, "Upgrade Required")
            self.set_header("Sec-WebSocket-Version", "13")
            return self.finish()
        key = headers.get("Sec-WebSocket-Key", "").strip()
        if not key_is_valid(key) or self.request.version != "HTTP/1.1":
            return self._refuse(400, "Missing/Invalid WebSocket headers")
        return self._accept(key)

    def _refuse(self, status: int, message: str) -> Awaitable[None]:
        self.set_status(status)
        done = self.finish(message)
        gen_log.debug("WebSocket handshake refused (%d): %s", status, message)
        return done

    def _accept(self, key: str) -> Awaitable[None]:
        headers = self.request.headers
        answer = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", accept_key(key)),
        ]
        offered = split_header(headers.get_list("Sec-WebSocket-Protocol"))
        chosen = self.select_subprotocol(offered)  # also with none offered, as Tornado
        # "" means none too (Tornado tests the value's truth): handlers written for it
        # return subprotocols[0] if subprotocols else "".
        if chosen:
            if chosen not in offered:
                raise ValueError(f"select_subprotocol returned {chosen!r}, not offered")
            self._selected_subprotocol = chosen
            answer.append(("Sec-WebSocket-Protocol", chosen))
        deflate = None
        options = self.get_compression_options()
        if options is not None:
            checked = check_options(options)
            ext = ", ".join(headers.get_list("Sec-WebSocket-Extensions"))
            agreed = accept_offer(ext, checked) if ext else None
            if agreed is not None:
                answer.append(("Sec-WebSocket-Extensions", agreed[0]))
                deflate = (agreed[1], agreed[2])
        for name, value in self._header_items():
            if name.lower() not in _BODY_HEADERS and name.lower() not in ("connection", "upgrade"):
                answer.append((name, value))
        protocol = WebSocketProtocol(
            is_client=False,
            # Bound once: a call less per message (Tornado looks it up each time; a handler
            # that replaces on_message after the handshake is not supported).
            on_message=self.on_message,
            on_close=self._ws_closed,
            on_ping=self._ws_ping,
            on_pong=self._ws_pong,
            max_message_size=self.max_message_size,
            deflate=deflate,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
        )
        conn = self.request.connection
        if conn is None:  # pragma: no cover - a request always has its connection here
            raise HTTPError(500)
        self.set_status(101)
        self.ws_connection = self._ws_protocol = protocol
        conn.upgrade(answer, protocol)
        self._headers_written = True
        self._finished = True
        if self._nodelay:
            self.set_nodelay(True)
        self.application.stash.setdefault(OPEN_SOCKETS, set()).add(protocol)
        self._after_finish()  # access log (101) and on_finish, as for any handler
        try:
            result = self.open(*self.open_args, **self.open_kwargs)
        except Exception:
            app_log.error("Uncaught exception in %s.open", type(self).__name__, exc_info=True)
            self._open_failed = True
            protocol.close(1011)
            return DONE
        if result is not None and inspect.isawaitable(result):
            return self._open_async(result, protocol)
        protocol.start()
        return DONE

    async def _open_async(self, pending: Awaitable[None], protocol: WebSocketProtocol) -> None:
        try:
            await pending
        except Exception:
            app_log.error("Uncaught exception in %s.open", type(self).__name__, exc_info=True)
            self._open_failed = True
            protocol.close(1011)
            return
        protocol.start()

    # -- callbacks from the protocol ---------------------------------------------------------

    def _ws_ping(self, data: bytes) -> None:
        self.on_ping(data)

    def _ws_pong(self, data: bytes) -> None:
        self.on_pong(data)

    def _ws_closed(self) -> None:
        protocol = self._ws_protocol
        if protocol is not None:
            self.application.stash.get(OPEN_SOCKETS, set()).discard(protocol)
            self.close_code = protocol.close_code
            self.close_reason = protocol.close_reason
        if self._open_failed:
            # As Tornado: on_close undoes what open() set up, so a connection whose open()
            # raised ends without on_connection_close/on_close.
            self.ws_connection = None
            return
        self.on_connection_close()

    # -- the application's calls -------------------------------------------------------------

    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> Awaitable[None]:
        """Send a message: str as text, a dict as JSON text, bytes as binary when
        ``binary`` is true (bytes with ``binary`` false are sent as text: they must be
        UTF-8, else ``UnicodeDecodeError``, rather than an invalid frame as in Tornado).

        Returns:
            An awaitable that completes once the data is in the kernel's hands or the write
            buffer is under its low-water mark (await it for back-pressure).

        Raises:
            WebSocketClosedError: the WebSocket is closed or closing.
        """
        protocol = self.ws_connection
        if protocol is None:
            raise WebSocketClosedError("the WebSocket is closed")
        if isinstance(message, dict):
            message = json_encode(message)
        elif not binary and not isinstance(message, str):
            message = bytes(message).decode("utf-8")
        return protocol.send_message(message, binary)  # raises when closed or closing

    def ping(self, data: str | bytes = b"") -> None:
        """Send a ping (at most 125 bytes of payload).

        Raises:
            WebSocketClosedError: the WebSocket is closed or closing.
        """
        protocol = self.ws_connection
        if protocol is None or protocol.closing:
            raise WebSocketClosedError("the WebSocket is closed")
        protocol.send_ping(data.encode("utf-8") if isinstance(data, str) else data)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the close handshake (``code`` 1000 when only a ``reason`` is given).

        The connection closes when the client answers, or after 5 seconds; from now on
        ``ws_connection`` is None, as in Tornado.
        """
        protocol = self.ws_connection
        if protocol is not None:
            protocol.close(code, reason)
            self.ws_connection = None

    # After the upgrade the HTTP response is gone: changing its status, headers or cookies,
    # or flushing it, would be silently lost, so it raises as in Tornado (write, redirect
    # and finish already raise: the response is finished).
    def _not_after_upgrade(self) -> None:
        if self._ws_protocol is not None:
            raise RuntimeError("Method not supported for Web Sockets")

    def set_status(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
        self._not_after_upgrade()
        super().set_status(*args, **kwargs)

    def set_header(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
        self._not_after_upgrade()
        super().set_header(*args, **kwargs)

    def set_cookie(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
        self._not_after_upgrade()
        super().set_cookie(*args, **kwargs)

    def flush(self, *args: Any, **kwargs: Any) -> Awaitable[None]:  # noqa: D102
        self._not_after_upgrade()
        return super().flush(*args, **kwargs)

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol ``select_subprotocol`` chose (None: none)."""
        return self._selected_subprotocol

    def set_nodelay(self, value: bool) -> None:
        """Turn Nagle's algorithm off (``True``) for small messages sent at once.

        Before the handshake it applies once the connection is open.
        """
        self._nodelay = value
        protocol = self.ws_connection
        transport = protocol.transport if protocol is not None else None
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if value else 0)

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        """The connection's protocol object (None before the handshake), as Tornado's."""
        return self.ws_connection
