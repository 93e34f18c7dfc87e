"""Values that hook implementations return (kept apart so built-in plugins can import them).

``_plugins`` imports web's built-in plugins at load time; a plugin that returns one of these
imports it from here, not from ``_plugins``, so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from squall.http import HTTPHeaders, HTTPServerRequest
    from squall.web._handler import RequestHandler


# A NamedTuple, not a dataclass: ≈ 0.1 ms to create at import instead of ≈ 0.5-1 ms.
class RequestHooks(NamedTuple):
    """Per-request callables returned by ``squall_web_request_hooks``.

    Attributes:
        before: ``f(handler)`` run after ``initialize`` and before ``prepare``; may return an
            awaitable (awaited) and may finish the request (then ``prepare`` and the method
            do not run).
        after: ``f(handler)`` run once the response is finished, before ``on_finish``.
        complete: ``f(handler, exception)`` run once per request when the response is
            finished, after every ``after``: ``exception`` is what the handler's code
            (a before-hook, ``prepare``, the method) raised, or None; ``HTTPError``
            included, ``Finish`` not. ``handler.get_status()`` is the status sent. It runs
            for every request, also those no ``before`` saw (a 405). Its return value is
            ignored; an exception it raises is logged. What tracing and metrics plugins
            use to close a span opened in ``before``.
    """

    before: Callable[[RequestHandler], Any] | None = None
    after: Callable[[RequestHandler], Any] | None = None
    complete: Callable[[RequestHandler, BaseException | None], Any] | None = None


class OutputTransform:
    """A per-request filter of the response: status, headers, then every body chunk.

    Tornado's ``OutputTransform`` shape. A *factory* (a plugin's ``squall_web_transforms``,
    the ``transforms`` setting, ``Application.add_transform``) is called once per request
    with the ``HTTPServerRequest`` and returns an object with these two methods; a subclass
    of this class (called with the request) is such a factory. The base class passes
    everything through unchanged.

    The handler calls ``transform_first_chunk`` exactly once, when the headers go out (the
    first ``flush()``, or ``finish()`` of a response never flushed), then
    ``transform_chunk`` for each later ``flush()`` and once more from ``finish()``
    (``finishing=True``, the chunk possibly empty). Transforms run in order, each getting
    what the previous one returned.
    """

    def __init__(self, request: HTTPServerRequest) -> None:
        self.request = request

    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        """Change the status, the headers (mutable) and the first chunk of the body.

        Args:
            status_code: the status being sent (a 304 or 204 comes with an empty chunk).
            headers: the response headers, an ``HTTPHeaders`` the transform may edit.
            chunk: the body so far (the whole body when ``finishing``).
            finishing: True when this is also the last chunk (``finish()`` of a response
                never flushed: its ``Content-Length`` is computed after the transforms).
        """
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        """Change a later chunk of a streamed body (``finishing``: the last one)."""
        return chunk


TransformFactory = Callable[["HTTPServerRequest"], Any]
"""What builds a request's transform: ``f(request)`` returning an ``OutputTransform``-shaped
object (an ``OutputTransform`` subclass is one)."""
