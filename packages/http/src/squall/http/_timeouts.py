"""Connection timeouts: one lazily re-armed timer per connection (``ConnectionTimer``).

Theory of operation
-------------------
State changes only record a timestamp on the timer; when it fires it asks its owner (the
connection, through ``TimerOwner``) what state it is in, computes the deadline of that
state and either tells the owner that it passed (``_timed_out``) or re-arms itself:

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

The hot path (a whole request answered at once) only records when the connection became
idle; the timer armed when the connection was made is still pending, so nothing is armed.

The timer keeps no reference to its owner: ``arm`` is given the owner, whose
``_timer_fired`` (which hands itself back to ``fire``) is what the ``TimerHandle`` holds
until cancelling or firing drops it. A closed connection is therefore freed by reference
counting, with no cycle through its timer; and the handle holds one bound method and no
argument tuple (an idle keep-alive connection keeps its handle for hours).
"""

from __future__ import annotations

import asyncio
from typing import Final, Protocol

from squall.http._limits import HTTPLimits

__all__ = ["BODY", "HEAD", "IDLE", "UNTIMED", "ConnectionTimer", "TimerOwner", "head_timeout"]

# What a connection is doing, as far as its deadline goes (TimerOwner._timer_state).
UNTIMED: Final = 0  # closed, or the application holds the request: no limit
IDLE: Final = 1  # no request begun
HEAD: Final = 2  # a request head (or an unread body being dropped) is arriving
BODY: Final = 3  # a request body is being read


class TimerOwner(Protocol):
    """What the timer needs from its connection."""

    @property
    def _write_paused(self) -> bool:
        """Whether the client does not read its responses (no stall of the request itself)."""

    def _timer_state(self) -> int:
        """``UNTIMED``, ``IDLE``, ``HEAD`` or ``BODY`` (see the module docstring)."""

    def _timed_out(self, kind: str) -> None:
        """The deadline of state ``kind`` (``idle``, ``header``, ``body ...``) passed."""

    def _timer_fired(self) -> None:
        """The timer's handle fired: call its ``fire(self)``."""


def head_timeout(lim: HTTPLimits) -> float | None:
    """Seconds a request head may take: the lower of header and idle timeouts (None: no limit)."""
    ht, it = lim.header_timeout, lim.idle_connection_timeout
    if ht is None:
        return it
    return ht if it is None or ht <= it else it


class ConnectionTimer:
    """The deadlines of one connection: its clocks and one lazily re-armed ``TimerHandle``."""

    __slots__ = (
        "_loop",
        "_limits",
        "_handle",
        "_when",
        "idle_since",
        "head_start",
        "body_progress",
        "body_start",
        "body_bytes",
        "flow_since",
        "body_timeout",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, limits: HTTPLimits) -> None:
        self._loop = loop
        self._limits = limits
        self._handle: asyncio.TimerHandle | None = None
        self._when = 0.0
        self.idle_since = 0.0
        self.head_start: float | None = None  # when the partial head now arriving began
        self.body_progress = 0.0  # when the last body bytes came
        self.body_start = 0.0  # when the body began, moved on by the time reading was paused
        self.body_bytes = 0  # bytes received since then (for body_min_rate)
        self.flow_since = 0.0  # when a streaming handler paused reading
        # The body_timeout of the body being read: the server's, unless its request set its
        # own (HTTPConnection.set_body_timeout); the body reader sets it at each body.
        self.body_timeout: float | None = limits.body_timeout

    def arm(self, owner: TimerOwner, when: float) -> None:
        """Make the timer fire at ``when`` at the latest (an earlier timer is kept)."""
        handle = self._handle
        if handle is not None:
            if self._when <= when:
                return  # the earlier timer will re-check and re-arm
            handle.cancel()
        self._when = when
        self._handle = self._loop.call_at(when, owner._timer_fired)

    def cancel(self) -> None:
        """Stop the timer (the connection closed or was handed over)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    # -- state changes -----------------------------------------------------------------------

    def idle(self, owner: TimerOwner) -> None:
        """The connection has no request in progress (made, or a response finished)."""
        self.idle_since = now = self._loop.time()
        self.head_start = None
        if self._handle is None:
            it = self._limits.idle_connection_timeout
            if it is not None:
                self.arm(owner, now + it)

    def head_begun(self, owner: TimerOwner) -> None:
        """The first bytes of a request head arrived (not the whole head)."""
        self.head_start = now = self._loop.time()
        ht = head_timeout(self._limits)
        if ht is not None:
            self.arm(owner, now + ht)

    def dropping_body(self) -> None:
        """An unread body is being dropped: ``header_timeout`` bounds that, from now."""
        self.head_start = self._loop.time()

    def body_begun(self) -> None:
        """A request body is about to be read (its ``body_timeout`` is already set)."""
        self.body_progress = self.body_start = self._loop.time()
        self.body_bytes = 0

    def body_received(self, n: int) -> None:
        """``n`` bytes arrived while a body was being read."""
        self.body_progress = self._loop.time()
        self.body_bytes += n

    def arm_body(self, owner: TimerOwner) -> None:
        """Make the timer fire by the deadline of the body being read."""
        found = self.body_deadline()
        if found is not None:
            self.arm(owner, found[0])

    def flow_paused(self) -> None:
        """A streaming handler paused reading: its wait is not the client's."""
        self.flow_since = self._loop.time()

    def flow_resumed(self) -> None:
        """A streaming handler resumed reading: give the pause back to the body's clocks."""
        now = self._loop.time()
        self.body_start += now - self.flow_since
        self.body_progress = max(self.body_progress, now)

    # -- deadlines ---------------------------------------------------------------------------

    def body_deadline(self) -> tuple[float, str] | None:
        """When the body being read times out, and why (None: no body limit is set)."""
        lim = self._limits
        deadline: tuple[float, str] | None = None
        timeout = self.body_timeout
        if timeout is not None:
            deadline = (self.body_progress + timeout, "body")
        rate = lim.body_min_rate
        if rate is not None:
            when = self.body_start + lim.body_min_rate_grace + self.body_bytes / rate
            if deadline is None or when < deadline[0]:
                deadline = (when, f"body (slower than {rate:g} bytes/s)")
        return deadline

    def fire(self, owner: TimerOwner) -> None:
        """Tell the owner if the deadline of its current state passed, else re-arm."""
        self._handle = None
        state = owner._timer_state()
        lim = self._limits
        now = self._loop.time()
        kind: str
        if state == IDLE:
            kind = "idle"
            timeout = lim.idle_connection_timeout
            if timeout is None:
                return
            deadline = self.idle_since + timeout
        elif state == HEAD:
            kind = "header"
            timeout = head_timeout(lim)
            if timeout is None:
                return
            deadline = (self.head_start if self.head_start is not None else now) + timeout
        elif state == BODY:
            rate = lim.body_min_rate
            if rate is not None:
                # Bank at most body_min_rate_grace seconds of credit (see the module docstring).
                excess = self.body_start + self.body_bytes / rate - now
                if excess > 0:
                    self.body_start -= excess
            found = self.body_deadline()
            if found is None:
                return
            deadline, kind = found
            timeout = self.body_timeout or lim.body_min_rate_grace  # the re-check below
        else:
            return  # closed, or the application holds the request; re-armed when it answers
        if owner._write_paused:
            # Requests wait because the client does not read its responses: not a stall
            # of the request itself.
            self.arm(owner, now + timeout)
            return
        if now < deadline:
            self.arm(owner, deadline)
            return
        owner._timed_out(kind)
