"""Pre-fork process tools: ``fork_processes`` and ``task_id``.

Theory of operation: the parent forks ``n`` children and becomes a supervisor. Each child
returns from ``fork_processes`` with its task id (0..n-1) and goes on to serve. The parent
never returns: it waits for children; a child that died from a signal or exited non-zero
is forked again under the same task id (at most ``max_restarts`` times in all, then
``TooManyRestartsError``); a child that exited with status 0 is not replaced; when no child
is left the parent calls ``sys.exit(0)``.

SIGTERM and SIGINT sent to the parent are forwarded to every child; from then on nothing is
restarted and the parent exits (status 0) once the children are gone, so stopping the
parent stops the whole server and frees its port.

Forking is refused once an IOLoop was created or started in this process: each child would
inherit a copy of it (selector, file descriptors, pending callbacks) and the copies would
interfere (the first caveat of the notes' multi-process section). Other layers can refuse
it too, with their own reason, through ``forbid_fork(reason)`` (web's autoreload does: it
restarts one process and cannot supervise several).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import sys
import threading
import time
from types import FrameType

from squall.loop._errors import ForkAfterIOLoopError, ForkError, TooManyRestartsError
from squall.loop._state import ioloop_event_in_this_process

# Tornado's process module logs on tornado.general: squall.general.
logger = logging.getLogger("squall.general")

_task_id: int | None = None

# Reasons given to forbid_fork, and the PID they were given in: a child forked some other
# way (os.fork) inherits the parent's memory but not its reasons.
_forbidden_pid: int | None = None
_forbidden_reasons: list[str] = []

# Seconds the parent gives remaining children to exit after SIGTERM when it gives up.
_GIVE_UP_GRACE = 5.0

_FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def cpu_count() -> int:
    """The number of processors of this machine (``os.cpu_count()``), 1 when unknown.

    The number of children ``fork_processes(0)`` starts.
    """
    return os.cpu_count() or 1


def task_id() -> int | None:
    """The task id (0..n-1) of this child of ``fork_processes``; None outside such a child."""
    return _task_id


def forbid_fork(reason: str) -> None:
    """Make ``fork_processes`` refuse to fork this process from now on, saying ``reason``.

    For a layer that holds something that cannot be shared by several processes (web's
    autoreload, a thread, a connection pool): the refusal (``ForkError``) is raised in the
    parent, before any child exists, and its message is ``"fork_processes() refused: "``
    followed by the reason(s). Only this process is marked, not the children it forks
    otherwise; there is no way back (as for an IOLoop created before forking).

    Args:
        reason: why, and what to do instead (``"autoreload is on: turn it off to fork"``).
    """
    global _forbidden_pid
    pid = os.getpid()
    if _forbidden_pid != pid:
        _forbidden_pid = pid
        _forbidden_reasons.clear()
    if reason not in _forbidden_reasons:
        _forbidden_reasons.append(reason)


def _check_can_fork() -> None:
    if _forbidden_pid == os.getpid() and _forbidden_reasons:
        raise ForkError("fork_processes() refused: " + "; ".join(_forbidden_reasons))
    event = ioloop_event_in_this_process()
    if event is not None:
        raise ForkAfterIOLoopError(
            f"fork_processes() refused: an IOLoop was already {event} in this process; "
            "each child would inherit a copy of it. Create the IOLoop (IOLoop.current(), "
            "IOLoop.start()) after forking, in each child."
        )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ForkAfterIOLoopError(
            "fork_processes() refused: called from inside a running asyncio event loop; "
            "fork before starting any loop"
        )
    if _task_id is not None:
        raise ForkError(f"fork_processes() refused: this process is already child {_task_id}")


def _block_signals() -> set[int | signal.Signals] | None:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED_SIGNALS)


def _unblock_signals(previous: set[int | signal.Signals] | None) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Supervisor:
    """The parent's side: forks, reaps, restarts, forwards signals."""

    def __init__(self, num_processes: int, max_restarts: int) -> None:
        self.num_processes = num_processes
        self.max_restarts = max_restarts
        self.children: dict[int, int] = {}  # pid -> task id
        self.restarts = 0
        self.stopping: int | None = None  # the signal that asked us to stop
        self.saved_handlers: dict[int, object] = {}

    # -- forking -------------------------------------------------------------------------

    def start_child(self, tid: int) -> int | None:
        """Fork a child for ``tid``. Returns ``tid`` in the child, None in the parent."""
        # Block the forwarded signals across fork(): a signal reaching the new child before
        # it restored the program's handlers would run the parent's forwarding handler there.
        blocked = _block_signals()
        try:
            pid = os.fork()
            if pid == 0:
                self._become_child(tid)
                return tid
            self.children[pid] = tid
        finally:
            _unblock_signals(blocked)
        if self.stopping is not None:
            # A stop signal arrived while we were forking: this child must go as well.
            self._kill(pid, signal.SIGTERM)
        return None

    def _become_child(self, tid: int) -> None:
        global _task_id
        _task_id = tid
        # The parent's forwarding handlers make no sense here: restore what the program had.
        for signum, handler in self.saved_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        # Children would otherwise share the parent's random state and draw the same numbers.
        random.seed()

    # -- signals -------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal works only in the main thread; no forwarding then.
        for signum in _FORWARDED_SIGNALS:
            self.saved_handlers[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)

    def restore_signal_handlers(self) -> None:
        for signum, handler in self.saved_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = signum
        for pid in list(self.children):
            self._kill(pid, signum)

    @staticmethod
    def _kill(pid: int, signum: int) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    # -- waiting -------------------------------------------------------------------------

    def supervise(self) -> int | None:
        """Wait for children, restarting as needed. Returns a task id in a new child."""
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            tid = self.children.pop(pid, None)
            if tid is None:
                continue
            if self.stopping is not None:
                continue
            if os.WIFSIGNALED(status):
                why = f"was killed by signal {os.WTERMSIG(status)}"
            elif os.WEXITSTATUS(status) != 0:
                why = f"exited with status {os.WEXITSTATUS(status)}"
            else:
                logger.info("child %d (pid %d) exited normally", tid, pid)
                continue
            if self.restarts >= self.max_restarts:
                self.give_up(tid, pid, why)
            self.restarts += 1
            logger.warning(
                "child %d (pid %d) %s; restarting (%d/%d)",
                tid,
                pid,
                why,
                self.restarts,
                self.max_restarts,
            )
            new_tid = self.start_child(tid)
            if new_tid is not None:
                return new_tid
        return None

    def give_up(self, tid: int, pid: int, why: str) -> None:
        """Stop the remaining children and raise TooManyRestartsError."""
        self.stopping = signal.SIGTERM
        for other in list(self.children):
            self._kill(other, signal.SIGTERM)
        deadline = time.monotonic() + _GIVE_UP_GRACE
        while self.children:
            try:
                pid_done, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid_done:
                self.children.pop(pid_done, None)
                continue
            if time.monotonic() > deadline:
                for other in list(self.children):
                    self._kill(other, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.05)
        self.restore_signal_handlers()
        raise TooManyRestartsError(
            f"fork_processes(): child {tid} (pid {pid}) {why}; giving up after "
            f"{self.restarts} restarts (max_restarts={self.max_restarts})",
            self.restarts,
        )


