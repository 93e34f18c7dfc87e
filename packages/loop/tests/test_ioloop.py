"""IOLoop over real file descriptors, threads and signals, on asyncio and on uvloop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import gc
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from squall.loop import IOLoop, LoopClassError
from squall.loop._state import ioloop_event_in_this_process


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def _loop_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "squall.application" and r.exc_info]


# -- current() -----------------------------------------------------------------------------


def test_current_creates_one_loop_per_thread_on_demand() -> None:
    IOLoop.clear_current()
    assert IOLoop.current(instance=False) is None
    loop = IOLoop.current()
    try:
        assert loop is not None
        assert IOLoop.current() is loop
        assert IOLoop.current(instance=False) is loop
        assert ioloop_event_in_this_process() in ("created", "started")
        seen: list[IOLoop | None] = []
        thread = threading.Thread(target=lambda: seen.append(IOLoop.current(instance=False)))
        thread.start()
        thread.join(5)
        assert seen == [None]
    finally:
        assert loop is not None
        loop.close()
    assert IOLoop.current(instance=False) is None


def test_each_thread_gets_its_own_loop() -> None:
    results: list[object] = []

    def in_thread() -> None:
        loop = IOLoop.current()
        assert loop is not None
        try:
            results.append(loop.run_sync(lambda: IOLoop.current()) is loop)
            results.append(loop)
        finally:
            loop.close()

    IOLoop.clear_current()
    main = IOLoop.current()
    try:
        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join(5)
        assert results[0] is True
        assert results[1] is not main
        assert IOLoop.current() is main
    finally:
        assert main is not None
        main.close()


def test_current_inside_asyncio_run_wraps_the_running_loop() -> None:
    IOLoop.clear_current()

    async def main() -> tuple[IOLoop | None, IOLoop | None, asyncio.AbstractEventLoop]:
        return IOLoop.current(), IOLoop.current(), asyncio.get_running_loop()

    first, second, running = asyncio.run(main())
    assert first is not None and first is second
    assert first.asyncio_loop is running
    # The wrapper does not own asyncio.run's loop and there is no current loop afterwards.
    assert IOLoop.current(instance=False) is None


def test_current_without_instance_inside_asyncio_loop_creates_nothing() -> None:
    async def main() -> IOLoop | None:
        return IOLoop.current(instance=False)

    assert asyncio.run(main()) is None


def test_current_inside_start_and_run_sync_is_the_loop(io_loop: IOLoop) -> None:
    async def inside() -> IOLoop | None:
        return IOLoop.current()

    assert io_loop.run_sync(inside) is io_loop
    seen: list[IOLoop | None] = []
    io_loop.add_callback(lambda: seen.append(IOLoop.current()))
    io_loop.add_callback(io_loop.stop)
    io_loop.start()
    assert seen == [io_loop]


def test_current_wraps_a_loop_set_with_asyncio_set_event_loop() -> None:
    IOLoop.clear_current()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        assert IOLoop.current(instance=False) is None
        wrapper = IOLoop.current()
        assert wrapper is not None and wrapper.asyncio_loop is loop
        assert IOLoop.current() is wrapper
        assert wrapper.run_sync(lambda: "ran") == "ran"
        wrapper.close()
        assert not loop.is_closed()  # the program owns it
    finally:
        asyncio.set_event_loop(None)
        loop.close()
        IOLoop.clear_current()


def test_run_sync_of_another_loop_restores_the_current_one(io_loop: IOLoop) -> None:
    other = IOLoop(use_uvloop=False, make_current=False)
    try:
        assert other.run_sync(lambda: IOLoop.current()) is other
        assert IOLoop.current() is io_loop
    finally:
        other.close()


def test_wrapping_a_loop_twice_is_refused() -> None:
    loop = asyncio.new_event_loop()
    try:
        wrapper = IOLoop(asyncio_loop=loop, make_current=False)
        with pytest.raises(RuntimeError):
            IOLoop(asyncio_loop=loop, make_current=False)
        wrapper.close()
        assert not loop.is_closed()  # not owned: left open
    finally:
        loop.close()


# -- start / stop / run_sync -----------------------------------------------------------------


def test_start_runs_until_stop(io_loop: IOLoop) -> None:
    calls: list[str] = []
    io_loop.call_later(0.01, calls.append, "timer")
    io_loop.call_later(0.02, io_loop.stop)
    io_loop.start()
    assert calls == ["timer"]


def test_stop_from_another_thread_ends_start(io_loop: IOLoop) -> None:
    started = threading.Event()
    io_loop.add_callback(started.set)

    def stopper() -> None:
        if started.wait(5):
            io_loop.stop()

    thread = threading.Thread(target=stopper)
    thread.start()
    guard = io_loop.call_later(10, io_loop.stop)  # bound the test if stop() were lost
    io_loop.start()
    thread.join(5)
    assert started.is_set()
    io_loop.remove_timeout(guard)


def test_stop_from_a_signal_handler_ends_an_idle_loop(io_loop: IOLoop) -> None:
    # The notes' way to end a server: stop() straight from a SIGTERM-style handler while the
    # loop waits for I/O with no timer due.
    stopped_by: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        stopped_by.append(signum)
        io_loop.stop()

    previous = signal.signal(signal.SIGUSR2, on_signal)
    try:
        io_loop.add_callback(
            lambda: threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGUSR2)).start()
        )

        def too_late() -> None:
            stopped_by.append(0)
            io_loop.stop()

        guard = io_loop.call_later(10, too_late)
        io_loop.start()
        io_loop.remove_timeout(guard)
    finally:
        signal.signal(signal.SIGUSR2, previous)
    assert stopped_by == [signal.SIGUSR2]


def test_run_sync_returns_the_result_of_sync_and_async_functions(io_loop: IOLoop) -> None:
    async def compute() -> int:
        await asyncio.sleep(0)
        return 42

    assert io_loop.run_sync(lambda: "plain") == "plain"
    assert io_loop.run_sync(compute) == 42


def test_run_sync_propagates_the_exception(io_loop: IOLoop) -> None:
    async def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        io_loop.run_sync(fail)


def test_run_sync_timeout_raises_timeout_error(io_loop: IOLoop) -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    with pytest.raises(TimeoutError, match="timed out"):
        io_loop.run_sync(forever, timeout=0.05)


def test_close_twice_is_harmless_and_a_closed_loop_drops_callbacks(io_loop: IOLoop) -> None:
    io_loop.close()
    io_loop.close()
    io_loop.add_callback(lambda: None)  # shutting down: silently dropped


def test_close_cancels_tasks_still_pending(io_loop: IOLoop) -> None:
    unwound: list[str] = []

    async def forever() -> None:
        try:
            io_loop.stop()  # the task is now suspended below when the loop stops
            await asyncio.Event().wait()
        finally:
            unwound.append("cancelled")

    io_loop.spawn_callback(forever)
    io_loop.call_later(10, io_loop.stop)
    io_loop.start()
    io_loop.close()
    assert unwound == ["cancelled"]


def test_close_all_fds_closes_registered_objects(io_loop: IOLoop) -> None:
    a, b = socket.socketpair()
    try:
        io_loop.add_handler(a, lambda fd, ev: None, IOLoop.READ)
        io_loop.close(all_fds=True)
        assert a.fileno() == -1
    finally:
        a.close()
        b.close()


# -- handlers over real fds ------------------------------------------------------------------


def test_read_handler_gets_the_object_and_read_events(
    io_loop: IOLoop, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    got: list[tuple[Any, int, bytes]] = []

    def on_read(fd: socket.socket, events: int) -> None:
        got.append((fd, events, fd.recv(100)))
        io_loop.stop()

    io_loop.add_handler(a, on_read, IOLoop.READ)
    b.send(b"hello")
    io_loop.call_later(5, io_loop.stop)
    io_loop.start()
    assert got == [(a, IOLoop.READ, b"hello")]


def test_update_handler_switches_to_write_and_remove_handler_stops_calls(
    io_loop: IOLoop, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    events: list[int] = []

    def handler(fd: socket.socket, ev: int) -> None:
        events.append(ev)
        if ev & IOLoop.WRITE:
            io_loop.remove_handler(fd)
            io_loop.call_later(0.05, io_loop.stop)

    io_loop.add_handler(a, handler, IOLoop.READ)
    io_loop.update_handler(a, IOLoop.WRITE)  # a socketpair is writable at once
    io_loop.call_later(5, io_loop.stop)
    io_loop.start()
    # Removed after the first write event: no more calls though the socket stays writable.
    assert events == [IOLoop.WRITE]


def test_handler_accepts_an_integer_fd(io_loop: IOLoop) -> None:
    r, w = os.pipe()
    try:
        got: list[tuple[Any, bytes]] = []

        def on_read(fd: int, events: int) -> None:
            got.append((fd, os.read(fd, 10)))
            io_loop.stop()

        io_loop.add_handler(r, on_read, IOLoop.READ)
        os.write(w, b"x")
        io_loop.call_later(5, io_loop.stop)
        io_loop.start()
        io_loop.remove_handler(r)
        assert got == [(r, b"x")]
    finally:
        os.close(r)
        os.close(w)


def test_handlers_leave_a_blocking_fd_blocking(io_loop: IOLoop) -> None:
    # Tornado on asyncio never changes an fd's mode; libuv (uvloop) makes it non-blocking,
    # and a program writing a large block to a watched pty then got BlockingIOError.
    r, w = os.pipe()
    try:
        io_loop.add_handler(r, lambda fd, ev: None, IOLoop.READ)
        assert os.get_blocking(r)
        io_loop.update_handler(r, IOLoop.READ | IOLoop.WRITE)
        assert os.get_blocking(r)
        io_loop.remove_handler(r)
        assert os.get_blocking(r)
        os.set_blocking(w, False)  # a non-blocking fd stays non-blocking
        io_loop.add_handler(w, lambda fd, ev: None, IOLoop.WRITE)
        assert not os.get_blocking(w)
        io_loop.remove_handler(w)
    finally:
        os.close(r)
        os.close(w)


def test_adding_a_handler_twice_is_refused(
    io_loop: IOLoop, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, _ = pair
    io_loop.add_handler(a, lambda fd, ev: None, IOLoop.READ)
    with pytest.raises(ValueError, match="already has a handler"):
        io_loop.add_handler(a.fileno(), lambda fd, ev: None, IOLoop.READ)
    io_loop.remove_handler(a)
    io_loop.remove_handler(a)  # unknown fd: no-op
    with pytest.raises(KeyError):
        io_loop.update_handler(a, IOLoop.READ)


def test_accepting_connections_on_a_listening_socket(io_loop: IOLoop) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    client = socket.socket()
    accepted: list[socket.socket] = []
    try:

        def on_accept(sock: socket.socket, events: int) -> None:
            conn, _ = sock.accept()
            accepted.append(conn)
            io_loop.stop()

        io_loop.add_handler(server, on_accept, IOLoop.READ)
        client.connect(server.getsockname())
        io_loop.call_later(5, io_loop.stop)
        io_loop.start()
        assert len(accepted) == 1
    finally:
        for conn in accepted:
            conn.close()
        client.close()
        server.close()


# -- callbacks -----------------------------------------------------------------------------


def test_add_callback_from_many_threads_runs_every_callback(io_loop: IOLoop) -> None:
    count = 20
    done: list[int] = []

    def record(i: int) -> None:
        done.append(i)
        if len(done) == count:
            io_loop.stop()

    threads = [
        threading.Thread(target=io_loop.add_callback, args=(record, i)) for i in range(count)
    ]
    io_loop.call_later(10, io_loop.stop)

    def start_threads() -> None:
        for t in threads:
            t.start()

    io_loop.add_callback(start_threads)
    io_loop.start()
    for t in threads:
        t.join(5)
    assert sorted(done) == list(range(count))


def test_add_callback_from_another_thread_wakes_an_idle_loop(io_loop: IOLoop) -> None:
    # No timer is pending, so only the wake-up of add_callback can end this wait.
    def from_thread() -> None:
        io_loop.add_callback(io_loop.stop)

    io_loop.add_callback(lambda: threading.Thread(target=from_thread).start())
    guard = io_loop.call_later(10, lambda: pytest.fail("add_callback did not wake the loop"))
    io_loop.start()
    io_loop.remove_timeout(guard)


def test_add_callback_from_a_signal_handler_wakes_the_loop(io_loop: IOLoop) -> None:
    hits: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        def record() -> None:
            hits.append(signum)
            io_loop.stop()

        io_loop.add_callback_from_signal(record)

    previous = signal.signal(signal.SIGUSR1, on_signal)
    try:
        io_loop.add_callback(
            lambda: threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        )
        guard = io_loop.call_later(10, io_loop.stop)
        io_loop.start()
        io_loop.remove_timeout(guard)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert hits == [signal.SIGUSR1]


def test_spawn_callback_and_async_callbacks_run(io_loop: IOLoop) -> None:
    seen: list[str] = []

    async def coro(tag: str) -> None:
        await asyncio.sleep(0)
        seen.append(tag)
        if len(seen) == 2:
            io_loop.stop()

    io_loop.spawn_callback(coro, "spawned")
    io_loop.add_callback(coro, tag="added")
    io_loop.call_later(5, io_loop.stop)
    io_loop.start()
    assert sorted(seen) == ["added", "spawned"]


def test_exceptions_in_callbacks_are_logged_and_the_loop_goes_on(
    io_loop: IOLoop,
    pair: tuple[socket.socket, socket.socket],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def boom(where: str) -> None:
        raise RuntimeError(f"boom in {where}")

    async def async_boom() -> None:
        raise RuntimeError("boom in coroutine")

    def handler(fd: socket.socket, events: int) -> None:
        io_loop.remove_handler(fd)
        boom("handler")

    a, b = pair
    future: asyncio.Future[None] = io_loop.asyncio_loop.create_future()
    io_loop.add_callback(boom, "add_callback")
    io_loop.add_callback(async_boom)
    io_loop.call_later(0, boom, "call_later")
    io_loop.add_timeout(datetime.timedelta(0), boom, "add_timeout")
    io_loop.add_handler(a, handler, IOLoop.READ)
    io_loop.add_future(future, lambda f: boom("add_future"))
    b.send(b"x")
    future.set_result(None)

    def stop_when_all_logged() -> None:
        # Polled rather than a fixed delay, so a busy machine cannot cut the test short.
        if len(_loop_errors(caplog)) >= 6:
            io_loop.stop()
        else:
            io_loop.call_later(0.01, stop_when_all_logged)

    io_loop.add_callback(stop_when_all_logged)
    io_loop.call_later(10, io_loop.stop)
    with caplog.at_level(logging.ERROR, logger="squall.application"):
        io_loop.start()
    messages = {str(r.exc_info[1]) for r in _loop_errors(caplog) if r.exc_info}
    assert messages == {
        "boom in add_callback",
        "boom in coroutine",
        "boom in call_later",
        "boom in add_timeout",
        "boom in handler",
        "boom in add_future",
    }
    # ...and the loop still works afterwards.
    assert io_loop.run_sync(lambda: "alive") == "alive"


# -- timeouts ------------------------------------------------------------------------------


def test_call_at_and_add_timeout_run_in_deadline_order(io_loop: IOLoop) -> None:
    order: list[str] = []
    now = io_loop.time()
    io_loop.add_timeout(now + 0.03, order.append, "add_timeout-number")
    io_loop.add_timeout(datetime.timedelta(milliseconds=20), order.append, "add_timeout-delta")
    io_loop.call_at(now + 0.01, order.append, "call_at")
    io_loop.call_at(now + 0.05, io_loop.stop)
    io_loop.start()
    assert order == ["call_at", "add_timeout-delta", "add_timeout-number"]


def test_remove_timeout_cancels_the_callback(io_loop: IOLoop) -> None:
    fired: list[str] = []
    handle = io_loop.call_later(0.01, fired.append, "cancelled")
    io_loop.remove_timeout(handle)
    io_loop.call_later(0.03, io_loop.stop)
    io_loop.start()
    assert fired == []


def test_add_timeout_refuses_other_deadlines(io_loop: IOLoop) -> None:
    with pytest.raises(TypeError):
        io_loop.add_timeout("soon", lambda: None)  # type: ignore[arg-type]


# -- executors and futures -------------------------------------------------------------------


def test_run_in_executor_and_add_future_call_back_on_the_loop_thread(io_loop: IOLoop) -> None:
    results: list[tuple[int, bool]] = []
    loop_thread = threading.get_ident()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        io_loop.set_default_executor(pool)

        def on_done(f: asyncio.Future[int] | concurrent.futures.Future[int]) -> None:
            results.append((f.result(), threading.get_ident() == loop_thread))
            if len(results) == 2:
                io_loop.stop()

        io_loop.add_future(io_loop.run_in_executor(None, pow, 2, 10), on_done)
        io_loop.add_future(pool.submit(pow, 3, 2), on_done)
        io_loop.call_later(5, io_loop.stop)
        io_loop.start()
        io_loop.run_sync(io_loop.asyncio_loop.shutdown_default_executor)
    assert sorted(results) == [(9, True), (1024, True)]


def test_add_future_refuses_non_futures(io_loop: IOLoop) -> None:
    with pytest.raises(TypeError):
        io_loop.add_future(object(), lambda f: None)  # type: ignore[arg-type]


def test_add_future_takes_an_object_with_a_futures_add_done_callback(io_loop: IOLoop) -> None:
    class Completed:
        """Like squall-web's completed awaitable: done, calls back at once."""

        def add_done_callback(self, fn: Any) -> None:
            fn(self)

    done = Completed()
    seen: list[Any] = []

    def callback(f: Any) -> None:
        seen.append((f, threading.get_ident()))
        io_loop.stop()

    io_loop.add_future(done, callback)  # type: ignore[arg-type]
    io_loop.call_later(5, io_loop.stop)
    io_loop.start()
    assert seen == [(done, threading.get_ident())]


