"""The access log when squall.options configured logging: a direct path into its log file.

web's access log builds a ``LogRecord`` per request and hands it to the ``squall.access``
logger, which hands it to each handler, which formats it. With logging set up by
``--log_file_prefix`` and nothing else in the way, all that machinery ends in one place:
the buffered log file writing one ``LogFormatter`` line. This function writes that same
line there directly: the record, the handler chain and the general formatter are most of
what an access-log line costs. ``benchmarks/RESULTS.md``, table "accesslog" (``nox -s bench
-- --only accesslog``): 20.1 µs of server CPU per hello-world request with the log off,
22.2 with this path, 58.5 through the stdlib's ``FileHandler``.

The direct path is taken only when it cannot change what anyone sees, checked on every
call (a few attribute reads), so logging reconfigured at run time is honoured at once:

- ``squall.access`` is enabled for the level (its level, the root's, ``logging.disable``);
- no logger from ``squall.access`` up to the root has a filter, and none but the root has
  a handler (all propagate);
- the root has exactly one handler: a log file squall.options made (``BufferedRotating…``
  exactly, no filter, a level that lets the line through) with an uncoloured
  ``LogFormatter`` exactly;
- the record factory is the stdlib's (a custom factory may add fields or side effects).

Otherwise, and if writing fails, web's own ``log_request`` runs: a real record through the
logger. Both paths write the same bytes: ``module:line`` is that of web's ``log_request``.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from squall.options._logfile import BufferedRotatingFileHandler, BufferedTimedRotatingFileHandler
from squall.options._logging import LogFormatter

if TYPE_CHECKING:
    from squall.web import RequestHandler

_FILE_HANDLERS = (BufferedRotatingFileHandler, BufferedTimedRotatingFileHandler)
_RECORD = logging.LogRecord


def _direct_handler(
    logger: logging.Logger, root: logging.Logger, level: int
) -> BufferedRotatingFileHandler | BufferedTimedRotatingFileHandler | None:
    """The one log file the line would reach unchanged, or None (see the module docstring)."""
    if logging.getLogRecordFactory() is not _RECORD:
        return None
    node: logging.Logger | None = logger
    while node is not root:
        if node is None or node.filters or node.handlers or not node.propagate:
            return None
        node = node.parent
    if root.filters or len(root.handlers) != 1:
        return None
    handler = root.handlers[0]
    if type(handler) not in _FILE_HANDLERS or handler.filters or level < handler.level:
        return None
    formatter = handler.formatter
    if type(formatter) is not LogFormatter or formatter.color or formatter.fmt is not None:
        return None
    return handler  # type: ignore[return-value]


class _Batch:
    """The access-log lines of one event-loop iteration, written together at its end.

    Why batch: formatting a line right after each response cost about twice what the same
    formatting cost batched (the request path has pushed the logging code and data out of
    the CPU's caches). Measured while building this, with throw-away variants of the
    benchmark's access-log server (+4.5 µs/request formatted per request, +2 batched);
    the variants are not kept in the repository. A batch holds
    the finished handlers (their request and status) until the callback the first of them
    scheduled runs, a few microseconds later, in the same loop iteration.
    """

    __slots__ = ("__weakref__", "flush", "items")

    def __init__(self) -> None:
        self.items: list[tuple[RequestHandler, int, int]] = []  # handler, status, level
        self.flush: Callable[[], None] = self.items.clear


_batches: weakref.WeakSet[_Batch] = weakref.WeakSet()


def _forget_in_child() -> None:
    """A forked child must not write the lines its parent will write."""
    for batch in list(_batches):
        batch.items.clear()


def _flush_at_exit() -> None:
    """Write the lines of a loop that stopped before its batch's callback ran.

    Registered after ``logging`` registered ``logging.shutdown`` (atexit is LIFO), so this
    runs while the log file is still open.
    """
    for batch in list(_batches):
        batch.flush()


os.register_at_fork(after_in_child=_forget_in_child)
atexit.register(_flush_at_exit)


def make_access_log(
    default: Callable[[RequestHandler], None],
) -> Callable[[RequestHandler], None]:
    """An access-log function writing straight to squall.options' log file when it can.

    Args:
        default: web's access-log function (``squall.web.log_request``), used whenever the
            direct path does not apply; its module and first line are what both paths show.
    """
    logger = logging.getLogger("squall.access")
    root = logging.getLogger()
    module = default.__module__.rpartition(".")[2]
    lineno = default.__code__.co_firstlineno
    info, warning, error = logging.INFO, logging.WARNING, logging.ERROR
    is_enabled = logger.isEnabledFor
    now = time.time
    batch = _Batch()
    _batches.add(batch)
    items = batch.items
    # The lines' prefixes ("[I 261124 01:58:08 _accesslog:33] ") change once a second.
    prefixes: dict[int, str] = {}
    cached: list[Any] = [-1, None]  # the second and the formatter of ``prefixes``

    def write(pending: list[tuple[RequestHandler, int, int]]) -> None:
        low = min(level for _, _, level in pending)
        target = _direct_handler(logger, root, low)
        if target is None:  # logging was reconfigured since the batch began
            for handler, _, _ in pending:
                default(handler)
            return
        created = now()
        formatter = target.formatter
        if cached[0] != int(created) or cached[1] is not formatter:
            prefixes.clear()
            cached[:] = (int(created), formatter)
        terminator = target.terminator
        lines = []
        high = low
        for handler, status, level in pending:
            prefix = prefixes.get(level)
            if prefix is None:
                prefix = formatter.line(  # type: ignore[union-attr]
                    logging.getLevelName(level), created, module, lineno, ""
                )
                prefixes[level] = prefix
            if level > high:
                high = level
            request = handler.request
            # The bytes of web's "%d %s %.2fms" % (status, "METHOD URI (IP)", ms) as
            # LogFormatter formats them, built in one step.
            lines.append(
                f"{prefix}{status} {request.method} {request.uri} ({request.remote_ip}) "
                f"{1000.0 * request.request_time():.2f}ms{terminator}"
            )
        text = "".join(lines)
        with target.lock:  # type: ignore[union-attr]
            try:
                target.write_line(text, high, created)
            except Exception:
                # Reported as the stdlib reports a handler's failure (a "--- Logging error
                # ---" block on stderr), not retried through the record path: part of the
                # text may already be in the file.
                target.handleError(
                    logging.makeLogRecord({"name": logger.name, "levelno": high, "msg": text})
                )

    def flush_batch() -> None:
        # Through ``batch`` (the same list as ``items``): the closure then keeps the batch
        # alive as long as the Application's log function, so the exit hook finds it.
        if batch.items:
            pending = batch.items[:]
            batch.items.clear()
            write(pending)

    batch.flush = flush_batch

    def log_request(handler: RequestHandler) -> None:
        status = handler.get_status()
        level = info if status < 400 else warning if status < 500 else error
        if not is_enabled(level):
            return
        if items:  # a batch is open in this loop iteration: its callback checks the rest
            items.append((handler, status, level))
            return
        if _direct_handler(logger, root, level) is None:
            default(handler)
            return
        items.append((handler, status, level))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside a loop (a test, a thread): write it now
            flush_batch()
            return
        loop.call_soon(flush_batch)

    return log_request