def fork_processes(num_processes: int | None, max_restarts: int | None = 100) -> int:
    """Fork ``num_processes`` children and supervise them; returns the task id in each child.

    In the parent this function does not return: it restarts a child that was killed by a
    signal or exited with a non-zero status (the new child gets the same task id), at most
    ``max_restarts`` times in all, and calls ``sys.exit(0)`` once every child has exited
    cleanly, or after forwarding a SIGTERM/SIGINT it received to the children and seeing
    them gone.

    Args:
        num_processes: how many children; None or <= 0 means one per CPU
            (:func:`cpu_count`).
        max_restarts: how many abnormal deaths are tolerated in total (None: 100).

    Returns:
        The task id of this child, from 0 to ``num_processes - 1`` (also :func:`task_id`).

    Raises:
        ForkAfterIOLoopError: an IOLoop was created or started in this process before.
        TooManyRestartsError: (in the parent) children died more than ``max_restarts``
            times; the remaining children are stopped first.
        ForkError: this process is already a child of ``fork_processes``.
    """
    _check_can_fork()
    if max_restarts is None:
        max_restarts = 100
    if num_processes is None or num_processes <= 0:
        num_processes = cpu_count()
    logger.info("starting %d processes", num_processes)
    supervisor = _Supervisor(num_processes, max_restarts)
    # Handlers go in before the first fork, so no signal is lost between forks; each child
    # restores the program's own handlers at once.
    supervisor.install_signal_handlers()
    for tid in range(num_processes):
        if supervisor.start_child(tid) is not None:
            return tid
    child_tid = supervisor.supervise()
    if child_tid is not None:
        return child_tid
    supervisor.restore_signal_handlers()
    sys.exit(0)
