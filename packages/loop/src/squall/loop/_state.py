"""Process-wide records shared by the IOLoop and the process tools.

``fork_processes`` must refuse to fork once an IOLoop exists in this process, yet the IOLoop
module must not import the process module (nor the other way round) just for that: this
tiny module holds the record both sides read. The record is keyed by PID, so a forked child
(which inherits the parent's memory) does not see the parent's loops as its own.
"""

from __future__ import annotations

import os

# PID of the process in which an IOLoop was created or started, and what happened.
_ioloop_pid: int | None = None
_ioloop_event: str = ""


def note_ioloop(event: str) -> None:
    """Record that an IOLoop was ``event`` ("created", "started") in this process."""
    global _ioloop_pid, _ioloop_event
    pid = os.getpid()
    if _ioloop_pid != pid or event == "started":
        _ioloop_pid = pid
        _ioloop_event = event


def ioloop_event_in_this_process() -> str | None:
    """What happened to an IOLoop in this process ("created"/"started"), or None."""
    if _ioloop_pid == os.getpid():
        return _ioloop_event
    return None
