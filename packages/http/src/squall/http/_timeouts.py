"""Connection timeouts of ``HTTPProtocol``: one lazily re-armed timer per connection.

State changes only record a timestamp; the timer, when it fires, computes the deadline of
the current state and either closes the connection or re-arms itself:

- idle (no request begun): ``idle_connection_timeout`` since the last response → quiet close;
- partial head: ``header_timeout`` since its first byte, or ``idle_connection_timeout`` when
  that is lower (slowloris: progress does not extend it) → 408, one warning, close;
- body: ``body_timeout`` without progress, or slower than ``body_min_rate`` on average once
  ``body_min_rate_grace`` has passed (each ``body_min_rate`` bytes buy one more second, as
  mod_reqtimeout's MinRate) → 408, one warning, close. The credit a fast start buys is
  capped at ``body_min_rate_grace`` seconds ahead (the average is over a sliding window):
  otherwise 100 MiB sent at once would let the client trickle a byte per ``body_timeout``
  for days;
- the application holds the request, a streaming handler paused reading (flow control),
  or the client does not read its responses: no limit here. The time a handler paused
  reading is given back to the body's clocks when it resumes.

The hot path (a whole request answered at once) touches no timer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from squall.http._limits import HTTPLimits
    from squall.http._protocol import HTTPProtocol

__all__ = ["arm", "body_deadline", "flow_resumed", "head_timeout", "on_timer"]

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


def head_timeout(lim: HTTPLimits) -> float | None:
    """Seconds a request head may take: the lower of header and idle timeouts (None: no limit)."""
    ht, it = lim.header_timeout, lim.idle_connection_timeout
    if ht is None:
        return it
    return ht if it is None or ht <= it else it


def body_deadline(self: HTTPProtocol) -> tuple[float, str] | None:
    """When the body being read times out, and why (None: no body limit is set)."""
    lim = self._ctx.limits
    deadline: tuple[float, str] | None = None
    if lim.body_timeout is not None:
        deadline = (self._body_progress + lim.body_timeout, "body")
    rate = lim.body_min_rate
    if rate is not None:
        when = self._body_start + lim.body_min_rate_grace + self._body_bytes / rate
        if deadline is None or when < deadline[0]:
            deadline = (when, f"body (slower than {rate:g} bytes/s)")
    return deadline


def flow_resumed(self: HTTPProtocol) -> None:
    """A streaming handler resumed reading: the pause was ours, not the client's."""
    now = self._loop.time()
    self._body_start += now - self._flow_since
    self._body_progress = max(self._body_progress, now)


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
            timeout = self._ctx.head_timeout
        else:
            kind = "idle"
            start = self._idle_since
            timeout = lim.idle_connection_timeout
        if timeout is None:
            return
        deadline = start + timeout
    elif self._reading_body and not self._flow_paused:
        rate = lim.body_min_rate
        if rate is not None:
            # Bank at most body_min_rate_grace seconds of credit (see the module docstring).
            excess = self._body_start + self._body_bytes / rate - now
            if excess > 0:
                self._body_start -= excess
        found = self._body_deadline()
        if found is None:
            return
        deadline, kind = found
        timeout = lim.body_timeout or lim.body_min_rate_grace  # the re-check below
    else:
        return  # the application holds the request; re-armed when it answers
    if self._write_paused:
        # Requests wait because the client does not read its responses: not a stall
        # of the request itself.
        self._arm(now + timeout)
        return
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
