"""Which asyncio event loop implementation squall uses: uvloop or plain asyncio.

Rules, in order:

1. An explicit ``use_uvloop`` argument wins: ``True`` demands uvloop (error if missing),
   ``False`` forces plain asyncio.
2. Otherwise the environment variable ``SQUALL_NO_UVLOOP`` set to anything but ``""``/``"0"``
   forces plain asyncio (the switch an operator can flip without touching code).
3. Otherwise uvloop is used when it can be imported (``pip install uvloop``),
   plain asyncio when it cannot.

The import of uvloop is attempted once and cached: a failing import is slow to repeat.
"""

from __future__ import annotations

import asyncio
import os
from types import ModuleType

from squall.loop._errors import UvloopUnavailableError

ENV_NO_UVLOOP = "SQUALL_NO_UVLOOP"

_uvloop_module: ModuleType | None = None
_uvloop_checked = False


def _import_uvloop() -> ModuleType | None:
    global _uvloop_module, _uvloop_checked
    if not _uvloop_checked:
        try:
            import uvloop
        except ImportError:
            _uvloop_module = None
        else:
            _uvloop_module = uvloop
        _uvloop_checked = True
    return _uvloop_module


def uvloop_wanted(use_uvloop: bool | None = None) -> bool:
    """Tell whether the rules above choose uvloop.

    Raises:
        UvloopUnavailableError: ``use_uvloop`` is True but uvloop is not installed.
    """
    if use_uvloop is None:
        if os.environ.get(ENV_NO_UVLOOP, "") not in ("", "0"):
            return False
        return _import_uvloop() is not None
    if use_uvloop and _import_uvloop() is None:
        raise UvloopUnavailableError(
            "use_uvloop=True but uvloop is not installed: pip install uvloop "
            "(what squall-loop's extra [uvloop] brings)"
        )
    return use_uvloop


def new_event_loop(use_uvloop: bool | None = None) -> asyncio.AbstractEventLoop:
    """Create a new asyncio event loop: uvloop's or the standard one (see the module rules).

    Args:
        use_uvloop: True to demand uvloop, False for plain asyncio, None (default) to use
            uvloop when installed unless ``SQUALL_NO_UVLOOP=1``.

    Raises:
        UvloopUnavailableError: ``use_uvloop`` is True but uvloop is not installed.
    """
    if uvloop_wanted(use_uvloop):
        uvloop = _import_uvloop()
        assert uvloop is not None
        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    # An explicit SelectorEventLoop (epoll on Linux) rather than asyncio.new_event_loop():
    # a policy installed by someone else must not override an explicit False.
    return asyncio.SelectorEventLoop()


class SquallEventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """An asyncio policy whose new loops follow squall's uvloop choice.

    Written here rather than using ``uvloop.EventLoopPolicy`` so that the choice (argument,
    environment) is the same everywhere and no deprecated uvloop API is touched.
    """

    def __init__(self, use_uvloop: bool | None = None) -> None:
        super().__init__()
        self._use_uvloop = use_uvloop

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        """A new loop chosen by :func:`new_event_loop` with this policy's ``use_uvloop``."""
        return new_event_loop(self._use_uvloop)


def install_loop_policy(use_uvloop: bool | None = None) -> None:
    """Make ``asyncio.run``/``asyncio.new_event_loop`` create loops by squall's choice.

    Optional: ``IOLoop`` and :func:`new_event_loop` apply the choice without it. Call it
    before ``asyncio.run(main())`` to get uvloop there too.
    """
    uvloop_wanted(use_uvloop)  # fail now, not at the first loop, when uvloop is missing
    asyncio.set_event_loop_policy(SquallEventLoopPolicy(use_uvloop))


def is_uvloop(loop: asyncio.AbstractEventLoop) -> bool:
    """Tell whether ``loop`` is a uvloop loop."""
    return type(loop).__module__.startswith("uvloop")
