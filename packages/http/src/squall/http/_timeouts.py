"""Connection timeouts of ``HTTPProtocol``: one lazily re-armed timer per connection.

State changes only record a timestamp; the timer, when it fires, computes the deadline of
the current state and either closes the connection or re-arms itself:

- idle (no request begun): ``idle_connection_timeout`` since the last response → quiet close;
- partial head: ``header_timeout`` since its first byte (slowloris: progress does not
  extend it) → 408, one warning, close;
- body: ``body_timeout`` without progress → 408, one warning, close;
- the application holds the request, or the client does not read its responses: no limit
  here (re-armed when the response is finished).

The hot path (a whole request answered at once) touches no timer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from squall.http._protocol import HTTPProtocol

__all__ = ["arm", "on_timer"]

log: Final = logging.getLogger("squall.http")


def arm(self: HTTPProtocol, when: float) -> None:
    """Make the timer fire at ``when`` at the latest (an earlier timer is kept)."""
    timer = self._timer
    if timer is not None:
        if self._timer_when <= when:
            return  # the earlier timer will re-check and re-arm
        timer.cancel()
    self._timer_when = when
    self._timer = self._loop.call_at(when, self._on_timer)


def on_timer(self: HTTPProtocol) -> None:
    """Close the connection if the deadline of its current state passed, else re-arm."""
    self._timer = None
    if self._closed:
        return
    lim = self._ctx.limits
    now = self._loop.time()
    kind: str
    if self._current is None:
        if self._parser.in_progress:
            kind = "header"
            start = self._head_start if self._head_start is not None else now
            timeout = lim.header_timeout
        else:
            kind = "idle"
            start = self._idle_since
            timeout = lim.idle_connection_timeout
    elif self._reading_body and not self._flow_paused:
        kind = "body"
        start = self._body_progress
        timeout = lim.body_timeout
    else:
        return  # the application holds the request; re-armed when it answers
    if timeout is None:
        return
    if self._write_paused:
        # Requests wait because the client does not read its responses: not a stall
        # of the request itself.
        self._arm(now + timeout)
        return
    deadline = start + timeout
    if now < deadline:
        self._arm(deadline)
        return
    if kind == "idle":
        log.debug("%s: closing idle connection", self._peer)
        self._close()
        return
    log.warning("%s: timed out waiting for the request %s", self._peer, kind)
    conn = self._current
    if conn is None or not conn.headers_written:
        if self._transport is not None:
            self._transport.write(
                b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
    self._abort_current()
    self._close()