def test_gen_multi_keeps_tornados_capitalised_alias() -> None:
    from squall.loop import gen

    assert gen.Multi is gen.multi


# -- Tornado's old names: instance(), install(), clear_instance() --------------------------


def test_instance_is_current_and_creates_the_threads_loop() -> None:
    IOLoop.clear_instance()
    assert IOLoop.current(instance=False) is None
    loop = IOLoop.instance()
    try:
        assert IOLoop.current(instance=False) is loop
        assert IOLoop.instance() is loop
        # The notes' pattern: IOLoop.instance().start() runs until stopped.
        ran: list[str] = []
        loop.add_callback(lambda: (ran.append("ran"), IOLoop.instance().stop()))
        IOLoop.instance().start()
        assert ran == ["ran"]
    finally:
        loop.close()
        IOLoop.clear_current()


def test_instance_inside_asyncio_run_is_the_running_loop() -> None:
    async def main() -> tuple[IOLoop, asyncio.AbstractEventLoop]:
        return IOLoop.instance(), asyncio.get_running_loop()

    ioloop, running = asyncio.run(main())
    assert ioloop.asyncio_loop is running


def test_install_makes_a_loop_current_and_clear_instance_forgets_it() -> None:
    first = IOLoop(make_current=False)
    second = IOLoop(make_current=False)
    try:
        first.install()
        assert IOLoop.instance() is first
        second.install()
        assert IOLoop.instance() is second
        IOLoop.clear_instance()
        assert IOLoop.current(instance=False) is None
    finally:
        first.close()
        second.close()
        IOLoop.clear_current()


