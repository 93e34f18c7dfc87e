"""``AsyncHTTPClient`` (one shared client per IOLoop) and the blocking ``HTTPClient``.

As in Tornado, ``AsyncHTTPClient()`` gives the client of the current IOLoop, creating it
the first time: every part of a program shares its connection pools and its
``max_clients`` slots. ``force_instance=True`` makes a client of its own (close it).

The shared client needs no ``close()``: its pools close when its loop shuts down. That
rests on asyncio's async-generator hooks: a client's first fetch starts a small async
generator (``_guard``), which the loop closes at shutdown (``asyncio.run``,
``IOLoop.close``: both call ``shutdown_asyncgens``), and its ``finally`` closes the pools
while the loop can still run them. ``close()`` closes them at once.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Any, ClassVar, TypeVar

from squall.http import HTTPHeaders
from squall.httpclient._errors import CurlClientUnavailableError, UnsupportedOptionError
from squall.httpclient._fetch import Fetcher
from squall.httpclient._request import DEFAULTS, FIELDS, HTTPRequest, RequestSettings
from squall.httpclient._response import HTTPResponse
from squall.loop import IOLoop

__all__ = ["AsyncHTTPClient", "HTTPClient"]

# Tornado's two clients, by the names configure() is given. The simple one is Tornado's
# default, whose part squall's client plays: naming it keeps squall's client.
_TORNADO_SIMPLE = "tornado.simple_httpclient.SimpleAsyncHTTPClient"
_TORNADO_CURL = "tornado.curl_httpclient.CurlAsyncHTTPClient"
_OPTIONS = frozenset({"max_clients", "defaults", "max_body_size", "max_buffer_size"})
# Tornado's default max_buffer_size, which max_body_size defaults to: 100 MiB.
_DEFAULT_MAX_BUFFER_SIZE = 100 * 1024 * 1024
# Closing tasks started by close() from inside the loop: kept until done.
_closing: set[asyncio.Future[None]] = set()
_T = TypeVar("_T")


def _takes_own_options(impl: type[AsyncHTTPClient] | None) -> bool:
    """Whether ``impl`` overrides ``initialize`` (then options unknown to squall are its)."""
    return impl is not None and impl.initialize is not AsyncHTTPClient.initialize


def _check_options(options: dict[str, Any], *, own_options: bool = False) -> None:
    for name in options:
        if name not in _OPTIONS and not own_options:
            raise UnsupportedOptionError(
                name,
                "not an option of squall's AsyncHTTPClient (it takes max_clients, defaults, "
                "max_body_size and max_buffer_size; hostname_mapping, resolver and "
                "max_header_size of Tornado's simple_httpclient are not provided)",
            )
    for name in ("max_clients", "max_body_size", "max_buffer_size"):
        value = options.get(name, 1)
        if name == "max_body_size" and value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UnsupportedOptionError(name, f"must be an int >= 1, got {value!r}")
    defaults = options.get("defaults")
    if defaults is not None:
        unknown = sorted(set(defaults) - set(FIELDS))
        if unknown:
            raise UnsupportedOptionError(
                "defaults", f"{unknown[0]!r} is not a field of HTTPRequest"
            )


class AsyncHTTPClient:
    """A non-blocking HTTP client on httpx (Tornado's ``AsyncHTTPClient``)::

        async def f():
            client = AsyncHTTPClient()
            response = await client.fetch("http://127.0.0.1:8888/")
            print(response.body)

    ``AsyncHTTPClient()`` returns the shared client of the current IOLoop;
    ``AsyncHTTPClient(force_instance=True, max_clients=..., defaults=...)`` a new one.

    Args:
        force_instance: make a new client instead of the loop's shared one.
        max_clients: how many fetches run at once (default 10); the others wait, for at
            most the smaller of their connect and request timeouts.
        max_body_size: the largest response body accepted, with or without a
            ``streaming_callback``, counted after decompression (default:
            ``max_buffer_size``); a larger one fails the fetch with
            ``HTTPStreamClosedError``.
        max_buffer_size: 100 MiB by default; only the default of ``max_body_size`` (in
            Tornado it also sizes a socket read buffer, which httpx sizes itself).
        defaults: values for the ``HTTPRequest`` fields a request leaves at None.

    Raises:
        UnsupportedOptionError: an option squall's client does not take.
    """

    _impl: ClassVar[type[AsyncHTTPClient] | None] = None
    _impl_options: ClassVar[dict[str, Any]] = {}
    _caches: ClassVar[dict[type, weakref.WeakKeyDictionary[IOLoop, AsyncHTTPClient]]] = {}

    io_loop: IOLoop
    defaults: dict[str, Any]
    _cache: weakref.WeakKeyDictionary[IOLoop, AsyncHTTPClient] | None
    _closed: bool
    _guard: AsyncGenerator[None, None] | None
    _inflight: set[asyncio.Task[Any]]

    def __new__(cls, force_instance: bool = False, **kwargs: Any) -> AsyncHTTPClient:
        io_loop = IOLoop.current()
        assert io_loop is not None
        cache = None if force_instance else cls._caches.setdefault(cls, weakref.WeakKeyDictionary())
        if cache is not None and io_loop in cache:
            return cache[io_loop]
        impl = (AsyncHTTPClient._impl or cls) if cls is AsyncHTTPClient else cls
        options = {**AsyncHTTPClient._impl_options, **kwargs}
        _check_options(options, own_options=_takes_own_options(impl))
        instance: AsyncHTTPClient = object.__new__(impl)
        instance.io_loop = io_loop
        instance._cache = cache
        instance._closed = False
        instance._guard = None
        instance._inflight = set()
        instance.initialize(**options)
        if cache is not None:
            cache[io_loop] = instance
        return instance

    def __init__(self, force_instance: bool = False, **kwargs: Any) -> None:
        """Everything is set up by ``__new__`` (which may return the shared client)."""

    def initialize(
        self,
        max_clients: int = 10,
        defaults: dict[str, Any] | None = None,
        max_buffer_size: int = _DEFAULT_MAX_BUFFER_SIZE,
        max_body_size: int | None = None,
    ) -> None:
        """Set a new client up with its options (Tornado's ``Configurable.initialize``).

        A subclass taking options of its own overrides it, keeps those, and passes the
        others on with ``super().initialize(...)``; ``io_loop`` is already set.
        """
        self.max_clients = max_clients
        self.max_buffer_size = max_buffer_size
        # As in Tornado, a streamed body is held to max_buffer_size unless told otherwise.
        self.max_body_size = max_buffer_size if max_body_size is None else max_body_size
        self.defaults = {**DEFAULTS, **(defaults or {})}
        self._fetcher = Fetcher(max_clients, self.max_body_size)

    # -- configuration ---------------------------------------------------------------

    @classmethod
    def configure(cls, impl: str | type[AsyncHTTPClient] | None, **kwargs: Any) -> None:
        """Set the class and the options of the clients ``AsyncHTTPClient()`` makes next.

        Args:
            impl: None (squall's client), a subclass of ``AsyncHTTPClient`` or its dotted
                name. Tornado's default, ``"tornado.simple_httpclient.SimpleAsyncHTTPClient"``,
                means squall's client too (its options are checked as for None); its curl
                client is refused: squall has one implementation, on httpx.
            **kwargs: ``max_clients``, ``defaults``, ``max_body_size``, ``max_buffer_size``.

        Raises:
            CurlClientUnavailableError: ``impl`` names Tornado's curl client (an
                ``ImportError`` too, as Tornado's without pycurl).
            UnsupportedOptionError: an implementation or an option squall cannot honour.
        """
        if isinstance(impl, str):
            if impl == _TORNADO_SIMPLE:
                impl = None
            elif impl == _TORNADO_CURL:
                raise CurlClientUnavailableError(
                    "impl",
                    f"{impl} is Tornado's curl client; squall's AsyncHTTPClient runs on "
                    "httpx (configure(None, ...) keeps it)",
                )
        if isinstance(impl, str):
            module, _, name = impl.rpartition(".")
            try:
                impl = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError, ValueError) as exc:
                raise UnsupportedOptionError("impl", f"cannot import {impl!r}: {exc}") from exc
        if impl is not None and not (isinstance(impl, type) and issubclass(impl, AsyncHTTPClient)):
            raise UnsupportedOptionError("impl", f"{impl!r} is not a subclass of AsyncHTTPClient")
        _check_options(kwargs, own_options=_takes_own_options(impl))
        AsyncHTTPClient._impl = impl
        AsyncHTTPClient._impl_options = dict(kwargs)

    @classmethod
    def configured_class(cls) -> type[AsyncHTTPClient]:
        """The class ``AsyncHTTPClient()`` builds now (what ``configure`` set, or this one)."""
        return AsyncHTTPClient._impl or AsyncHTTPClient

    @classmethod
    def configurable_base(cls) -> type[AsyncHTTPClient]:
        """``AsyncHTTPClient``: the class whose ``configure`` applies (Tornado's name)."""
        return AsyncHTTPClient

    @classmethod
    def configurable_default(cls) -> type[AsyncHTTPClient]:
        """``AsyncHTTPClient``: squall's one implementation is the default one."""
        return AsyncHTTPClient

    # -- fetching --------------------------------------------------------------------

    def fetch(
        self, request: str | HTTPRequest, raise_error: bool = True, **kwargs: Any
    ) -> asyncio.Future[HTTPResponse]:
        """Fetch a URL or an ``HTTPRequest``; a future (await it) of its ``HTTPResponse``.

        Args:
            request: a URL (then ``kwargs`` are ``HTTPRequest`` fields) or an ``HTTPRequest``.
            raise_error: True (default): a non-2xx answer raises ``HTTPClientError``.
                False: it is returned (its ``error`` set). Either way a fetch that got no
                answer raises: ``HTTPTimeoutError``, ``HTTPStreamClosedError``, the
                ``OSError`` of a failed connection, ``ValueError`` for a bad request.

        Raises:
            RuntimeError: the client is closed.
            ValueError: ``kwargs`` given with an ``HTTPRequest``.
            UnsupportedOptionError: a field squall cannot honour.
        """
        if self._closed:
            raise RuntimeError("fetch() called on closed AsyncHTTPClient")
        if not isinstance(request, HTTPRequest):
            request = HTTPRequest(url=request, **kwargs)
        elif kwargs:
            raise ValueError("kwargs can't be used if request is an HTTPRequest object")
        if type(self).fetch_impl is not AsyncHTTPClient.fetch_impl:
            return self._fetch_through_impl(request, raise_error)
        return self._track(self.io_loop.asyncio_loop.create_task(self._fetch(request, raise_error)))

    def _track(self, task: asyncio.Task[_T]) -> asyncio.Task[_T]:
        """Remember a started fetch until it ends: ``close()`` lets it finish."""
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return task

    async def _fetch(self, request: HTTPRequest, raise_error: bool) -> HTTPResponse:
        response = await self._respond(request)
        error = response.error
        if error is not None and (raise_error or not response._error_is_response_code):
            raise error
        return response

    async def _respond(self, request: HTTPRequest) -> HTTPResponse:
        if self._guard is None:
            self._guard = self._guard_body()
            await self._guard.__anext__()
        return await self._fetcher.fetch(request, self.defaults)

    def _fetch_through_impl(
        self, request: HTTPRequest, raise_error: bool
    ) -> asyncio.Future[HTTPResponse]:
        """Tornado's path for a subclass's ``fetch_impl``: it calls back with the response."""
        request.headers = HTTPHeaders(request.headers)
        future: asyncio.Future[HTTPResponse] = self.io_loop.asyncio_loop.create_future()

        def handle_response(response: HTTPResponse) -> None:
            if future.done():  # cancelled by the caller
                return
            error = response.error
            if error is not None and (raise_error or not response._error_is_response_code):
                future.set_exception(error)
            else:
                future.set_result(response)

        self.fetch_impl(RequestSettings(request, self.defaults), handle_response)  # type: ignore[arg-type]
        return future

    def fetch_impl(self, request: HTTPRequest, callback: Callable[[HTTPResponse], None]) -> None:
        """Fetch ``request`` and call ``callback`` with its ``HTTPResponse`` (failures in
        its ``error``): Tornado's hook for clients of another kind.

        ``fetch()`` calls a subclass's override with the request (its fields merged with
        the client's ``defaults``) and turns the response into its future's result, as
        Tornado does, so a stub client for tests (``configure(StubClient)``) answers
        every fetch. An override may call this one to fetch over the network.
        """
        real = request.request if isinstance(request, RequestSettings) else request

        def done(task: asyncio.Future[HTTPResponse]) -> None:
            if task.cancelled():
                return
            exc = task.exception()
            callback(HTTPResponse(real, 599, error=exc) if exc is not None else task.result())

        task = self._track(self.io_loop.asyncio_loop.create_task(self._respond(real)))
        task.add_done_callback(done)

    # -- closing ---------------------------------------------------------------------

    async def _guard_body(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            # The loop is shutting down (or close() was called): nothing will fetch again.
            self._forget()
            await self._fetcher.pools.aclose()

    def _forget(self) -> None:
        self._closed = True
        # Only this client: a new shared one may already have taken its place.
        if self._cache is not None and self._cache.get(self.io_loop) is self:
            del self._cache[self.io_loop]

    async def _aclose(self, finish_fetches: bool = True) -> None:
        self._forget()
        # As Tornado's client, close() refuses new fetches but lets the started ones end:
        # a handler closing the shared client (AsyncHTTPClient() ... finally: close())
        # must not cut the fetches other handlers are running on it.
        pending = [task for task in self._inflight if not task.done()]
        if finish_fetches and pending:
            await asyncio.wait(pending)
        if self._guard is not None:
            await self._guard.aclose()
        await self._fetcher.pools.aclose()

    def close(self) -> None:
        """Close the client and its connections; it cannot fetch again.

        Not needed for the shared client (its loop's shutdown closes it); needed for a
        ``force_instance=True`` client and before closing a loop by hand. Fetches already
        started while the loop runs end normally (the connections close after them), as
        in Tornado; only new ones are refused.
        """
        if self._closed:
            return
        self._forget()
        loop = self.io_loop.asyncio_loop
        if loop.is_closed():
            return
        if not loop.is_running():
            # Nothing runs the started fetches now: waiting for them could take their whole
            # request_timeout (a test's tearDown), so they end with the connections.
            loop.run_until_complete(self._aclose(finish_fetches=False))
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        future: asyncio.Future[None]
        if running is loop:
            future = loop.create_task(self._aclose())
        else:
            future = asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(self._aclose(), loop), loop=loop
            )
        _closing.add(future)
        future.add_done_callback(_closing.discard)


class HTTPClient:
    """A blocking HTTP client (Tornado's ``HTTPClient``) for scripts and sync code::

        client = HTTPClient()
        try:
            print(client.fetch("http://127.0.0.1:8888/").body)
        except HTTPClientError as e:
            print("Error:", e)       # a non-2xx answer: e.response
        finally:
            client.close()

    It runs a private IOLoop (never made the thread's current one) for each call, so it
    cannot be used while an event loop runs in the same thread: use ``AsyncHTTPClient``.

    Args:
        async_client_class: the ``AsyncHTTPClient`` class to use.
        **kwargs: passed to it (``max_clients``, ``defaults``, ``force_instance``).
    """

    def __init__(
        self, async_client_class: type[AsyncHTTPClient] | None = None, **kwargs: Any
    ) -> None:
        self._closed = True
        # Refused before the private loop exists: closing a loop it could not run would
        # add a second traceback to this one clear error.
        _refuse_in_running_loop()
        self._io_loop = IOLoop(make_current=False)
        cls = async_client_class or AsyncHTTPClient

        async def make_client() -> AsyncHTTPClient:
            return cls(**kwargs)

        try:
            self._async_client = self._run(make_client)
        except BaseException:
            self._io_loop.close()
            raise
        self._closed = False

    def _run(self, func: Callable[[], Any]) -> Any:
        _refuse_in_running_loop()
        previous = IOLoop.current(instance=False)
        try:
            return self._io_loop.run_sync(func)
        finally:
            # run_sync leaves its loop current in a thread that had none: not this one.
            if previous is None and IOLoop.current(instance=False) is self._io_loop:
                IOLoop.clear_current()

    def fetch(self, request: str | HTTPRequest, **kwargs: Any) -> HTTPResponse:
        """Fetch and wait: ``AsyncHTTPClient.fetch``'s arguments, errors and rules."""
        if self._closed:
            raise RuntimeError("fetch() called on closed HTTPClient")
        response: HTTPResponse = self._run(
            functools.partial(self._async_client.fetch, request, **kwargs)
        )
        return response

    def close(self) -> None:
        """Close the connections and the private loop (closing twice does nothing)."""
        if self._closed:
            return
        self._closed = True
        self._async_client.close()
        self._io_loop.close()

    def __del__(self) -> None:
        # An HTTPClient dropped without close(): free its loop and sockets.
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def _refuse_in_running_loop() -> None:
    """Raise ``RuntimeError`` when an event loop runs in this thread (HTTPClient blocks)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        "HTTPClient cannot run while an event loop is running in this thread: "
        "use AsyncHTTPClient there"
    )
