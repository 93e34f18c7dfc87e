"""What ``squall run --interface asgi|wsgi module:app`` serves (web's CLI loads this by name).

squall-web's command must not import squall.asgi (web knows no package above it): it
imports this module by name at run time and calls ``cli_app(obj, interface)``, which
returns an object of the shape its ``serve()`` drives for an Application: an http request
callback (a delegate factory for ASGI, a plain callable for WSGI) with ``startup()`` and
``shutdown(timeout)`` coroutines (the ASGI lifespan; nothing for WSGI).
"""

from __future__ import annotations

from typing import Any

from squall.asgi._server import ASGIBridge
from squall.asgi._wsgi import WSGIContainer
from squall.http import HTTPServerRequest

__all__ = ["CLIAppError", "cli_app"]


class CLIAppError(ValueError):
    """The object named on the command line cannot be served with that ``--interface``."""


class _WSGIServed(WSGIContainer):
    """A WSGIContainer with the ``startup``/``shutdown`` the command calls."""

    async def startup(self) -> None:
        """Nothing to start: WSGI has no lifespan."""

    async def shutdown(self, timeout: float | None = 10.0) -> None:
        """Let the thread pool's threads end once their calls are done."""
        self.executor.shutdown(wait=False)

    def __call__(self, request: HTTPServerRequest) -> Any:
        return self.handle_request(request)


def cli_app(obj: object, interface: str, target: str) -> Any:
    """The servable object for ``obj`` under ``interface`` (``"asgi"`` or ``"wsgi"``).

    Raises:
        CLIAppError: ``obj`` is a squall.web Application (served without ``--interface``),
            is not callable, or ``interface`` is unknown.
    """
    if hasattr(obj, "start_request"):
        raise CLIAppError(
            f"{target} is a squall.web Application: serve it without --interface {interface}"
        )
    if not callable(obj):
        raise CLIAppError(f"{target} is a {type(obj).__name__}, not an {interface.upper()} app")
    if interface == "asgi":
        return ASGIBridge(obj)
    if interface == "wsgi":
        return _WSGIServed(obj)
    raise CLIAppError(f"unknown interface {interface!r}: asgi or wsgi")
