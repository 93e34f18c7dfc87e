"""fork_processes and task_id, exercised in real subprocesses (scripts written to tmp_path).

Each test runs a small script with ``sys.executable``; children report through files named
after their task id and PID. Every process started is killed by PID in a ``finally``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from squall.loop import bind_sockets, cpu_count, task_id

pytestmark = pytest.mark.slow

_DEADLINE = 20.0  # seconds any single wait in these tests may take


def _write_script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    return script


def _wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _pid_files(directory: Path, tid: int) -> dict[int, Path]:
    """PID -> file of every child that started under task id ``tid``."""
    found: dict[int, Path] = {}
    for f in directory.glob(f"child-{tid}-*"):
        pid = f.name.rsplit("-", 1)[1]
        if pid.isdigit():  # not a "<pid>.tmp" still being written
            found[int(pid)] = f
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


class _Procs:
    """Processes started by a test, and child PIDs it learned; all killed at the end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.child_pids: set[int] = set()

    def run(self, script: Path, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def kill_all(self) -> None:
        for pid in self.child_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=_DEADLINE)
            # Not communicate(): a stray grandchild holding the pipes would make it hang.
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()


@pytest.fixture
def procs() -> Iterator[_Procs]:
    p = _Procs()
    try:
        yield p
    finally:
        p.kill_all()


# A child writes "child-<tid>-<pid>" holding its random draw, then obeys its mode.
_CHILD_SCRIPT = """
    import os, random, signal, sys, time
    from pathlib import Path
    from squall.loop import fork_processes, task_id

    out = Path(sys.argv[1])
    mode = sys.argv[2]
    n = None if sys.argv[3] == "None" else int(sys.argv[3])
    max_restarts = int(sys.argv[4])
    tid = fork_processes(n, max_restarts=max_restarts)
    assert task_id() == tid
    (out / f"child-{tid}-{os.getpid()}.tmp").write_text(repr(random.random()) + "\\n")
    os.rename(out / f"child-{tid}-{os.getpid()}.tmp", out / f"child-{tid}-{os.getpid()}")
    if mode == "exit0":
        sys.exit(0)
    if mode == "fail":
        sys.exit(3)
    while True:  # "serve": wait to be signalled
        signal.pause()
"""


def test_children_get_distinct_task_ids_and_parent_exits_when_they_exit_cleanly(
    tmp_path: Path, procs: _Procs
) -> None:
    script = _write_script(tmp_path, _CHILD_SCRIPT)
    proc = procs.run(script, str(tmp_path), "exit0", "3", "0")
    out, err = proc.communicate(timeout=_DEADLINE)
    assert proc.returncode == 0, err
    files = sorted(tmp_path.glob("child-*"))
    assert sorted(int(f.name.split("-")[1]) for f in files) == [0, 1, 2]
    # Each child reseeded its random module: three different draws.
    assert len({f.read_text() for f in files}) == 3


def test_cpu_count_is_the_machines_processor_count_and_never_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cpu_count() == (os.cpu_count() or 1)
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # what os says when it cannot tell
    assert cpu_count() == 1


def test_none_means_one_child_per_cpu(tmp_path: Path, procs: _Procs) -> None:
    script = _write_script(tmp_path, _CHILD_SCRIPT)
    proc = procs.run(script, str(tmp_path), "exit0", "None", "0")
    _, err = proc.communicate(timeout=_DEADLINE)
    assert proc.returncode == 0, err
    tids = sorted(int(f.name.split("-")[1]) for f in tmp_path.glob("child-*"))
    assert tids == list(range(os.cpu_count() or 1))


def test_a_child_killed_with_sigkill_comes_back_and_sigterm_stops_everything(
    tmp_path: Path, procs: _Procs
) -> None:
    script = _write_script(tmp_path, _CHILD_SCRIPT)
    parent = procs.run(script, str(tmp_path), "serve", "2", "5")
    _wait_for(lambda: len(_pid_files(tmp_path, 0)) == 1, "child 0")
    _wait_for(lambda: len(_pid_files(tmp_path, 1)) == 1, "child 1")
    (first,) = _pid_files(tmp_path, 0)
    (other,) = _pid_files(tmp_path, 1)
    procs.child_pids |= {first, other}

    os.kill(first, signal.SIGKILL)
    _wait_for(lambda: len(_pid_files(tmp_path, 0)) == 2, "child 0 to be restarted")
    (replacement,) = set(_pid_files(tmp_path, 0)) - {first}
    procs.child_pids.add(replacement)
    assert _alive(replacement) and _alive(other)

    parent.send_signal(signal.SIGTERM)
    _, err = parent.communicate(timeout=_DEADLINE)
    assert parent.returncode == 0, err
    assert "child 0" in err and "killed by signal 9" in err
    _wait_for(lambda: not _alive(replacement) and not _alive(other), "children to exit")


def test_sigterm_to_the_parent_frees_the_listening_port(tmp_path: Path, procs: _Procs) -> None:
    script = _write_script(
        tmp_path,
        """
        import os, signal, sys
        from pathlib import Path
        from squall.loop import bind_sockets, fork_processes

        out = Path(sys.argv[1])
        socks = bind_sockets(0, "127.0.0.1")
        (out / "port").write_text(str(socks[0].getsockname()[1]))
        tid = fork_processes(2)
        (out / f"child-{tid}-{os.getpid()}").write_text("up\\n")
        while True:
            signal.pause()
        """,
    )
    parent = procs.run(script, str(tmp_path))
    _wait_for(lambda: len(list(tmp_path.glob("child-*"))) == 2, "two children")
    procs.child_pids |= {int(f.name.rsplit("-", 1)[1]) for f in tmp_path.glob("child-*")}
    port = int((tmp_path / "port").read_text())
    parent.send_signal(signal.SIGTERM)
    parent.communicate(timeout=_DEADLINE)
    _wait_for(lambda: not any(_alive(p) for p in procs.child_pids), "children to exit")
    socks = bind_sockets(port, "127.0.0.1")  # would raise BindError if a child still listened
    for s in socks:
        s.close()


