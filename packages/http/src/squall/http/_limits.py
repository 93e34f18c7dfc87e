"""The limits of squall.http, as one frozen parameter object passed down explicitly.

Each default names its precedent, so that a reader can tell a considered number from a
guess. ``HTTPServer(limits=HTTPLimits(...))`` or ``HTTPServer(max_body_size=...)`` (keyword
overrides of single fields) set them; the web layer may lower ``max_body_size`` per handler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HTTPLimits:
    """Sizes, counts and timeouts that bound what one client can make the server do."""

    max_request_line_size: int = 8 * 1024
    """Request line, bytes; over it → 414.
    nginx `large_client_header_buffers` 8k, h11 uses 16k for the whole head."""

    max_header_size: int = 64 * 1024
    """Whole header block, bytes; over it → 431. Tornado `max_header_size` 64 KiB."""

    max_headers: int = 100
    """Number of header lines; over it → 431. Apache `LimitRequestFields` 100."""

    max_body_size: int = 100 * 1024 * 1024
    """Decoded request body, bytes; over it → 413. Tornado `max_body_size` 100 MiB."""

    spool_threshold: int = 1024 * 1024
    """Bodies and uploaded files larger than this go to a temporary file, not memory.
    Starlette/`python-multipart` spool at 1 MiB."""

    max_fields: int = 1000
    """Form or query fields per request; over it → 400.
    Django `DATA_UPLOAD_MAX_NUMBER_FIELDS` 1000."""

    max_multipart_parts: int = 1000
    """Parts in one multipart body; over it → 413. Starlette `max_parts` 1000."""

    max_part_header_size: int = 16 * 1024
    """Header block of one multipart part, bytes; over it → 400.
    Werkzeug 8 KiB, doubled for long filenames."""

    max_chunk_size_digits: int = 16
    """Hex digits of a chunk-size line (2**64 - 1 fits); more → 400 (overflow)."""

    max_chunk_ext_size: int = 4 * 1024
    """Chunk-size line including extensions, bytes; over it → 400. llhttp bounds extensions too."""

    idle_connection_timeout: float | None = 3600.0
    """Seconds a keep-alive connection may wait for its next request line; Tornado 3600 s."""

    header_timeout: float | None = 30.0
    """Seconds to receive a whole request head once it began; slowloris guard.
    Apache `RequestReadTimeout` header=20-40. A lower `idle_connection_timeout` bounds the
    head instead (Tornado bounds the head by it)."""

    body_timeout: float | None = 60.0
    """Seconds without progress while reading a body.
    Tornado has none by default, nginx `client_body_timeout` 60 s."""

    body_min_rate: float | None = 500.0
    """Bytes per second a body must average once `body_min_rate_grace` seconds have passed,
    else 408: a body trickled a byte at a time cannot hold a connection for hours. Each
    `body_min_rate` bytes received buy one more second; time the server itself paused
    reading (a streaming handler's flow control) is not counted. None turns it off.
    Apache mod_reqtimeout's default `body=20,MinRate=500`; 500 B/s is 4 kbit/s, a tenth of
    a 2G (GPRS) uplink."""

    body_min_rate_grace: float = 20.0
    """Seconds of a body before `body_min_rate` applies (mod_reqtimeout `body=20`)."""

    max_pending_responses: int = 32
    """Pipelined requests parsed ahead of their answers; reading pauses past it (bounded memory).
    The current Protocol parses none ahead: it answers one request at a time and pauses
    reading once 64 KiB of pipelined bytes wait, which is stricter than this bound."""

    chunk_size: int = 64 * 1024
    """Most bytes a streaming handler's ``data_received`` gets in one call (Tornado's
    ``chunk_size``, same default): a larger read, or the inflated output of a compressed
    body, is handed over in pieces, each after the previous call's awaitable is done."""

    write_high_water: int = 256 * 1024
    """Transport buffer size above which `write()` waits (asyncio default is 64 KiB)."""

    def __post_init__(self) -> None:
        size = self.chunk_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"chunk_size must be a positive int number of bytes, not {size!r}")
        # A rate of 0 would divide by zero in the body timer; refuse it here, by name.
        rate = self.body_min_rate
        if rate is not None and not (isinstance(rate, int | float) and rate > 0):
            raise ValueError(f"body_min_rate must be a positive number or None, not {rate!r}")
        grace = self.body_min_rate_grace
        if not (isinstance(grace, int | float) and grace >= 0):
            raise ValueError(f"body_min_rate_grace must be a number >= 0, not {grace!r}")


def checked_max_body_size(max_body_size: object) -> int:
    """``max_body_size`` as ``connection.set_max_body_size()`` accepts it (bytes, >= 0).

    Shared by every connection that offers the method (squall.http's, squall-asgi's).

    Raises:
        TypeError: not an int.
        ValueError: negative.
    """
    if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
        raise TypeError(f"set_max_body_size() needs an int number of bytes, not {max_body_size!r}")
    if max_body_size < 0:
        raise ValueError(f"set_max_body_size() needs a size >= 0, not {max_body_size!r}")
    return max_body_size


def checked_body_timeout(timeout: object) -> float | None:
    """``timeout`` as ``connection.set_body_timeout()`` accepts it (seconds > 0, or None).

    Raises:
        TypeError: not a number (nor None).
        ValueError: not positive, or not finite.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"set_body_timeout() needs a number of seconds or None, not {timeout!r}")
    if not 0 < timeout < math.inf:
        raise ValueError(f"set_body_timeout() needs seconds > 0, not {timeout!r}")
    return timeout
