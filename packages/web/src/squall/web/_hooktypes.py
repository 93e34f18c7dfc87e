"""Values that hook implementations return (kept apart so built-in plugins can import them).

``_plugins`` imports web's built-in plugins at load time; a plugin that returns one of these
imports it from here, not from ``_plugins``, so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from squall.web._handler import RequestHandler


# A NamedTuple, not a dataclass: ≈ 0.1 ms to create at import instead of ≈ 0.5-1 ms.
class RequestHooks(NamedTuple):
    """Per-request callables returned by ``squall_web_request_hooks``.

    Attributes:
        before: ``f(handler)`` run after ``initialize`` and before ``prepare``; may return an
            awaitable (awaited) and may finish the request (then ``prepare`` and the method
            do not run).
        after: ``f(handler)`` run once the response is finished, before ``on_finish``.
    """

    before: Callable[[RequestHandler], Any] | None = None
    after: Callable[[RequestHandler], Any] | None = None
