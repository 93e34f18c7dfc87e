"""Output of RequestHandler: buffered ``write``, ``flush``, ``finish``, ``redirect``, ETags.

The fast path: ``write`` only appends to a list; ``finish`` (never flushed before) joins it
and hands status, headers and body to ``connection.respond`` — one call, one
``transport.write`` in http. ``flush`` switches to streaming: ``write_headers`` once (no
``Content-Length``, so http sends chunks), then ``connection.write`` per flush, and
``connection.finish`` at the end.

Output transforms (``squall_web_transforms``, the ``transforms`` setting): when the
application has any, the status, headers and first chunk go through them where the headers
go out, and every later chunk on its way to the connection; ``finish()`` always passes a
last chunk (possibly empty, ``finishing=True``) so a compressor can end its stream. Without
transforms the only cost is one attribute test per ``flush``/``finish``.

Automatic ETag (as Tornado): a 200 answer to GET/HEAD that set no ``Etag`` itself gets the
SHA-1 of its body; when the request's ``If-None-Match`` matches it, the answer becomes a 304
with no body.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable
from typing import Any

from squall.http import HTTPConnection, HTTPHeaders, StreamClosedError
from squall.web._base import DONE, HandlerBase
from squall.web._headers import HeadersMixin, convert_header_value, wire_reason
from squall.web._jsonencode import json_encode

gen_log = logging.getLogger("squall.general")
app_log = logging.getLogger("squall.application")

# Headers that describe a body; a 204/304 carries none of them (RFC 9110 §15.3.5, §15.4.5).
_REPRESENTATION_HEADERS = ("Content-Encoding", "Content-Language", "Content-Type")


try:
    # CPython's own SHA-1 (HACL* since 3.12), not OpenSSL's: the same digest, but OpenSSL 3
    # looks the algorithm up through its providers on every new hash, which on a cold cache
    # (one connection, a request now and then) took ~10 µs of a ~130 µs request here
    # (py-spy on the server under `wrk -c1`, run by hand; the effect is in benchmarks/
    # RESULTS.md, table "hello c1": p50 1.01x -> 0.84x Starlette).
    from _sha1 import sha1 as _sha1  # type: ignore[import-not-found]
except ImportError:  # a Python built without its builtin hashes
    _sha1 = hashlib.sha1
# ...but only for small bodies: on Python 3.11 the builtin SHA-1 (not yet HACL*) hashes about
# 7x slower than OpenSSL's once warm (1 KiB: 10 µs against 1 µs; 100 KiB: 1.1 ms against
# 0.15 ms, measured with timeit), so past this size OpenSSL's lookup cost is worth paying.
_SMALL_BODY = 512
_large_sha1 = hashlib.sha1
# The ETags of recent small bodies: a server sends the same few small bodies over and over,
# and a dict lookup costs a tenth of a SHA-1 with its hex digest and quoting. Exact (the
# same bytes have the same digest); bounded: at most _ETAGS_MAX bodies of <= _SMALL_BODY
# bytes are kept (cleared when full).
_etags: dict[bytes, str] = {}
_ETAGS_MAX = 256


def _small_etag(body: bytes) -> str:
    """The quoted SHA-1 of a body of at most ``_SMALL_BODY`` bytes, from the cache if seen."""
    etag = _etags.get(body)
    if etag is None:
        etag = f'"{_sha1(body).hexdigest()}"'
        if len(_etags) >= _ETAGS_MAX:
            _etags.clear()
        _etags[body] = etag
    return etag


def _default_etag(buf: list[bytes]) -> str:
    """The default ETag of a buffered body (``compute_etag`` unless overridden)."""
    if len(buf) == 1:
        body = buf[0]
        if len(body) <= _SMALL_BODY:
            return _small_etag(body)
        return f'"{_large_sha1(body).hexdigest()}"'
    hasher = _large_sha1()
    for part in buf:
        hasher.update(part)
    return f'"{hasher.hexdigest()}"'


def _etag_matches(inm: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value matches ``etag`` (weak comparison, ``*``)."""
    if inm.strip() == "*":
        return True
    computed = etag[2:] if etag.startswith("W/") else etag
    for candidate in inm.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == computed:
            return True
    return False


