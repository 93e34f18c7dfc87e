"""The default access log: one line per finished request on the ``squall.access`` logger.

``200 GET /path?q=1 (127.0.0.1) 0.42ms`` — at info for 1xx-3xx, warning for 4xx, error for
5xx. ``isEnabledFor`` is answered from the logging module's per-logger cache, so when the
level is off the cost is one dict lookup and nothing is formatted; when it is on, the
message is still formatted lazily by ``logging`` (only if a handler emits it).
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


def log_request(handler: RequestHandler) -> None:
    """Write the access-log line of ``handler``'s finished request."""
    status = handler._status_code
    level = INFO if status < 400 else WARNING if status < 500 else ERROR
    if not access_log.isEnabledFor(level):
        return
    request = handler.request
    access_log.log(
        level,
        "%d %s %.2fms",
        status,
        f"{request.method} {request.uri} ({request.remote_ip})",
        1000.0 * request.request_time(),
    )
