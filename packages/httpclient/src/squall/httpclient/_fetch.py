"""One fetch on httpx, with the semantics of Tornado's own client.

Theory of operation: :func:`fetch` takes a ``max_clients`` slot, sends one request on the
pool its settings select, reads the head and then the body, and gives back an
``HTTPResponse``; a redirect it must follow becomes a new request (Tornado's rules: 303,
and 301/302 after POST, turn into a GET without body; a cross-origin hop drops
``Authorization`` and ``Cookie``) with ``max_redirects`` one lower, in a new slot.
httpx is only the wire: squall follows redirects itself (to count them as Tornado does and
skip the callbacks for the hops), decompresses gzip itself (so that exactly what was
asked for is undone, and ``Content-Encoding`` becomes ``X-Consumed-Content-Encoding``), and
keeps no cookies.

Failures become a response with code 599 and ``error`` set: an ``HTTPTimeoutError``, an
``HTTPStreamClosedError``, or the ``OSError`` under httpx's exception (connection
refused, a certificate that does not verify), as Tornado reports them.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import inspect
import os
import time
import unicodedata
import urllib.parse
import zlib
from collections import deque
from collections.abc import AsyncIterator, Iterator
from io import BytesIO
from typing import Any

import httpx

from squall.http import HTTPHeaders
from squall.httpclient._errors import (
    HTTPClientError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
)
from squall.httpclient._pools import RAW_HEADERS, Pools
from squall.httpclient._request import BodyProducer, HTTPRequest, RequestSettings, check_supported
from squall.httpclient._response import HTTPResponse
from squall.httpclient._version import __version__

__all__ = ["Fetcher"]

_SUPPORTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = f"squall-httpclient/{__version__}"


def _no_zero(*values: float | None) -> float | None:
    """The smallest of the limits that are set (0 and None mean no limit)."""
    set_ = [v for v in values if v]
    return min(set_) if set_ else None


def _os_error_under(exc: BaseException) -> OSError | None:
    """The most precise ``OSError`` in ``exc``'s chain (anyio wraps the refused connection
    in a generic ``OSError("All connection attempts failed")``)."""
    found: list[OSError] = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError):
            found.append(cur)
        if isinstance(cur, BaseExceptionGroup) and cur.exceptions:
            cur = cur.exceptions[0]
        else:
            cur = cur.__cause__ or cur.__context__
    precise = [e for e in found if type(e) is not OSError or e.errno is not None]
    if precise:
        return precise[-1]
    return found[-1] if found else None


def _plain(error: OSError) -> OSError:
    """``error`` with the socket's own message (``[Errno 111] Connection refused``).

    asyncio words a failed connect as ``Connect call failed ('127.0.0.1', 9)``; Tornado
    raises the socket's error, whose text programs log or show. Same class and errno; the
    original stays as the cause. Only built-in classes are rebuilt (their constructor is
    known).
    """
    if error.errno is None or type(error).__module__ != "builtins":
        return error
    plain = type(error)(error.errno, os.strerror(error.errno))
    plain.__cause__ = error
    return plain


def _failure(exc: BaseException) -> BaseException:
    """What a fetch that ended with ``exc`` reports (and raises), as Tornado would."""
    if isinstance(exc, httpx.ConnectTimeout):
        return HTTPTimeoutError("Timeout while connecting")
    if isinstance(exc, httpx.TimeoutException):
        return HTTPTimeoutError("Timeout during request")
    if isinstance(exc, httpx.ProxyError):
        return HTTPClientError(599, f"proxy error: {exc}")
    if isinstance(exc, httpx.TransportError):
        os_error = _os_error_under(exc)
        if os_error is not None:
            return _plain(os_error)
        return HTTPStreamClosedError("Stream closed")
    return exc


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _wire_headers(headers: HTTPHeaders) -> list[tuple[bytes, bytes]]:
    """The request's header lines as bytes, refusing a CR or LF anywhere in them.

    A value given as bytes is taken as UTF-8 text (Tornado accepts both kinds); each line
    goes out as latin-1. A CR or LF would end the line early and let a value smuggle in
    headers of its own, so it is refused before anything is sent.
    """
    lines: list[tuple[bytes, bytes]] = []
    for name, value in headers.get_all():
        text: str = value.decode("utf-8") if isinstance(value, bytes) else value
        if "\r" in name or "\n" in name or "\r" in text or "\n" in text:
            raise ValueError(f"Illegal characters (CR or LF) in header: {name!r}: {text!r}")
        lines.append((name.encode("latin-1"), text.encode("latin-1")))
    return lines


# The largest piece of a decompressed body handed on at once: a small gzip body can expand
# a thousandfold, and a streaming_callback is there so that the whole never sits in memory.
_GUNZIP_PIECE = 64 * 1024


class _Gunzip:
    """Undoes ``Content-Encoding: gzip`` in pieces of at most ``_GUNZIP_PIECE`` bytes.

    A body may hold several gzip members one after the other (RFC 1952); each is undone in
    turn. Bytes that are no gzip member, and a body that ends inside one, fail the fetch
    with ``HTTPStreamClosedError``, as a body that breaks HTTP does.
    """

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._in_member = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decompressed pieces of the next bytes of the body."""
        while data:
            self._in_member = True
            try:
                piece = self._inflate.decompress(data, _GUNZIP_PIECE)
            except zlib.error as exc:
                raise HTTPStreamClosedError(f"Invalid gzip data: {exc}") from None
            if piece:
                yield piece
            if self._inflate.eof:
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._in_member = False
            else:
                data = self._inflate.unconsumed_tail

    def finish(self) -> None:
        """Check that the body did not stop inside a member."""
        if self._in_member and not self._inflate.eof:
            raise HTTPStreamClosedError("Invalid gzip data: the body ends inside a gzip member")


