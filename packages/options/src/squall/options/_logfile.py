"""The log file of ``--log_file_prefix``: rotating, and buffered so a busy server stays fast.

Why not the stdlib's rotating handlers as they are: per record they flush (one ``write``
system call per log line) and, in size mode, format the record twice and ask the file for
its position (and, since 3.11, whether the path is a regular file). With the access log
on, that is most of what a request costs (``benchmarks/RESULTS.md``, table "accesslog":
through the stdlib ``FileHandler`` a hello-world request takes 58.5 µs of server CPU, 20.1
with the log off).

These handlers keep the stdlib's rotation (file names, ``backupCount``, the ``when`` and
``interval`` arithmetic: they subclass it) and change how lines reach the disk:

- lines go into the file object's buffer; the buffer is written out at most
  ``flush_interval`` seconds after the first unwritten line (a timer thread that exists only
  while something is waiting), when it fills, at once for a record at WARNING or above (so
  an error is on disk when it is logged), on ``flush()``/``close()`` and at interpreter exit
  (``logging.shutdown``), and before ``os.fork()`` (a child must not write its parent's
  buffered lines a second time);
- the size used for size rotation is counted as lines are written, not asked of the file.

``flush_interval=0`` restores the stdlib's behaviour: every line is written at once. The
price of the default is that a process killed with SIGKILL (or a power loss) loses at most
the last ``flush_interval`` seconds of INFO lines; nginx's ``access_log ... flush=`` makes
the same trade. SIGTERM (``kill``, systemd, ``docker stop``) loses nothing: while its
disposition is the default one, the buffers are written out before the process dies of it.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import stat
import threading
import weakref
from io import TextIOWrapper
from typing import Any

BUFFER_SIZE = 64 * 1024
"""Bytes of log text held before a write to the file, whatever the interval."""

_live: weakref.WeakSet[_BufferedFile] = weakref.WeakSet()


def _check_interval(flush_interval: float) -> None:
    if not flush_interval >= 0:  # also refuses NaN
        raise ValueError(f"flush_interval must be >= 0 seconds, not {flush_interval!r}")


class _BufferedFile:
    """The buffering shared by both rotating handlers (a mixin over the stdlib's)."""

    # Provided by the stdlib handler this is mixed into.
    baseFilename: str
    mode: str
    encoding: str | None
    errors: str | None
    stream: Any
    terminator: str
    lock: threading.RLock | None

    flush_interval: float
    _size: int
    _regular: bool
    _timer: threading.Timer | None

    def _setup_buffering(self, flush_interval: float) -> None:
        # _size and _regular were set by _open: the stdlib handler opened the file already.
        self.flush_interval = flush_interval
        self._timer = None
        _live.add(self)
        if flush_interval > 0:
            _flush_on_sigterm()

    def _open(self) -> TextIOWrapper:
        """Open the file with a large buffer (the stdlib opens it with the default 8 KiB)."""
        # The mode is always a text mode ("a" or "w"): the stdlib handler's contract.
        stream: TextIOWrapper = open(  # type: ignore[assignment]  # noqa: SIM115
            self.baseFilename,
            self.mode,
            buffering=BUFFER_SIZE,
            encoding=self.encoding,
            errors=self.errors,
        )
        info = os.fstat(stream.fileno())
        self._size = info.st_size
        # /dev/stdout or a FIFO as the log file: never renamed (the stdlib's rule too).
        self._regular = stat.S_ISREG(info.st_mode)
        return stream

    def _rollover_due(self, size: int, created: float) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def emit(self, record: logging.LogRecord) -> None:
        """Format ``record`` and write its line (see :meth:`write_line`)."""
        try:
            line = self.format(record) + self.terminator  # type: ignore[attr-defined]
            self.write_line(line, record.levelno, record.created)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)  # type: ignore[attr-defined]

    def write_line(self, line: str, levelno: int, created: float) -> None:
        """Append one formatted line; the caller holds the handler's lock.

        Rotates first when the line would take the file past its size or the rotation time
        has come, then buffers the line and writes the buffer out now (WARNING and above,
        or ``flush_interval == 0``) or schedules that.
        """
        size = len(line) if line.isascii() else len(line.encode(self.encoding or "utf-8"))
        if self._regular and self._rollover_due(size, created):
            self._cancel_timer()
            self.doRollover()  # type: ignore[attr-defined]  # reopens: _open resets _size
        if self.stream is None:
            self.stream = self._open()
        self.stream.write(line)
        self._size += size
        if levelno >= logging.WARNING or self.flush_interval == 0:
            self.stream.flush()
        elif self._timer is None:
            timer = threading.Timer(self.flush_interval, self._flush_from_timer)
            timer.daemon = True
            timer.name = "squall-log-flush"
            try:
                timer.start()
            except RuntimeError:
                # No new thread at interpreter shutdown (3.12+), when atexit hooks log:
                # write at once instead.
                self.stream.flush()
                return
            self._timer = timer

    def _flush_from_timer(self) -> None:
        lock = self.lock
        if lock is None:
            return
        with lock:
            self._timer = None
            stream = self.stream
            if stream is not None and not stream.closed:
                try:
                    stream.flush()
                except OSError:
                    # A full disk must not kill the timer thread with a traceback on
                    # stderr; the next WARNING (or close) reports it through handleError.
                    pass

    def _cancel_timer(self) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None

    def close(self) -> None:
        """Write out what is buffered, stop the timer and close the file."""
        self._cancel_timer()
        super().close()  # type: ignore[misc]  # FileHandler.close flushes, then closes


