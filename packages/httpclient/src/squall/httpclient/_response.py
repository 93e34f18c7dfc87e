"""``HTTPResponse``: what a fetch gives back (Tornado's attributes)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from squall.http import HTTPHeaders, responses
from squall.httpclient._errors import HTTPClientError
from squall.httpclient._request import HTTPRequest, RequestSettings

__all__ = ["HTTPResponse"]


class HTTPResponse:
    """The answer to one fetch.

    Attributes:
        request: the ``HTTPRequest`` given to ``fetch`` (the first one, after redirects).
        code: the status (599 when no answer came: ``error`` says why).
        reason: the reason phrase the server sent (or the standard one).
        headers: ``squall.http.HTTPHeaders`` of the answer.
        buffer: a ``BytesIO`` of the body (empty with a ``streaming_callback``).
        body: the body as bytes (read from ``buffer`` once).
        effective_url: the URL of the answer, after redirects.
        error: an ``HTTPClientError`` for a non-2xx status, the failure for a 599, or None.
        request_time: seconds from the start of the (last) request to its end, without
            the wait for a ``max_clients`` slot.
        start_time: ``time.time()`` when that request started (None if it never did).
        time_info: diagnostic timings under the names of Tornado's curl client: ``queue``
            (the wait for a ``max_clients`` slot), and for an answer received
            ``starttransfer`` (until its headers) and ``total`` (until its last byte, as
            ``request_time``).
    """

    def __init__(
        self,
        request: HTTPRequest | RequestSettings,
        code: int,
        headers: HTTPHeaders | None = None,
        buffer: BytesIO | None = None,
        effective_url: str | None = None,
        error: BaseException | None = None,
        request_time: float | None = None,
        time_info: dict[str, float] | None = None,
        reason: str | None = None,
        start_time: float | None = None,
    ) -> None:
        self.request: HTTPRequest = (
            request.request if isinstance(request, RequestSettings) else request
        )
        self.code = code
        self.reason = reason or responses.get(code, "Unknown")
        self.headers = headers if headers is not None else HTTPHeaders()
        self.buffer = buffer
        self._body: bytes | None = None
        self.effective_url = effective_url if effective_url is not None else request.url
        # Only an error that stands for the status may be swallowed by raise_error=False.
        self._error_is_response_code = False
        self.error: BaseException | None
        if error is None:
            if code < 200 or code >= 300:
                self._error_is_response_code = True
                self.error = HTTPClientError(code, message=self.reason, response=self)
            else:
                self.error = None
        else:
            self.error = error
        self.start_time = start_time
        self.request_time = request_time
        self.time_info = time_info or {}

    @property
    def body(self) -> bytes:
        """The whole body (``b""`` when there is none or it was streamed)."""
        if self.buffer is None:
            return b""
        if self._body is None:
            self._body = self.buffer.getvalue()
        return self._body

    def rethrow(self) -> None:
        """Raise ``error`` if there is one."""
        if self.error is not None:
            raise self.error

    def __repr__(self) -> str:
        shown: dict[str, Any] = {
            "code": self.code,
            "reason": self.reason,
            "effective_url": self.effective_url,
            "request_time": self.request_time,
        }
        args = ",".join(f"{k}={v!r}" for k, v in shown.items())
        return f"HTTPResponse({args})"
