"""Ctrl-C (SIGINT) stops IOLoop.start() and run_sync(), on asyncio and on uvloop.

Each case runs in a fresh interpreter: Python's default SIGINT handler is in place there
(a test runner's worker may have its own), and a lost Ctrl-C shows as a process that does
not end.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from squall.loop._interrupt import SigintToStop

# A server whose connection callback is running when the Ctrl-C arrives: uvloop catches
# an exception raised there ("Fatal error on transport") and the server went on serving.
SERVER = """
import asyncio, os, signal, sys
from squall.loop import IOLoop

class Interrupted(asyncio.Protocol):
    def data_received(self, data):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100_000):  # the handler runs in here, between two bytecodes
            pass

loop = IOLoop(use_uvloop=sys.argv[1] == "uvloop")
server = loop.asyncio_loop.run_until_complete(
    loop.asyncio_loop.create_server(Interrupted, "127.0.0.1", 0)
)
print(server.sockets[0].getsockname()[1], flush=True)
try:
    loop.start()
except KeyboardInterrupt:
    print("KeyboardInterrupt from start()", flush=True)
    raise
"""

RUN_SYNC = """
import asyncio, sys
from squall.loop import IOLoop

async def work():
    print("ready", flush=True)
    try:
        await asyncio.sleep(30)
    finally:
        print("work unwound", flush=True)

try:
    IOLoop(use_uvloop=sys.argv[1] == "uvloop").run_sync(work)
except KeyboardInterrupt:
    print("KeyboardInterrupt from run_sync()", flush=True)
    raise
"""

LOOPS = pytest.mark.parametrize("kind", ["asyncio", "uvloop"])


def _child(script: str, kind: str) -> subprocess.Popen[str]:
    if kind == "uvloop":
        pytest.importorskip("uvloop")
    return subprocess.Popen(
        [sys.executable, "-c", script, kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the Ctrl-C was lost: the process went on running\n{err}")


@LOOPS
def test_ctrl_c_during_a_connection_callback_stops_start(kind: str) -> None:
    import socket

    proc = _child(SERVER, kind)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"x")
        out, err = _finish(proc)
    assert proc.returncode == -signal.SIGINT, err
    assert out == "KeyboardInterrupt from start()\n"
    assert "Fatal error" not in err


@LOOPS
def test_ctrl_c_cancels_run_syncs_work_then_raises(kind: str) -> None:
    proc = _child(RUN_SYNC, kind)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    out, err = _finish(proc)
    assert proc.returncode == -signal.SIGINT, err
    assert out == "work unwound\nKeyboardInterrupt from run_sync()\n"


def test_a_sigint_handler_of_the_program_is_left_in_place() -> None:
    def programs_own(signum: int, frame: object) -> None:  # pragma: no cover - never sent
        pass

    before = signal.signal(signal.SIGINT, programs_own)
    try:
        with SigintToStop(lambda: None):
            assert signal.getsignal(signal.SIGINT) is programs_own
        assert signal.getsignal(signal.SIGINT) is programs_own
    finally:
        signal.signal(signal.SIGINT, before)
