"""HTTPServer.add_shutdown_callback: an application's clean-up run by shutdown()."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from squall.http import HTTPServer, HTTPServerRequest


def _ok(request: HTTPServerRequest) -> None:
    request.connection.respond(200, [], b"ok")  # type: ignore[union-attr]


def test_callbacks_run_once_in_order_values_callables_and_awaitables() -> None:
    seen: list[str] = []

    async def main() -> None:
        server = HTTPServer(_ok)
        server.listen(0, "127.0.0.1")

        def plain() -> int:
            seen.append(f"plain sockets={len(server.sockets)}")  # already stopped accepting
            return 42  # a value: ignored

        def gives_callable() -> Any:
            return lambda: seen.append("returned callable")

        async def slow() -> None:
            await asyncio.sleep(0.05)
            seen.append("awaited")

        server.add_shutdown_callback(plain)
        server.add_shutdown_callback(gives_callable)
        server.add_shutdown_callback(slow)
        await server.shutdown(2)
        assert seen == ["plain sockets=0", "returned callable", "awaited"]
        await server.shutdown(2)  # a second shutdown runs nothing again
        assert len(seen) == 3

    asyncio.run(asyncio.wait_for(main(), 10))


def test_errors_in_callbacks_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("sync boom")

    async def broken_later() -> None:
        raise RuntimeError("async boom")

    async def main() -> None:
        server = HTTPServer(_ok)
        server.listen(0, "127.0.0.1")
        server.add_shutdown_callback(broken)
        server.add_shutdown_callback(broken_later)
        server.add_shutdown_callback(lambda: seen.append("after"))
        await server.shutdown(2)

    with caplog.at_level(logging.ERROR, logger="squall.http"):
        asyncio.run(asyncio.wait_for(main(), 10))
    assert seen == ["after"]
    errors = [r for r in caplog.records if r.name == "squall.http" and r.exc_info]
    assert {str(r.exc_info[1]) for r in errors if r.exc_info} == {"sync boom", "async boom"}


def test_awaitable_callback_runs_while_requests_in_flight_finish() -> None:
    order: list[str] = []

    async def app(request: HTTPServerRequest) -> None:
        await asyncio.sleep(0.2)
        order.append("request finished")
        request.connection.respond(200, [], b"done")  # type: ignore[union-attr]

    async def cleanup() -> None:
        order.append("cleanup began")
        await asyncio.sleep(0.3)
        order.append("cleanup ended")

    async def main() -> None:
        server = HTTPServer(app)
        server.listen(0, "127.0.0.1")
        server.add_shutdown_callback(cleanup)
        port = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.05)
        await server.shutdown(5)
        assert (await r.read()).endswith(b"done")
        w.close()
        await w.wait_closed()

    asyncio.run(asyncio.wait_for(main(), 10))
    assert order == ["cleanup began", "request finished", "cleanup ended"]


@contextlib.contextmanager
def _script(code: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """Run ``code`` in a Python process (text pipes); killed and reaped if still running."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.slow
def test_sigterm_in_a_script_runs_the_shutdown_callbacks() -> None:
    code = """
        import asyncio
        from squall.http import HTTPServer
        from squall.loop import IOLoop
        server = HTTPServer(lambda r: r.connection.respond(200, [], b"up"))
        server.listen(0, "127.0.0.1")
        async def cleanup():
            await asyncio.sleep(0.01)
            print("cleaned up", flush=True)
        server.add_shutdown_callback(cleanup)
        server.install_signal_handlers(timeout=2)
        print(server.sockets[0].getsockname()[1], flush=True)
        IOLoop.current().start()
        print("stopped", flush=True)
    """
    with _script(code) as proc:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text == "up"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert out.splitlines() == ["cleaned up", "stopped"]


@pytest.mark.slow
def test_a_second_stop_signal_while_stopping_runs_the_callbacks_once(tmp_path: Path) -> None:
    # Ctrl-C pressed twice: the second lands while the first shutdown waits on its callback,
    # which goes on only once the server said it saw the second (no timing involved).
    code = """
        import asyncio, logging, os, sys
        from squall.http import HTTPServer
        from squall.loop import IOLoop
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
        server = HTTPServer(lambda r: r.connection.respond(200, [], b"up"))
        server.listen(0, "127.0.0.1")
        async def cleanup():
            print("cleanup began", flush=True)
            while not os.path.exists(sys.argv[1]):
                await asyncio.sleep(0.01)
            print("cleanup ended", flush=True)
        server.add_shutdown_callback(cleanup)
        server.install_signal_handlers(timeout=2)
        print(server.sockets[0].getsockname()[1], flush=True)
        IOLoop.current().start()
        print("stopped", flush=True)
    """
    go_on = tmp_path / "go-on"
    with _script(code, str(go_on)) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        port = int(proc.stdout.readline())
        # Answered, so the loop runs: uvloop loses a signal that comes before it starts.
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text == "up"
        proc.send_signal(signal.SIGTERM)
        assert proc.stdout.readline() == "cleanup began\n"
        proc.send_signal(signal.SIGTERM)
        seen: list[str] = []
        for line in proc.stderr:  # bounded by the test's timeout
            seen.append(line)
            if "already shutting down" in line:
                break
        go_on.touch()
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, "".join(seen) + err
        assert out.splitlines() == ["cleanup ended", "stopped"]


@pytest.mark.slow
@pytest.mark.parametrize("use_uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_a_stop_signal_sent_before_the_loop_runs_still_shuts_down(
    tmp_path: Path, use_uvloop: bool
) -> None:
    # The usual script: install_signal_handlers(), then start(); a SIGTERM in between (an
    # orchestrator stopping a server that just started) used to be lost under uvloop.
    if use_uvloop:
        pytest.importorskip("uvloop")
    code = """
        import os, sys, time
        from squall.http import HTTPServer
        from squall.loop import IOLoop
        IOLoop(use_uvloop=sys.argv[2] == "1").make_current()
        server = HTTPServer(lambda r: r.connection.respond(200, [], b"up"))
        server.listen(0, "127.0.0.1")
        server.add_shutdown_callback(lambda: print("cleaned up", flush=True))
        server.install_signal_handlers(timeout=2)
        print("ready", flush=True)
        while not os.path.exists(sys.argv[1]):  # the signal has come by then
            time.sleep(0.01)
        IOLoop.current().start()
        print("stopped", flush=True)
    """
    go_on = tmp_path / "go-on"
    with _script(code, str(go_on), "1" if use_uvloop else "0") as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGTERM)
        go_on.touch()
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert out.splitlines() == ["cleaned up", "stopped"]
