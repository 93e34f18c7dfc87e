"""Error responses of RequestHandler: ``send_error``, ``write_error``, exception handling.

The order on an error is the notes' (接口调用顺序): ``clear()`` (which calls
``set_default_headers`` again, so defaults are back and the buffer is empty), the status,
``write_error(status, **kwargs)``, then ``finish()`` (and with it ``on_finish``). Writes made
before ``send_error`` are dropped; writes after it raise RuntimeError (the response is
finished), which is logged like any other uncaught exception.

Logging: ``HTTPError`` with a ``log_message`` → one warning on ``squall.application``; any
other exception → an error with its traceback. ``Finish`` is not an error.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType
from typing import Any

from squall.http import HTTPInputError, StreamClosedError
from squall.web._base import HandlerBase
from squall.web._errors import Finish, HTTPError

app_log = logging.getLogger("squall.application")
gen_log = logging.getLogger("squall.general")


# html.escape's rule (quote=True), written out: the html module builds its entity table at
# import (≈ 1-2 ms of start-up) for a function only error pages call.
_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
)


def escape_html(text: str) -> str:
    """``text`` with ``& < > " '`` escaped, as ``html.escape(text)`` does."""
    return text.translate(_HTML_ESCAPES)


class ErrorsMixin(HandlerBase):
    """``send_error``, ``write_error`` and the handling of exceptions from handler code."""

    __slots__ = ()

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        """Answer with an error: clear the response, set the status, ``write_error``, finish.

        ``kwargs`` go to ``write_error``; ``reason`` sets the reason phrase and ``exc_info``
        is the exception being handled (given by the framework).
        """
        if self._headers_written:
            conn = self.request.connection
            if conn is not None and conn.closed:
                # The client left mid-response: there is no one to send an error to.
                gen_log.debug("%s: client gone; no error response", self._request_summary())
            else:
                gen_log.error("Cannot send error response after headers written")
            if not self._finished:
                try:
                    self.finish()
                except Exception:
                    gen_log.error("Failed to flush partial response", exc_info=True)
            return
        self.clear()
        reason = kwargs.get("reason")
        exc_info = kwargs.get("exc_info")
        if exc_info is not None and isinstance(exc_info[1], HTTPError) and exc_info[1].reason:
            reason = exc_info[1].reason
        try:
            self.set_status(status_code, reason=reason)
        except ValueError as exc:
            # Tornado sends any integer (HTTP/1.1 623 Unknown); squall answers 500, and says
            # why, or the handler's author sees a 500 that nothing explains.
            gen_log.warning("send_error(%r) answered 500: %s", status_code, exc)
            self.set_status(500)
        if self._status_code == 405:
            allowed = type(self)._allowed_methods()  # type: ignore[attr-defined]
            self.set_header("Allow", ", ".join(allowed))
        try:
            # A 304 has no body to describe the error in (`raise HTTPError(304)` is how
            # handlers answer a matching If-None-Match): Tornado skips write_error too.
            if self._status_code != 304:
                self.write_error(self._status_code, **kwargs)
        except Exception:
            app_log.error("Uncaught exception in write_error", exc_info=True)
        if not self._finished:
            self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write the error page; override to customise (the notes' ``write_error``).

        The default page is ``<html><title>404: Not Found</title><body>404: Not Found
        </body></html>`` (HTML-escaped), and nothing for a status without a body (1xx, 204,
        304); with the ``serve_traceback`` setting (``debug``) and
        an exception, the page shows its HTML-escaped traceback.
        """
        if status_code in (204, 304) or 100 <= status_code < 200:
            # No body may follow these (`raise HTTPError(204)` ends a request that has
            # nothing to say): an empty answer, as Tornado's write_error gives.
            self.finish()
            return
        title = escape_html(f"{status_code}: {self._reason}")
        exc_info = kwargs.get("exc_info")
        if exc_info is not None and self.settings.get("serve_traceback"):
            tb = "".join(traceback.format_exception(*exc_info))
            # This page is HTML whatever set_default_headers chose (a JSON API's
            # application/json would make the browser show the markup as text).
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.finish(
                f"<html><title>{title}</title><body><h1>{title}</h1>"
                f"<pre>{escape_html(tb)}</pre></body></html>"
            )
        else:
            self.finish(f"<html><title>{title}</title><body>{title}</body></html>")

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Log an exception from handler code (override to change how)."""
        if isinstance(value, HTTPInputError):
            app_log.warning("%s: bad input: %s", self._request_summary(), value)
        elif isinstance(value, HTTPError):
            if value.log_message:
                fmt = "%d %s: " + value.log_message
                args = [value.status_code, self._request_summary(), *value.args]
                app_log.warning(fmt, *args)
        else:
            app_log.error(
                "Uncaught exception %s\n%r",
                self._request_summary(),
                self.request,
                exc_info=(typ, value, tb),  # type: ignore[arg-type]
            )

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, Finish):
            if not self._finished:
                self.finish(*e.args)
            return
        if isinstance(e, StreamClosedError):
            # The client went away while we streamed to it: nothing to answer, not an error.
            gen_log.debug("%s: client closed the connection", self._request_summary())
            if not self._finished:
                try:
                    self.finish()
                except Exception:
                    gen_log.debug("finish() after the client left failed", exc_info=True)
            return
        if not self._finished and self.application._complete_hooks:
            # For RequestHooks.complete (Finish and a gone client are not), which run at
            # finish; only then, and dropped there: e's traceback holds this handler.
            self._exception = e
        exc_info: tuple[Any, Any, Any] = sys.exc_info()
        if exc_info[1] is not e:
            exc_info = (type(e), e, e.__traceback__)
        try:
            self.log_exception(*exc_info)
        except Exception:
            app_log.error("Error in exception logger", exc_info=True)
        if self._finished:
            return  # the response went out already; logging is all that is left to do
        if isinstance(e, HTTPError):
            self.send_error(e.status_code, exc_info=exc_info)
        elif isinstance(e, HTTPInputError):
            # Input parsed lazily by http (query arguments) was bad: the client's fault.
            self.send_error(e.status_hint, reason=str(e) or None)
        else:
            self.send_error(500, exc_info=exc_info)
