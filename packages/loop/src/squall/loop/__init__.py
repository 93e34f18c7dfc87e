"""squall.loop: An IOLoop over asyncio (epoll on Linux), `fork_processes`, `bind_sockets`, `PeriodicCallback`."""

from __future__ import annotations

from squall.loop._version import __version__

__all__ = ["__version__"]
