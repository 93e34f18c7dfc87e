"""The errors of squall.loop.

::

    LoopError (Exception)                   base of every error this package raises
    ├── ForkError (also RuntimeError)       fork_processes cannot go on
    │   ├── ForkAfterIOLoopError            an IOLoop was created or started in this process
    │   │                                   before fork_processes (the notes' first caveat)
    │   └── TooManyRestartsError            children kept dying; max_restarts was exceeded
    ├── BindError (also OSError)            bind_sockets could not bind; names address and port,
    │                                       keeps the errno (EADDRINUSE for a busy port)
    ├── LoopClassError (also ValueError)    IOLoop.configure named another loop class than
    │                                       Tornado's asyncio ones
    └── UvloopUnavailableError (also ImportError)
                                            uvloop was asked for explicitly but is not installed

Each class also derives from the builtin a caller would naturally catch (RuntimeError,
OSError, ImportError), so code written against Tornado's plain exceptions keeps working.
``IOLoop.run_sync`` raises the builtin ``TimeoutError`` when its timeout expires.
"""

from __future__ import annotations


class LoopError(Exception):
    """Base class of every error raised by squall.loop."""


class ForkError(LoopError, RuntimeError):
    """``fork_processes`` refused to start or gave up; the message says why."""


class ForkAfterIOLoopError(ForkError):
    """``fork_processes`` was called after an IOLoop was created or started in this process.

    Every child would inherit a copy of that loop (its selector, its fds, its callbacks) and
    the copies would interfere. Create the IOLoop after forking, in each child.
    """


class TooManyRestartsError(ForkError):
    """Children died abnormally more than ``max_restarts`` times; the parent gave up.

    Attributes:
        restarts: how many restarts were made before giving up.
    """

    def __init__(self, message: str, restarts: int) -> None:
        super().__init__(message)
        self.restarts = restarts


class BindError(LoopError, OSError):
    """A listening socket could not be bound; the message names the address and the port.

    ``errno`` is the one of the underlying ``OSError`` (``errno.EADDRINUSE`` for a busy port).

    Attributes:
        address: the host part that could not be bound (for example ``"127.0.0.1"``).
        port: the port that could not be bound.
    """

    def __init__(self, errno: int | None, message: str, address: str, port: int) -> None:
        if errno is None:
            super().__init__(message)
        else:
            super().__init__(errno, message)
        self.address = address
        self.port = port


class LoopClassError(LoopError, ValueError):
    """``IOLoop.configure`` named a loop class squall does not have (it has one IOLoop)."""


class UvloopUnavailableError(LoopError, ImportError):
    """``use_uvloop=True`` was given but uvloop cannot be imported.

    Install it with ``pip install uvloop`` (what the ``[uvloop]`` extra of squall-loop
    brings), or pass ``use_uvloop=None`` to use it only when available.
    """