class _Producer:
    """Runs a ``body_producer`` and hands its chunks to httpx as an async iterator."""

    def __init__(self, producer: BodyProducer) -> None:
        self._producer = producer
        self._chunks: deque[tuple[bytes, asyncio.Future[None]]] = deque()
        self._wakeup = asyncio.Event()

    def _write(self, chunk: bytes | str) -> asyncio.Future[None]:
        data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._chunks.append((data, sent))
        self._wakeup.set()
        return sent

    async def _run(self) -> None:
        try:
            result = self._producer(self._write)
            if inspect.isawaitable(result):
                await result
        finally:
            self._wakeup.set()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        task = asyncio.ensure_future(self._run())
        try:
            while True:
                while self._chunks:
                    data, sent = self._chunks.popleft()
                    if data:
                        yield data
                    if not sent.done():
                        sent.set_result(None)
                if task.done():
                    if not self._chunks:
                        task.result()
                        return
                    continue
                self._wakeup.clear()
                await self._wakeup.wait()
        finally:
            if not task.done():
                task.cancel()
            for _, sent in self._chunks:
                sent.cancel()


class Fetcher:
    """Runs the fetches of one client: its slots (``max_clients``) and its pools."""

    def __init__(self, max_clients: int, max_body_size: int) -> None:
        self.pools = Pools(max_clients)
        self._slots = asyncio.Semaphore(max_clients)
        self._max_body_size = max_body_size

    async def fetch(self, request: HTTPRequest, defaults: dict[str, Any]) -> HTTPResponse:
        """Fetch ``request`` (following redirects); failures are in the response's ``error``."""
        # The hops work on a copy: the caller's request and headers are left as they were.
        work = copy.copy(request)
        work.headers = HTTPHeaders(request.headers)
        while True:
            outcome = await self._hop(RequestSettings(work, defaults))
            if isinstance(outcome, HTTPResponse):
                outcome.request = request
                return outcome
            work = outcome

    async def _hop(self, s: RequestSettings) -> HTTPResponse | HTTPRequest:
        """One request: its response, or the request of the redirect to follow."""
        loop = asyncio.get_running_loop()
        queued = loop.time()
        try:
            check_supported(lambda name: getattr(s, name), merged=True)
            url = urllib.parse.urlsplit(s.url)
            if url.scheme not in ("http", "https"):
                raise ValueError(f"Unsupported url scheme: {s.url}")
            if s.method not in _SUPPORTED_METHODS and not s.allow_nonstandard_methods:
                raise KeyError(f"unknown method {s.method}")
            if not s.allow_nonstandard_methods:
                # Tornado's sanity check: these methods nearly always carry a body, the
                # others nearly never do.
                expected = s.method in ("POST", "PATCH", "PUT")
                present = s.body is not None or s.body_producer is not None
                if expected != present:
                    raise ValueError(
                        f"Body must {'not ' if expected else ''}be None for method {s.method} "
                        "(unless allow_nonstandard_methods is true)"
                    )
        except Exception as exc:
            return HTTPResponse(s, 599, error=exc, request_time=0.0)
        if self._slots.locked():
            wait = _no_zero(s.connect_timeout, s.request_timeout)
            try:
                await asyncio.wait_for(self._slots.acquire(), wait)
            except TimeoutError:
                error = HTTPTimeoutError("Timeout in request queue")
                elapsed = loop.time() - queued
                return HTTPResponse(
                    s, 599, error=error, request_time=elapsed, time_info={"queue": elapsed}
                )
        else:
            await self._slots.acquire()
        try:
            return await self._send(s, url, loop.time() - queued)
        finally:
            self._slots.release()

    async def _send(
        self, s: RequestSettings, url: urllib.parse.SplitResult, queue: float
    ) -> HTTPResponse | HTTPRequest:
        loop = asyncio.get_running_loop()
        start, start_wall = loop.time(), time.time()
        headers: HTTPHeaders = s.request.headers
        try:
            request, auth = self._build(s, url, headers)
            pool = self.pools.get(s, https=url.scheme == "https")
            async with asyncio.timeout(s.request_timeout or None):
                answer = await pool.send(request, auth=auth, stream=True, follow_redirects=False)
                try:
                    return await self._receive(s, answer, start, start_wall, queue)
                finally:
                    await answer.aclose()
        except TimeoutError:
            error: BaseException = HTTPTimeoutError("Timeout during request")
        except Exception as exc:
            error = _failure(exc)
        return HTTPResponse(
            s,
            599,
            error=error,
            request_time=loop.time() - start,
            start_time=start_wall,
            time_info={"queue": queue},
            effective_url=s.url,
        )

    def _build(
        self, s: RequestSettings, url: urllib.parse.SplitResult, headers: HTTPHeaders
    ) -> tuple[httpx.Request, httpx.Auth | None]:
        username, password = s.auth_username, s.auth_password
        if url.username is not None:
            username, password = url.username, url.password
        target = url
        if "@" in url.netloc:
            target = url._replace(netloc=url.netloc.rpartition("@")[2])
        auth: httpx.Auth | None = None
        if username is not None:
            if s.auth_mode == "digest":
                auth = httpx.DigestAuth(username, password or "")
            else:
                # RFC 7617: the credentials are UTF-8 of their NFC form, so a name typed
                # in decomposed form (macOS file names, some keyboards) still matches.
                token = f"{_nfc(username)}:{_nfc(password or '')}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        if s.user_agent:
            headers["User-Agent"] = s.user_agent
        elif headers.get("User-Agent") is None:
            headers["User-Agent"] = _USER_AGENT
        content: bytes | _Producer | None = None
        if s.body is not None:
            content = s.body
            headers["Content-Length"] = str(len(s.body))
        elif s.body_producer is not None:
            content = _Producer(s.body_producer)
        if s.method == "POST" and "Content-Type" not in headers:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if s.decompress_response:
            headers["Accept-Encoding"] = "gzip"
        timeout = httpx.Timeout(s.connect_timeout or None, read=None, write=None, pool=None)
        request = httpx.Request(
            s.method,
            urllib.parse.urlunsplit(target),
            headers=_wire_headers(headers),
            content=content,
            extensions={"timeout": timeout.as_dict()},
        )
        return request, auth

    async def _receive(
        self,
        s: RequestSettings,
        answer: httpx.Response,
        start: float,
        start_wall: float,
        queue: float,
    ) -> HTTPResponse | HTTPRequest:
        loop = asyncio.get_running_loop()
        first_byte = loop.time() - start
        headers = HTTPHeaders()
        for raw_name, raw_value in answer.extensions.get(RAW_HEADERS, answer.headers.raw):
            headers.add(raw_name.decode("latin-1"), raw_value.decode("latin-1"))
        if "Transfer-Encoding" in headers and "Content-Length" in headers:
            # RFC 9112 section 6.3: the framing is ambiguous (a sign of response smuggling
            # through a proxy), so the answer is refused rather than read one of two ways.
            raise HTTPStreamClosedError("Response with both Transfer-Encoding and Content-Length")
        code = answer.status_code
        location = headers.get("Location")
        if s.follow_redirects and code in _REDIRECTS and s.max_redirects > 0 and location:
            # The body of a hop is dropped unread (closing the answer closes its connection
            # only when some of it is left).
            return _follow(s, code, location)
        gunzip = None
        if s.decompress_response and headers.get("Content-Encoding", "").strip() == "gzip":
            gunzip = _Gunzip()
            headers.add("X-Consumed-Content-Encoding", headers["Content-Encoding"])
            del headers["Content-Encoding"]
        reason = answer.reason_phrase
        if s.header_callback is not None:
            s.header_callback(f"{answer.http_version} {code} {reason}\r\n")
            for name, value in headers.get_all():
                s.header_callback(f"{name}: {value}\r\n")
            s.header_callback("\r\n")
        buffer = BytesIO()
        stream = s.streaming_callback
        # The body's limit, streamed or not, counted after decompression; past it the
        # connection is dropped (Tornado's rule, so a gzip bomb cannot fill the memory).
        limit = self._max_body_size
        too_large = f"Response body larger than max_body_size ({limit} bytes)"
        declared = headers.get("Content-Length", "")
        has_body = s.method != "HEAD" and code >= 200 and code not in (204, 304)
        if has_body and declared.isdigit() and int(declared) > limit:
            raise HTTPStreamClosedError(too_large)
        received = 0

        async def deliver(data: bytes) -> None:
            nonlocal received
            if not data:
                return
            received += len(data)
            if received > limit:
                raise HTTPStreamClosedError(too_large)
            if stream is None:
                buffer.write(data)
                return
            result = stream(data)
            if inspect.isawaitable(result):
                await result

        async for raw in answer.aiter_raw():
            if gunzip is None:
                await deliver(raw)
                continue
            for piece in gunzip.feed(raw):
                await deliver(piece)
        if gunzip is not None:
            gunzip.finish()
        # Tornado hands the body over as a BytesIO at position 0: suites read it with
        # response.buffer.read().
        buffer.seek(0)
        elapsed = loop.time() - start
        response = HTTPResponse(
            s,
            code,
            reason=reason or None,
            headers=headers,
            buffer=buffer,
            effective_url=s.url,
            request_time=elapsed,
            start_time=start_wall,
            # Named as Tornado's curl client names them, since code reading time_info
            # was written for it (Thumbor divides the body's size by time_info["total"]).
            time_info={"queue": queue, "starttransfer": first_byte, "total": elapsed},
        )
        return response


def _follow(s: RequestSettings, code: int, location: str) -> HTTPRequest:
    """The request of the next hop (Tornado's rules)."""
    new = copy.copy(s.request)
    new.url = urllib.parse.urljoin(s.url, location)
    new.headers = s.request.headers.copy()
    old_url, new_url = urllib.parse.urlsplit(s.url), urllib.parse.urlsplit(new.url)
    if (old_url.scheme, old_url.netloc) != (new_url.scheme, new_url.netloc):
        # Another origin: credentials are not sent there (libcurl's rule, as Tornado).
        new.auth_username = None
        new.auth_password = None
        if "@" in new_url.netloc:
            new.url = urllib.parse.urlunsplit(
                new_url._replace(netloc=new_url.netloc.rpartition("@")[2])
            )
        for name in ("Authorization", "Cookie"):
            if name in new.headers:
                del new.headers[name]
    new.max_redirects = s.max_redirects - 1
    if "Host" in new.headers:
        del new.headers["Host"]
    if (code == 303 and s.method != "HEAD") or (code in (301, 302) and s.method == "POST"):
        new.method = "GET"
        new.body = None
        new.body_producer = None
        for name in ("Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"):
            if name in new.headers:
                del new.headers[name]
    return new