def _client_gone(handler: HandlerBase) -> None:
    """``finish()`` found the connection closed: the client left; one debug line."""
    gen_log.debug("%s: client closed the connection", handler._request_summary())


class OutputMixin(HeadersMixin, HandlerBase):
    """``write``, ``flush``, ``finish``, ``redirect`` and the ETag helpers."""

    __slots__ = ()

    def write(self, chunk: str | bytes | dict[str, Any]) -> None:
        """Add ``chunk`` to the output buffer (sent by ``flush()`` or ``finish()``).

        A dict is sent as JSON with ``Content-Type: application/json; charset=UTF-8``; a str
        is encoded as UTF-8 (the default Content-Type is ``text/html; charset=UTF-8``).

        Raises:
            RuntimeError: the response is already finished.
            TypeError: ``chunk`` is none of str, bytes, dict (a list is refused on purpose:
                a top-level JSON array was once a cross-site script inclusion risk).
        """
        if self._finished:
            raise RuntimeError("Cannot write() after finish()")
        if isinstance(chunk, str):
            self._write_buffer.append(chunk.encode("utf-8"))
        elif isinstance(chunk, bytes):
            self._write_buffer.append(chunk)
        elif isinstance(chunk, dict):
            self._headers["Content-Type"] = "application/json; charset=UTF-8"
            if self._multi_headers is not None:
                self._multi_headers.pop("Content-Type", None)
            self._write_buffer.append(json_encode(chunk).encode("utf-8"))
        elif isinstance(chunk, bytearray | memoryview):
            self._write_buffer.append(bytes(chunk))
        else:
            message = (
                f"write() only accepts bytes, str and dict objects, not {type(chunk).__name__}"
            )
            if isinstance(chunk, list):
                message += (
                    ". Lists are not accepted for security reasons (a top-level JSON array can "
                    "be read cross-site); wrap it in a dict or json.dumps() it yourself"
                )
            raise TypeError(message)

    def flush(self, include_footers: bool = False) -> Awaitable[None]:
        """Send the headers (first time) and what is buffered; return an awaitable.

        Awaiting it waits until the connection can take more (flow control). Once flushed,
        the body is sent chunked unless a ``Content-Length`` header was set.

        Args:
            include_footers: Tornado's parameter, kept so that overrides which pass it on
                (``super().flush(include_footers)``) work; the end of the body is
                ``finish()``'s job, so True is refused.

        Raises:
            ValueError: ``include_footers`` is true.
        """
        if include_footers:
            raise ValueError("flush(include_footers=True): end the response with finish()")
        conn: HTTPConnection = self.request.connection  # type: ignore[assignment]
        chunk = b"".join(self._write_buffer)
        self._write_buffer = []
        if not self._headers_written:
            self._headers_written = True
            status = self._status_code
            reason = wire_reason(self._reason) if self._custom_reason else None
            if self.application._transforms:
                status, items, chunk = self._transform_first(status, chunk, False)
                if status != self._status_code:
                    reason = None
            else:
                items = self._header_items()
            try:
                conn.write_headers(status, items, reason)
            except ValueError:
                self._headers_written = False  # nothing went out: an error page is possible
                raise
        elif self.application._transforms:
            # getattr: add_transform() may have run after this response's headers went out
            for transform in getattr(self, "_transforms", ()):
                chunk = transform.transform_chunk(chunk, False)
        if chunk:
            result: Awaitable[None] = conn.write(chunk)
            return result
        return DONE

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> Awaitable[None]:
        """Finish the response: send what is buffered, then ``on_finish`` runs.

        A client that already left is not an error here (as in Tornado): the response is
        finished all the same, ``on_finish`` runs, and one debug line is logged.
        (``flush()`` raises ``StreamClosedError`` instead, so a streaming loop stops.)

        Raises:
            RuntimeError: ``finish()`` was already called.
        """
        if self._finished:
            raise RuntimeError("finish() called twice")
        if chunk is not None:
            self.write(chunk)
        request = self.request
        conn: HTTPConnection = request.connection  # type: ignore[assignment]
        if not self._headers_written:
            status = self._status_code
            headers = self._headers
            if status == 200 and request.method in ("GET", "HEAD") and "Etag" not in headers:
                cls = type(self)
                if (
                    cls.compute_etag is _COMPUTE_ETAG
                    and cls.set_etag_header is _SET_ETAG_HEADER
                    and cls.check_etag_header is _CHECK_ETAG_HEADER
                ):
                    # The three methods as defined below, inline (three calls fewer), and
                    # the ETag of a small body seen before read from the cache directly.
                    buf = self._write_buffer
                    if len(buf) == 1 and len(buf[0]) <= _SMALL_BODY:
                        etag = _etags.get(buf[0]) or _small_etag(buf[0])
                    else:
                        etag = _default_etag(buf)
                    headers["Etag"] = etag
                    if self._multi_headers is not None:
                        self._multi_headers.pop("Etag", None)
                    inm = request.headers.get("If-None-Match")
                    if inm and _etag_matches(inm, etag):
                        status = 304
                        self.set_status(304)
                        self._write_buffer = []  # the client has this body already
                else:
                    self.set_etag_header()
                    if self.check_etag_header():
                        status = 304
                        self.set_status(304)
                        self._write_buffer = []
            if status in (204, 304) or status < 200:
                if any(self._write_buffer):
                    # A body the handler wrote for a status that cannot carry one is a
                    # bug in the handler: refused (a 500), as Tornado, not dropped unseen.
                    raise RuntimeError(f"Cannot send body with status code HTTP{status}")
                # No body allowed, so no headers describing one (as Tornado).
                self._write_buffer = []
                for name in _REPRESENTATION_HEADERS:
                    self._headers.pop(name, None)
                body = b""
            else:
                buf = self._write_buffer
                body = buf[0] if len(buf) == 1 else b"".join(buf)
            reason = wire_reason(self._reason) if self._custom_reason else None
            if self.application._transforms:
                status_in = status
                status, items, body = self._transform_first(status, body, True)
                if status != status_in:
                    reason = None
            elif self._multi_headers is None and self._new_cookie is None:
                items = list(self._headers.items())  # _header_items() with nothing to expand
            else:
                items = self._header_items()
            self._headers_written = True
            self._finished = True
            try:
                conn.respond(status, items, body, reason)
            except StreamClosedError:
                _client_gone(self)
            except ValueError:
                # Refused before anything was sent (a header or reason http cannot encode):
                # the response is still open, so the error path can answer a 500 instead.
                self._headers_written = False
                self._finished = False
                raise
        else:
            try:
                if self.application._transforms:
                    last = b"".join(self._write_buffer)
                    self._write_buffer = []
                    for transform in getattr(self, "_transforms", ()):
                        last = transform.transform_chunk(last, True)
                    if last:
                        conn.write(last)
                elif self._write_buffer:
                    conn.write(b"".join(self._write_buffer))
                    self._write_buffer = []
                self._finished = True
                conn.finish()
            except StreamClosedError:
                self._write_buffer = []
                self._finished = True
                _client_gone(self)
        app = self.application
        if app._after_hooks or app._complete_hooks or type(self).on_finish is not _ON_FINISH:
            self._after_finish()
        else:
            # _after_finish() with nothing to run but the access log.
            try:
                app._log_request(self)  # type: ignore[arg-type]
            except Exception:
                app_log.error("Error in the access log function", exc_info=True)
        return DONE

    def on_finish(self) -> None:
        """Called once the response was sent (clean-up, metrics)."""

    def _after_finish(self) -> None:
        """The access log, the plugins' after- and complete-hooks, then ``on_finish``."""
        app = self.application
        try:
            app._log_request(self)  # type: ignore[arg-type]
        except Exception:
            app_log.error("Error in the access log function", exc_info=True)
        for hook in app._after_hooks:
            try:
                hook(self)  # type: ignore[arg-type]
            except Exception:
                app_log.error("Error in a plugin's after-request hook", exc_info=True)
        if app._complete_hooks:
            exception = getattr(self, "_exception", None)
            if exception is not None:
                del self._exception  # read once: its traceback holds this handler (a cycle)
            for complete in app._complete_hooks:
                try:
                    complete(self, exception)  # type: ignore[arg-type]
                except Exception:
                    app_log.error("Error in a plugin's complete-request hook", exc_info=True)
        try:
            self.on_finish()
        except Exception:
            app_log.error("Uncaught exception in on_finish", exc_info=True)

    def _transform_first(
        self, status: int, chunk: bytes, finishing: bool
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Build this request's transforms and pass the status, headers and first chunk on.

        Only called when the application has transforms. Built here (not at the start of
        the request) so an error page after a refused header gets fresh ones.
        """
        request = self.request
        transforms = [factory(request) for factory in self.application._transforms]
        self._transforms = transforms
        headers = HTTPHeaders()
        for name, value in self._header_items():
            headers.add(name, value)
        for transform in transforms:
            status, headers, chunk = transform.transform_first_chunk(
                status, headers, chunk, finishing
            )
        return status, list(headers.get_all()), chunk

    def redirect(self, url: str, permanent: bool = False, status: int | None = None) -> None:
        """Send a redirect to ``url`` (302, or 301 when ``permanent``, or ``status``) and finish.

        Raises:
            RuntimeError: headers were already flushed.
            ValueError: ``status`` is not a 3xx code.
        """
        if self._headers_written:
            raise RuntimeError("Cannot redirect after headers have been written")
        if status is None:
            status = 301 if permanent else 302
        elif not 300 <= status <= 399:
            raise ValueError(f"redirect status must be 3xx, got {status}")
        self.set_status(status)
        if not url.isascii():
            # As Tornado does: a non-ASCII URL goes out as its UTF-8 bytes (what browsers
            # and httpx decode), not as ISO-8859-1, which would garble or refuse it.
            url = url.encode("utf-8").decode("latin-1")
        self.set_header("Location", url)
        self.finish()

    # -- ETag ------------------------------------------------------------------------------

    def compute_etag(self) -> str | None:
        """The ETag of the buffered body (SHA-1, quoted), or None to send no ETag."""
        # Not hashlib.sha1(..., usedforsecurity=False): the keyword makes each call ~2x
        # slower, and an ETag only needs to change when the body does.
        return _default_etag(self._write_buffer)

    def set_etag_header(self) -> None:
        """Set the ``Etag`` header from ``compute_etag()`` (when it gives one)."""
        etag = self.compute_etag()
        if etag is not None:
            # set_header("Etag", etag) minus the name normalization (hot path), and minus the
            # value check when the etag is our own hex digest.
            if type(self).compute_etag is not OutputMixin.compute_etag:
                etag = convert_header_value(etag)
            self._headers["Etag"] = etag
            if self._multi_headers is not None:
                self._multi_headers.pop("Etag", None)

    def check_etag_header(self) -> bool:
        """Whether the request's ``If-None-Match`` matches the response's ``Etag`` (weakly)."""
        inm = self.request.headers.get("If-None-Match")
        if not inm:
            return False
        etag = self._headers.get("Etag")
        if etag is None:
            return False
        return _etag_matches(inm, etag)


_ON_FINISH = OutputMixin.on_finish
_COMPUTE_ETAG = OutputMixin.compute_etag
_SET_ETAG_HEADER = OutputMixin.set_etag_header
_CHECK_ETAG_HEADER = OutputMixin.check_etag_header
