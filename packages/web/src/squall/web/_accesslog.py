"""The default access log: one line per finished request on the ``squall.access`` logger.

``200 GET /path?q=1 (127.0.0.1) 0.42ms`` — at info for 1xx-3xx, warning for 4xx, error for
5xx. ``isEnabledFor`` is answered from the logging module's per-logger cache, so when the
level is off the cost is one dict lookup and nothing is formatted.

When the level is on, the record is built with ``makeRecord`` and passed to ``handle``
instead of ``logger.log(...)``: that skips ``findCaller`` (a walk up the stack, about a
fifth of the cost of a record) while giving the record the file and function that
``findCaller`` would have found (the line is that of ``log_request``'s ``def``), so
formatters showing ``%(module)s:%(lineno)d`` print ``_accesslog:NN`` as before.
Filters, handlers and propagation behave exactly as with ``logger.log``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from squall.web._handler import RequestHandler

access_log = logging.getLogger("squall.access")

INFO = logging.INFO
WARNING = logging.WARNING
ERROR = logging.ERROR

_FILE = __file__
_LINE = 0  # set below to the first line of log_request (where findCaller would point)


def log_request(handler: RequestHandler) -> None:
    """Write the access-log line of ``handler``'s finished request."""
    status = handler._status_code
    level = INFO if status < 400 else WARNING if status < 500 else ERROR
    logger = access_log
    if not logger.isEnabledFor(level):
        return
    request = handler.request
    record = logger.makeRecord(
        logger.name,
        level,
        _FILE,
        _LINE,
        "%d %s %.2fms",
        (
            status,
            f"{request.method} {request.uri} ({request.remote_ip})",
            1000.0 * request.request_time(),
        ),
        None,
        "log_request",
    )
    logger.handle(record)


_LINE = log_request.__code__.co_firstlineno