# -- failures of spawned callbacks as the loop stops ----------------------------------------


async def _fail_at_once() -> None:
    raise RuntimeError("spawned failure")


def test_a_spawned_coroutine_failing_as_run_sync_returns_is_logged_before_it_returns(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    def main() -> str:
        io_loop.spawn_callback(_fail_at_once)
        return "done"

    with caplog.at_level(logging.ERROR, logger="squall.application"):
        assert io_loop.run_sync(main) == "done"
        errors = _loop_errors(caplog)
    assert [str(r.exc_info[1]) for r in errors if r.exc_info] == ["spawned failure"]
    assert errors[0].exc_info is not None and errors[0].exc_info[2] is not None


def test_an_add_callback_coroutine_failing_as_async_run_sync_returns_is_logged(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        await asyncio.sleep(0)
        io_loop.add_callback(_fail_at_once)

    with caplog.at_level(logging.ERROR, logger="squall.application"):
        io_loop.run_sync(main)
        messages = [str(r.exc_info[1]) for r in _loop_errors(caplog) if r.exc_info]
    assert messages == ["spawned failure"]


def test_a_task_failing_in_the_last_iteration_before_stop_is_logged_once(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def fail_then_stop() -> None:
        io_loop.stop()
        raise RuntimeError("failed as the loop stopped")

    io_loop.spawn_callback(fail_then_stop)
    with caplog.at_level(logging.ERROR, logger="squall.application"):
        io_loop.start()
        messages = [str(r.exc_info[1]) for r in _loop_errors(caplog) if r.exc_info]
        assert messages == ["failed as the loop stopped"]
        # Running the loop again (the done callback is still queued) logs nothing twice.
        io_loop.run_sync(lambda: None)
        messages = [str(r.exc_info[1]) for r in _loop_errors(caplog) if r.exc_info]
    assert messages == ["failed as the loop stopped"]


def test_run_sync_inside_a_running_loop_is_refused_without_a_stray_coroutine() -> None:
    # filterwarnings=error turns a "coroutine ... was never awaited" into a failure of
    # whichever test collects it: the refusal must come before any coroutine exists.
    other = IOLoop(make_current=False)

    async def inside() -> None:
        with pytest.raises(RuntimeError, match="inside a running event loop"):
            other.run_sync(lambda: None)

    try:
        asyncio.run(inside())
        gc.collect()
    finally:
        other.close()


@pytest.mark.parametrize(
    "impl", ["tornado.platform.asyncio.AsyncIOMainLoop", "tornado.platform.asyncio.AsyncIOLoop"]
)
def test_configure_naming_tornados_asyncio_loops_is_what_squall_does_already(impl: str) -> None:
    IOLoop.configure(impl)  # Tornado 4/5 programs do this before anything else
    loop = IOLoop(make_current=False)
    try:
        assert isinstance(loop.asyncio_loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


@pytest.mark.parametrize(
    ("impl", "kwargs"),
    [("tornado.platform.twisted.TwistedIOLoop", {}), ("AsyncIOMainLoop", {"x": 1})],
)
def test_configure_naming_another_loop_class_is_refused_in_one_line(
    impl: str, kwargs: dict[str, int]
) -> None:
    with pytest.raises(LoopClassError) as info:
        IOLoop.configure(impl, **kwargs)
    message = str(info.value)
    assert "\n" not in message and repr(impl) in message
    assert "squall has one IOLoop" in message and isinstance(info.value, ValueError)