class BufferedRotatingFileHandler(_BufferedFile, logging.handlers.RotatingFileHandler):
    """A ``RotatingFileHandler`` (rotation by size) that buffers its lines.

    Args:
        filename: the log file.
        max_bytes: rotate before a line would take the file to this size (0: never).
        backup_count: rotated files kept (``file.1`` … ``file.N``).
        flush_interval: seconds a line may wait in the buffer (0: write every line at once).
        encoding: the file's encoding.
    """

    def __init__(
        self,
        filename: str,
        max_bytes: int = 0,
        backup_count: int = 0,
        flush_interval: float = 1.0,
        encoding: str | None = "utf-8",
    ) -> None:
        _check_interval(flush_interval)  # before the file is opened
        super().__init__(filename, maxBytes=max_bytes, backupCount=backup_count, encoding=encoding)
        self._setup_buffering(flush_interval)

    def _rollover_due(self, size: int, created: float) -> bool:
        return self.maxBytes > 0 and self._size > 0 and self._size + size >= self.maxBytes


class BufferedTimedRotatingFileHandler(_BufferedFile, logging.handlers.TimedRotatingFileHandler):
    """A ``TimedRotatingFileHandler`` (rotation by time) that buffers its lines.

    Args:
        filename: the log file.
        when: the unit of ``interval`` (``'S'``, ``'M'``, ``'H'``, ``'D'``, ``'W0'``-``'W6'``,
            ``'midnight'``), as in the stdlib.
        interval: rotate every this many units.
        backup_count: rotated files kept.
        flush_interval: seconds a line may wait in the buffer (0: write every line at once).
        encoding: the file's encoding.
    """

    def __init__(
        self,
        filename: str,
        when: str = "midnight",
        interval: int = 1,
        backup_count: int = 0,
        flush_interval: float = 1.0,
        encoding: str | None = "utf-8",
    ) -> None:
        _check_interval(flush_interval)  # before the file is opened
        super().__init__(
            filename, when=when, interval=interval, backupCount=backup_count, encoding=encoding
        )
        self._setup_buffering(flush_interval)

    def _rollover_due(self, size: int, created: float) -> bool:
        return created >= self.rolloverAt


def _write_out_buffers() -> None:
    """Write out every live handler's buffer (a handler busy for over a second is skipped)."""
    for handler in list(_live):
        lock = handler.lock
        if lock is None or not lock.acquire(timeout=1.0):
            continue
        try:
            stream = handler.stream
            if stream is not None and not stream.closed:
                stream.flush()
        except (OSError, RuntimeError):
            # RuntimeError: the signal came in the middle of this thread's own write to the
            # file (a reentrant flush is refused); what is buffered is lost, as at SIGKILL.
            pass
        finally:
            lock.release()


def _on_sigterm(signum: int, frame: object) -> None:
    """Write out the buffers, then die of the signal as the default disposition would."""
    _write_out_buffers()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _flush_on_sigterm() -> None:
    """Make SIGTERM write out the buffers first, when nothing else handles it.

    With the default disposition the process dies at once, without ``logging.shutdown``,
    and the last ``flush_interval`` seconds of INFO lines (the access log of the last
    requests) would be lost on every ``kill``. A handler the application sets (before or
    after this: squall.http's graceful shutdown, say) stays its own: its normal exit runs
    ``logging.shutdown``, which writes the buffers out. The process still ends by the
    signal (exit status 128 + 15 in a shell), as it would without squall.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set a handler; such a program keeps the default
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _flush_before_fork() -> None:
    """Write out every buffer, so the child does not inherit (and write again) its lines.

    The waiting timer threads are stopped first (the next line starts a new one), so a
    fork after some logging is not a fork of a multi-threaded process (which Python 3.12+
    warns about, rightly: a thread holding a lock at that moment leaves it held forever in
    the child).
    """
    for handler in list(_live):
        timer = handler._timer
        if timer is not None:
            timer.cancel()
            if timer is not threading.current_thread():
                timer.join(1.0)
            handler._timer = None
    _write_out_buffers()


def _forget_timers_in_child() -> None:
    """The timer threads did not survive the fork: let the next line start a new one."""
    for handler in list(_live):
        handler._timer = None


os.register_at_fork(before=_flush_before_fork, after_in_child=_forget_timers_in_child)
