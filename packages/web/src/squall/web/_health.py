"""web's built-in health route: the ``health_path`` setting (for balancers such as nginx).

``Application(..., health_path="/healthz")`` adds a route answering ``200 ok`` while the
application serves and ``503 draining`` once ``Application.shutdown()`` has begun. During a
graceful HTTP shutdown the listening sockets are closed first, so a balancer that opens a new
connection to check health is refused at once: either way it stops sending work to a process
that is going away. The route is added through the same hooks as any plugin's routes, placed
before the application's own rules, and is off unless the setting is given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from squall.web._handler import RequestHandler
from squall.web._settings import SettingsRegistry, StashKey
from squall.web.hookspecs import hookimpl

if TYPE_CHECKING:
    from squall.web._application import Application


class HealthState:
    """Whether the application is draining (shutdown began)."""

    # A plain class, not a dataclass: creating a dataclass costs ≈ 0.5-1 ms at import.
    __slots__ = ("draining",)

    def __init__(self, draining: bool = False) -> None:
        self.draining = draining

    def __repr__(self) -> str:
        return f"HealthState(draining={self.draining!r})"


HEALTH: StashKey[HealthState] = StashKey()


def _valid_path(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.startswith("/"))


class HealthHandler(RequestHandler):
    """Answers ``ok`` (200) or ``draining`` (503); never cached."""

    def initialize(self, state: HealthState) -> None:
        self._state = state

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        if self._state.draining:
            self.set_status(503)
            self.finish("draining\n")
        else:
            self.finish("ok\n")

    def compute_etag(self) -> None:
        return None


@hookimpl
def squall_web_add_settings(registry: SettingsRegistry) -> None:
    """Declare ``health_path``."""
    registry.add(
        "health_path",
        default=None,
        owner="squall-web",
        validate=_valid_path,
        doc="path of a health route (200 ok / 503 draining) for balancers; None: no route",
    )


@hookimpl
def squall_web_configure(app: Application) -> None:
    """Keep the draining flag of this application."""
    app.stash[HEALTH] = HealthState()


@hookimpl
def squall_web_routes(app: Application) -> Sequence[Any] | None:
    """The health route, when ``health_path`` is set."""
    path = app.settings.get("health_path")
    if path is None:
        return None
    return [(re.escape(path), HealthHandler, {"state": app.stash[HEALTH]})]


@hookimpl
def squall_web_shutdown(app: Application) -> None:
    """From now on the health route answers 503."""
    app.stash[HEALTH].draining = True
