"""``IOLoop``: Tornado's event-loop API as a thin wrapper over one asyncio event loop.

Theory of operation:

* Every IOLoop wraps exactly one asyncio loop (``asyncio_loop``). An IOLoop made with
  ``IOLoop()`` creates and owns its loop (uvloop or plain asyncio, see ``_policy``) and
  closes it in ``close()``; one made around an existing loop (``IOLoop(asyncio_loop=...)``,
  or on demand by ``current()`` inside ``asyncio.run``) leaves that loop's life to its owner.
* ``current()`` answers, in order: the IOLoop of the running asyncio loop of this thread
  (created on demand, so ``asyncio.run(main())`` code can call it), then the IOLoop made
  current for this thread, then (unless ``instance=False``) a new one made current.
* Every callback the loop runs for the user (``add_callback``, timeouts, fd handlers,
  ``add_future``) goes through ``_run_callback``: an exception is logged on the
  ``squall.loop`` logger with its traceback and the loop goes on; a callback returning an
  awaitable has it scheduled as a Task (held by the IOLoop until done) whose failure is
  logged the same way. When the loop stops, a Task that failed in its last iteration is
  logged before ``start()`` returns; ``run_sync`` first lets the callbacks already queued
  run and the Tasks they start take their first step, so a failure as it finishes is
  logged before it returns.
* Creating or starting an IOLoop is recorded (``_state``) so that ``fork_processes`` can
  refuse to fork afterwards.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import functools
import inspect
import logging
import numbers
import os
import select
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, overload

from squall.loop._errors import LoopClassError
from squall.loop._interrupt import SigintToStop
from squall.loop._policy import new_event_loop
from squall.loop._state import note_ioloop

# Tornado's IOLoop logs a failing callback on tornado.application (its app_log), which is
# squall.application: ExpectLog(app_log, "Exception in callback") ports unchanged.
logger = logging.getLogger("squall.application")

_T = TypeVar("_T")

# The IOLoop classes of tornado.platform.asyncio: what squall's one IOLoop always is.
_ASYNCIO_LOOP_CLASSES = frozenset(("AsyncIOMainLoop", "AsyncIOLoop"))


class _Selectable(Protocol):
    def fileno(self) -> int: ...


FileDescriptor = int | _Selectable
"""An integer fd, or any object with ``fileno()`` (socket, file, pipe end)."""

Handle = asyncio.Handle
"""What ``call_later``/``call_at``/``add_timeout`` return; pass it to ``remove_timeout``."""

AnyFuture = asyncio.Future[Any] | concurrent.futures.Future[Any]


def _noop() -> None:
    pass


def _fileno(fd: FileDescriptor) -> int:
    return fd if isinstance(fd, int) else fd.fileno()


class IOLoop:
    """An event loop with Tornado's API, running on an asyncio event loop.

    Args:
        asyncio_loop: an existing asyncio loop to wrap (not owned: ``close()`` leaves it
            open). None (default) creates a new one, owned by this IOLoop.
        use_uvloop: for a new loop, True demands uvloop, False forces plain asyncio, None
            uses uvloop when installed unless ``SQUALL_NO_UVLOOP=1``.
        make_current: make this the current IOLoop of the calling thread (default True).
    """

    # The values of Tornado (and of epoll), so code comparing events with them keeps working.
    NONE = 0
    READ = select.EPOLLIN if hasattr(select, "EPOLLIN") else 0x001
    WRITE = select.EPOLLOUT if hasattr(select, "EPOLLOUT") else 0x004
    ERROR = 0x008 | 0x010  # EPOLLERR | EPOLLHUP

    _lock = threading.Lock()
    _by_asyncio: dict[asyncio.AbstractEventLoop, IOLoop] = {}
    _local = threading.local()

    def __init__(
        self,
        asyncio_loop: asyncio.AbstractEventLoop | None = None,
        *,
        use_uvloop: bool | None = None,
        make_current: bool = True,
    ) -> None:
        owned = asyncio_loop is None
        loop = new_event_loop(use_uvloop) if asyncio_loop is None else asyncio_loop
        with IOLoop._lock:
            IOLoop._purge_closed()
            if loop in IOLoop._by_asyncio:
                if owned:  # pragma: no cover - a brand-new loop cannot be registered
                    loop.close()
                raise RuntimeError("this asyncio loop already has an IOLoop")
            IOLoop._by_asyncio[loop] = self
        self._loop = loop
        self._owns_loop = owned
        self._closed = False
        # fd -> (the object given by the caller, its handler); events kept apart.
        self._handlers: dict[int, tuple[FileDescriptor, Callable[[Any, int], None]]] = {}
        self._events: dict[int, int] = {}
        # libuv switches every fd it watches to non-blocking; asyncio's selector loops (and
        # so Tornado) leave the mode alone. Known once, so plain asyncio pays nothing.
        self._watch_sets_nonblocking = type(loop).__module__.startswith("uvloop")
        # Tasks of coroutine callbacks (add_callback, spawn_callback...) not finished yet.
        self._spawned: set[asyncio.Future[Any]] = set()
        note_ioloop("created")
        if make_current:
            self.make_current()

    # -- current ---------------------------------------------------------------------

    @staticmethod
    def _purge_closed() -> None:
        # Loops of finished asyncio.run() calls are closed by their owner and never tell us;
        # forget them lazily (the caller holds the lock).
        for loop in [lp for lp in IOLoop._by_asyncio if lp.is_closed()]:
            del IOLoop._by_asyncio[loop]

    @classmethod
    def current(cls, instance: bool = True) -> IOLoop | None:
        """The IOLoop of this thread.

        Inside a running asyncio loop, the IOLoop wrapping it (created on demand unless
        ``instance`` is False). Otherwise the current IOLoop of this thread; when there is
        none a new one is created and made current, or None is returned if ``instance``
        is False.
        """
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            with cls._lock:
                found = cls._by_asyncio.get(running)
            if found is not None or not instance:
                return found
            # Not made current: the running loop finds it, and once asyncio.run() closes
            # that loop the thread must not keep a dead IOLoop as its current one.
            return IOLoop(asyncio_loop=running, make_current=False)
        current: IOLoop | None = getattr(cls._local, "current", None)
        if current is not None and not current._closed and not current._loop.is_closed():
            return current
        # A loop the program set with asyncio.set_event_loop() (as Tornado users and some
        # test harnesses do) is wrapped rather than shadowed by a second loop.
        installed = _installed_event_loop()
        if installed is not None:
            with cls._lock:
                found = cls._by_asyncio.get(installed)
            if found is None and not instance:
                return None
            if found is None:
                found = IOLoop(asyncio_loop=installed, make_current=False)
            cls._local.current = found
            return found
        if not instance:
            return None
        return IOLoop()

    def make_current(self) -> None:
        """Make this the current IOLoop (and its loop the asyncio event loop) of this thread."""
        IOLoop._local.current = self
        # So that code calling asyncio.get_event_loop() before start() finds our loop.
        asyncio.set_event_loop(self._loop)

    @staticmethod
    def clear_current() -> None:
        """Make no IOLoop current for this thread."""
        current = getattr(IOLoop._local, "current", None)
        IOLoop._local.current = None
        if current is not None and current._owns_loop:
            asyncio.set_event_loop(None)

    # Tornado's pre-5.0 names. Tornado made them aliases when its IOLoop moved onto asyncio
    # (an asyncio loop belongs to a thread, so there is no process-wide singleton left);
    # they are kept because ported programs still call IOLoop.instance().start().

    @classmethod
    def instance(cls) -> IOLoop:
        """Tornado's old name of :meth:`current`: the IOLoop of this thread (created if none).

        .. versionadded:: 0.1.1
        """
        loop = cls.current()
        assert loop is not None  # current() with instance=True always gives one
        return loop

    def install(self) -> None:
        """Tornado's old name of :meth:`make_current`.

        .. versionadded:: 0.1.1
        """
        self.make_current()

    @staticmethod
    def clear_instance() -> None:
        """Tornado's old name of :meth:`clear_current`.

        .. versionadded:: 0.1.1
        """
        IOLoop.clear_current()

    @classmethod
    def configure(cls, impl: object, **kwargs: Any) -> None:
        """Tornado's choice of the IOLoop class; squall has one, always on asyncio.

        Naming Tornado's asyncio loops (``"tornado.platform.asyncio.AsyncIOMainLoop"`` or
        ``AsyncIOLoop``, as programs written for Tornado 4 and 5 do) asks for what squall
        always does, so it is accepted and changes nothing. Anything else is refused.

        Raises:
            LoopClassError: ``impl`` names another class, or options are given (choose
                uvloop with ``IOLoop(use_uvloop=...)`` or ``SQUALL_NO_UVLOOP=1`` instead).
        """
        name = impl if isinstance(impl, str) else getattr(impl, "__qualname__", repr(impl))
        if name.rpartition(".")[2] in _ASYNCIO_LOOP_CLASSES and not kwargs:
            return
        given = ", ".join([repr(name), *(f"{k}={v!r}" for k, v in kwargs.items())])
        raise LoopClassError(
            f"IOLoop.configure({given}): squall has one IOLoop, always on asyncio (uvloop "
            "when installed); remove the call, or choose the loop with "
            "IOLoop(use_uvloop=...) or SQUALL_NO_UVLOOP=1"
        )

    @property
    def asyncio_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio event loop this IOLoop runs on."""
        return self._loop

    # -- running ---------------------------------------------------------------------

    def start(self) -> None:
        """Run the loop until :meth:`stop` is called (the notes' ``IOLoop.current().start()``).

        Ctrl-C (SIGINT, while Python's default handler has it) stops the loop, and then
        ``KeyboardInterrupt`` is raised here: never inside a callback, where uvloop would
        swallow it (``squall.loop._interrupt``).

        Raises:
            RuntimeError: the loop is already running or closed.
            KeyboardInterrupt: Ctrl-C stopped the loop.
        """
        note_ioloop("started")
        previous = getattr(IOLoop._local, "current", None)
        self.make_current()
        ctrl_c = SigintToStop(self.stop)
        try:
            with ctrl_c:
                self._loop.run_forever()
        finally:
            self._sweep_spawned()
            self._restore_current(previous)
        if ctrl_c.interrupted:
            raise KeyboardInterrupt

    def _restore_current(self, previous: IOLoop | None) -> None:
        # Tornado's rule: start()/run_sync() make this loop current only while they run.
        # A thread that had no current loop keeps this one (the notes' single-loop scripts).
        if previous is not None and previous is not self and not previous._closed:
            previous.make_current()

    def stop(self) -> None:
        """Stop the loop after the current iteration; ``start()`` then returns.

        Safe to call from any thread and from a signal handler. Called before
        ``start()``, the next ``start()`` runs one iteration and returns (asyncio's rule).
        """
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._loop.stop()
            # From a signal handler the loop may be blocked in epoll_wait, which Python
            # resumes after the handler: the flag alone would wait for the next event.
            # Writing to the loop's wake-up pipe ends that wait.
            self._loop.call_soon_threadsafe(_noop)
        elif not self._loop.is_running():
            self._loop.stop()
        else:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def close(self, all_fds: bool = False) -> None:
        """Close the loop and free its resources.

        Args:
            all_fds: also close every file object / fd still registered with
                :meth:`add_handler`.

        Only a loop this IOLoop created is closed; a wrapped loop stays open. Closing
        twice does nothing.

        Raises:
            RuntimeError: the loop is running.
        """
        if self._closed:
            return
        if self._loop.is_running():
            raise RuntimeError("cannot close a running IOLoop; stop() it first")
        for fd in list(self._handlers):
            fileobj, _ = self._handlers[fd]
            self.remove_handler(fd)
            if all_fds:
                self._close_fd(fileobj)
        self._closed = True
        with IOLoop._lock:
            if IOLoop._by_asyncio.get(self._loop) is self:
                del IOLoop._by_asyncio[self._loop]
        if getattr(IOLoop._local, "current", None) is self:
            IOLoop.clear_current()
        if self._owns_loop:
            self._finish_tasks()
            self._loop.close()

    def _finish_tasks(self) -> None:
        # As asyncio.run() does on exit: cancel what is left, let it unwind, close async
        # generators and the default executor, so nothing is "destroyed but pending".
        loop = self._loop
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        try:
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        except Exception:
            logger.exception("Exception while closing the IOLoop")

    @staticmethod
    def _close_fd(fileobj: FileDescriptor) -> None:
        try:
            if isinstance(fileobj, int):
                os.close(fileobj)
            else:
                close = getattr(fileobj, "close", None)
                if close is not None:
                    close()
        except OSError:
            pass

    @overload
    def run_sync(self, func: Callable[[], Awaitable[_T]], timeout: float | None = None) -> _T: ...

    @overload
    def run_sync(self, func: Callable[[], _T], timeout: float | None = None) -> _T: ...

    def run_sync(self, func: Callable[[], Any], timeout: float | None = None) -> Any:
        """Start the loop, run ``func``, stop the loop and return its result.

        ``func`` may be a plain function or return an awaitable (``async def``); its
        exception propagates. Useful for scripts and tests.

        Args:
            func: called with no arguments.
            timeout: seconds; when exceeded ``func``'s work is cancelled.

        Raises:
            TimeoutError: ``timeout`` expired.
            RuntimeError: the loop is already running, or another event loop is running in
                this thread (checked before any coroutine is made, so none is left
                never awaited).
        """
        if self._loop.is_running():
            raise RuntimeError("run_sync(): this IOLoop is already running")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "run_sync() cannot run inside a running event loop: await the function instead"
            )

        async def run() -> Any:
            result = func()
            if inspect.isawaitable(result):
                return await result
            return result

        async def run_with_timeout() -> Any:
            try:
                return await asyncio.wait_for(run(), timeout)
            except TimeoutError:
                raise TimeoutError(f"Operation timed out after {timeout} seconds") from None

        note_ioloop("started")
        previous = getattr(IOLoop._local, "current", None)
        self.make_current()
        main = asyncio.ensure_future(
            run() if timeout is None else run_with_timeout(), loop=self._loop
        )
        # Ctrl-C cancels func's work; KeyboardInterrupt is raised once it has unwound.
        ctrl_c = SigintToStop(lambda: self._loop.call_soon_threadsafe(main.cancel))
        try:
            with ctrl_c:
                return self._loop.run_until_complete(main)
        except asyncio.CancelledError:
            if ctrl_c.interrupted:
                raise KeyboardInterrupt from None
            raise
        finally:
            # Failures of callbacks spawned by ``func`` are logged before run_sync returns,
            # even when they happen as it finishes (not after KeyboardInterrupt and such).
            error = sys.exc_info()[1]
            if (error is None or isinstance(error, Exception)) and not (
                self._loop.is_running() or self._loop.is_closed()
            ):
                self._loop.run_until_complete(self._settle())
            self._sweep_spawned()
            self._restore_current(previous)

    def time(self) -> float:
        """The loop's clock (monotonic seconds), the base of :meth:`call_at` deadlines."""
        return self._loop.time()

    # -- callbacks -------------------------------------------------------------------

    def _run_callback(self, callback: Callable[[], Any]) -> None:
        """Run a user callback; log its exception (or its awaitable's) and carry on."""
        try:
            result = callback()
        except Exception:
            logger.exception("Exception in callback %r", callback)
            return
        if result is not None and inspect.isawaitable(result):
            task = asyncio.ensure_future(result, loop=self._loop)
            # Held here until done: asyncio keeps only weak references to tasks.
            self._spawned.add(task)
            task.add_done_callback(self._spawned_done)

    def _spawned_done(self, task: asyncio.Future[Any]) -> None:
        """Log a spawned task's failure, once (by its done callback or by the sweep)."""
        if task not in self._spawned:
            return
        self._spawned.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("Exception in callback %r", task, exc_info=exc)

    def _sweep_spawned(self) -> None:
        # A task that failed in the loop's last iteration has its done callback queued for an
        # iteration that will not come (the loop stopped): log it now.
        for task in [t for t in self._spawned if t.done()]:
            self._spawned_done(task)

    async def _settle(self) -> None:
        # Two turns of the loop: the first runs the callbacks add_callback/spawn_callback
        # queued before the stop (each coroutine callback becomes a Task), the second runs
        # each new Task's first step, so one that fails before its first real wait is done.
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    def add_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``callback(*args, **kwargs)`` on the next iteration of the loop.

        Safe from any thread and from signal handlers (it wakes the loop up). The
        callback may be ``async``: its coroutine is then run as a Task. After ``close()``
        the callback is dropped silently (the loop is shutting down).
        """
        try:
            self._loop.call_soon_threadsafe(
                self._run_callback, functools.partial(callback, *args, **kwargs)
            )
        except RuntimeError:
            if not self._loop.is_closed():
                raise

    add_callback_from_signal = add_callback
    """Alias of :meth:`add_callback`, which is already safe from signal handlers."""

    def spawn_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Like :meth:`add_callback`: run ``callback`` on the next iteration, independently."""
        self.add_callback(callback, *args, **kwargs)

    def call_later(
        self, delay: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Handle:
        """Run ``callback`` after ``delay`` seconds; returns a handle for remove_timeout."""
        return self._loop.call_later(
            delay, self._run_callback, functools.partial(callback, *args, **kwargs)
        )

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Handle:
        """Run ``callback`` at ``when`` (on the :meth:`time` clock); returns a handle."""
        return self._loop.call_at(
            when, self._run_callback, functools.partial(callback, *args, **kwargs)
        )

    def add_timeout(
        self,
        deadline: float | datetime.timedelta,
        callback: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Handle:
        """Run ``callback`` at ``deadline``: a :meth:`time` value, or a delay as timedelta.

        Raises:
            TypeError: ``deadline`` is neither a number nor a timedelta.
        """
        if isinstance(deadline, datetime.timedelta):
            return self.call_later(deadline.total_seconds(), callback, *args, **kwargs)
        if isinstance(deadline, numbers.Real) and not isinstance(deadline, bool):
            return self.call_at(float(deadline), callback, *args, **kwargs)
        raise TypeError(f"add_timeout: unsupported deadline {deadline!r}")

    def remove_timeout(self, timeout: Handle) -> None:
        """Cancel a timeout from call_later/call_at/add_timeout (no-op if it already ran)."""
        timeout.cancel()

    # -- futures and executors ---------------------------------------------------------

    def add_future(self, future: AnyFuture, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(future)`` on the loop once ``future`` is done.

        ``future`` may be an asyncio Future/Task, a ``concurrent.futures.Future`` (as
        returned by an executor) or another object with a Future's ``add_done_callback``
        (the completed awaitable squall-web's ``flush()`` returns); the callback always runs
        on the loop's thread.

        Raises:
            TypeError: ``future`` has no ``add_done_callback``.
        """
        if isinstance(future, concurrent.futures.Future):
            future.add_done_callback(lambda f: self.add_callback(callback, f))
        elif asyncio.isfuture(future) or callable(getattr(future, "add_done_callback", None)):
            future.add_done_callback(lambda f: self._run_callback(functools.partial(callback, f)))
        else:
            raise TypeError(f"add_future needs a Future, got {future!r}")

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[..., _T],
        *args: Any,
    ) -> asyncio.Future[_T]:
        """Run ``func(*args)`` in ``executor`` (None: the default one); returns a Future."""
        return self._loop.run_in_executor(executor, func, *args)

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """Use ``executor`` for ``run_in_executor(None, ...)``."""
        self._loop.set_default_executor(executor)

    # -- file descriptors ----------------------------------------------------------------

    def add_handler(
        self, fd: FileDescriptor, handler: Callable[[Any, int], None], events: int
    ) -> None:
        """Call ``handler(fd, events)`` when ``fd`` is ready for ``events``.

        Args:
            fd: an integer fd or an object with ``fileno()`` (the handler receives this
                same object back).
            handler: called with the object and the events that occurred.
            events: a mask of ``IOLoop.READ``, ``IOLoop.WRITE`` (``IOLoop.ERROR`` is always
                implied: errors and hang-ups make the fd readable/writable).

        Raises:
            ValueError: ``fd`` already has a handler.
        """
        fileno = _fileno(fd)
        if fileno in self._handlers:
            raise ValueError(f"fd {fileno} already has a handler; use update_handler")
        self._handlers[fileno] = (fd, handler)
        self._events[fileno] = 0
        self._apply_events(fileno, events)

    def update_handler(self, fd: FileDescriptor, events: int) -> None:
        """Change the events ``fd``'s handler listens for.

        Raises:
            KeyError: ``fd`` has no handler.
        """
        fileno = _fileno(fd)
        if fileno not in self._handlers:
            raise KeyError(f"fd {fileno} has no handler")
        self._apply_events(fileno, events)

    def remove_handler(self, fd: FileDescriptor) -> None:
        """Stop listening on ``fd`` (no-op if it has no handler). The fd is not closed."""
        fileno = _fileno(fd)
        if fileno not in self._handlers:
            return
        self._apply_events(fileno, 0)
        del self._handlers[fileno]
        del self._events[fileno]

    def _apply_events(self, fileno: int, events: int) -> None:
        old = self._events[fileno]
        # Programs write blocking data to fds they watch (a pty, a pipe): under uvloop such
        # a write raised BlockingIOError, so a blocking fd is put back to blocking. Only a
        # new watch changes the mode (a removal may come after the fd was closed).
        was_blocking = (
            self._watch_sets_nonblocking and events & ~old != 0 and os.get_blocking(fileno)
        )
        for flag, add, remove in (
            (self.READ, self._loop.add_reader, self._loop.remove_reader),
            (self.WRITE, self._loop.add_writer, self._loop.remove_writer),
        ):
            if events & flag and not old & flag:
                add(fileno, self._handle_events, fileno, flag)
            elif old & flag and not events & flag:
                remove(fileno)
        if was_blocking and not os.get_blocking(fileno):
            os.set_blocking(fileno, True)
        self._events[fileno] = events

    def _handle_events(self, fileno: int, events: int) -> None:
        entry = self._handlers.get(fileno)
        if entry is None:  # removed by an earlier callback of this same iteration
            return
        fileobj, handler = entry
        try:
            handler(fileobj, events)
        except Exception:
            logger.exception("Exception in I/O handler for fd %d", fileno)


def _installed_event_loop() -> asyncio.AbstractEventLoop | None:
    """The open loop set for this thread with ``asyncio.set_event_loop``, without creating one.

    ``asyncio.get_event_loop()`` would create a loop (and warn on 3.12+) when none is set, so
    the default policy's thread-local slot is read directly; a custom policy without it
    simply yields None.
    """
    policy = asyncio.get_event_loop_policy()
    loop = getattr(getattr(policy, "_local", None), "_loop", None)
    if isinstance(loop, asyncio.AbstractEventLoop) and not loop.is_closed():
        return loop
    return None