def test_parent_gives_up_after_max_restarts_with_a_clear_error(
    tmp_path: Path, procs: _Procs
) -> None:
    script = _write_script(tmp_path, _CHILD_SCRIPT)
    proc = procs.run(script, str(tmp_path), "fail", "1", "2")
    _, err = proc.communicate(timeout=_DEADLINE)
    assert proc.returncode != 0
    assert "TooManyRestartsError" in err
    assert "giving up after 2 restarts (max_restarts=2)" in err
    assert len(_pid_files(tmp_path, 0)) == 3  # the first start and two restarts


def test_fork_after_an_ioloop_was_created_is_refused(tmp_path: Path, procs: _Procs) -> None:
    script = _write_script(
        tmp_path,
        """
        import os
        from squall.loop import ForkAfterIOLoopError, IOLoop, fork_processes

        IOLoop.current()
        try:
            fork_processes(2)
        except ForkAfterIOLoopError as exc:
            assert isinstance(exc, RuntimeError)
            print("refused:", exc)
        else:
            print("forked in", os.getpid())
        """,
    )
    proc = procs.run(script)
    out, err = proc.communicate(timeout=_DEADLINE)
    assert proc.returncode == 0, err
    assert out.startswith("refused: fork_processes() refused: an IOLoop was already created")
    assert "forked in" not in out


def test_forbid_fork_makes_fork_processes_refuse_with_the_reasons(
    tmp_path: Path, procs: _Procs
) -> None:
    script = _write_script(
        tmp_path,
        """
        import os
        from squall.loop import ForkAfterIOLoopError, ForkError, forbid_fork, fork_processes

        forbid_fork("the watcher thread restarts one process")
        forbid_fork("a pool is open")
        forbid_fork("a pool is open")  # said once
        try:
            fork_processes(2)
        except ForkAfterIOLoopError as exc:
            print("wrong error:", exc)
        except ForkError as exc:
            assert isinstance(exc, RuntimeError)
            print("refused:", exc)
        else:
            print("forked in", os.getpid())
        """,
    )
    proc = procs.run(script)
    out, err = proc.communicate(timeout=_DEADLINE)
    assert proc.returncode == 0, err
    assert out == (
        "refused: fork_processes() refused: the watcher thread restarts one process; "
        "a pool is open\n"
    )


def test_fork_inside_a_running_asyncio_loop_is_refused(tmp_path: Path, procs: _Procs) -> None:
    script = _write_script(
        tmp_path,
        """
        import asyncio
        from squall.loop import ForkAfterIOLoopError, fork_processes

        async def main():
            try:
                fork_processes(2)
            except ForkAfterIOLoopError as exc:
                print("refused:", exc)

        asyncio.run(main())
        """,
    )
    proc = procs.run(script)
    out, err = proc.communicate(timeout=_DEADLINE)
    assert proc.returncode == 0, err
    assert "running asyncio event loop" in out


def test_task_id_is_none_outside_forked_children() -> None:
    assert task_id() is None


def test_bind_then_fork_children_share_the_listening_socket(tmp_path: Path, procs: _Procs) -> None:
    # The notes' pattern: bind, fork, then each child runs its own IOLoop.
    script = _write_script(
        tmp_path,
        """
        import os, socket, sys
        from pathlib import Path
        from squall.loop import IOLoop, bind_sockets, fork_processes

        out = Path(sys.argv[1])
        socks = bind_sockets(0, "127.0.0.1")
        (out / "port.tmp").write_text(str(socks[0].getsockname()[1]))
        os.rename(out / "port.tmp", out / "port")
        tid = fork_processes(2, max_restarts=0)
        (out / f"child-{tid}-{os.getpid()}").write_text("up\\n")
        loop = IOLoop.current()

        def on_accept(sock, events):
            try:
                conn, _ = sock.accept()
            except BlockingIOError:
                return
            # One connection per child: stop listening at once (uvloop may poll once
            # more before stop() takes effect).
            loop.remove_handler(sock)
            conn.sendall(f"{tid}\\n".encode())
            conn.close()
            loop.stop()

        loop.add_handler(socks[0], on_accept, IOLoop.READ)
        loop.start()
        loop.close()
        socks[0].close()
        sys.exit(0)
        """,
    )
    parent = procs.run(script, str(tmp_path))
    _wait_for(lambda: (tmp_path / "port").exists(), "the port")
    port = int((tmp_path / "port").read_text())
    _wait_for(lambda: len(list(tmp_path.glob("child-*"))) == 2, "two children")
    procs.child_pids |= {int(f.name.rsplit("-", 1)[1]) for f in tmp_path.glob("child-*")}
    answers = set()
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", port), timeout=_DEADLINE) as conn:
            answers.add(conn.makefile().readline().strip())
    _, err = parent.communicate(timeout=_DEADLINE)
    assert parent.returncode == 0, err
    assert answers == {"0", "1"}
