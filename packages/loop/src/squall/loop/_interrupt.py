"""Ctrl-C while ``IOLoop.start()`` or ``run_sync()`` runs: stop first, then KeyboardInterrupt.

Python's own SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread happens
to be. Under uvloop that can be inside a transport's callback (``data_received``,
``eof_received`` of a server's connection), where uvloop catches it, logs "Fatal error on
transport" and carries on: the Ctrl-C is lost and the server keeps running. While the loop
runs, :class:`SigintToStop` puts a handler in its place that only asks the loop to stop
(or cancels ``run_sync``'s work); the ``KeyboardInterrupt`` is raised once the loop has
returned, in the caller of ``start()``, as ``asyncio.run()`` does for its main task.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType


class SigintToStop:
    """A context manager: while inside, SIGINT calls ``on_interrupt`` instead of raising.

    Installed only in the main thread and only over Python's default SIGINT handler: a
    handler the program set itself (or SIGINT ignored) is left alone. A second Ctrl-C
    before the loop has stopped (a callback that never returns) raises at once, as
    Python's handler would.

    Args:
        on_interrupt: called from the signal handler; must be safe there
            (``IOLoop.stop``, ``loop.call_soon_threadsafe``).
    """

    def __init__(self, on_interrupt: Callable[[], object]) -> None:
        self._on_interrupt = on_interrupt
        self._installed = False
        self.interrupted = False
        """True once a SIGINT came while inside: the caller raises KeyboardInterrupt."""

    def __enter__(self) -> SigintToStop:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            self._installed = False
            # Put Python's handler back unless the program replaced ours meanwhile.
            if signal.getsignal(signal.SIGINT) == self._handle:
                signal.signal(signal.SIGINT, signal.default_int_handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self._on_interrupt()
