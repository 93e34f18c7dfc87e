"""多进程: ``bind`` + ``start(num_processes)`` — one port shared by forked children.

Statements checked: ``start()`` / ``start(1)`` serve from the process itself (默认仅开启一个
进程); ``start(n)`` with n > 0 forks n children that all answer on the one port;
``start(0)`` (None or <= 0) forks one child per CPU; a child killed with SIGKILL is
replaced and the port keeps answering; SIGTERM to the parent stops every child and frees
the port (所有进程是由一个命令一次开启的).
"""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

pytestmark = pytest.mark.slow


def pid_of_server(port: int) -> int:
    """GET /pid on a new connection (so the kernel may hand it to any child)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    return int(body)


def pids_seen(port: int, want: int, timeout: float = 15.0) -> set[int]:
    """Ask /pid on fresh connections until `want` different PIDs answered (bounded)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < want and time.monotonic() < deadline:
        seen.add(pid_of_server(port))
        # Let another child win the next accept (they race on the shared socket).
        time.sleep(0.01)
    return seen


def wait_children(procs, pid: int, n: int, timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    kids = procs.children(pid)
    while len(kids) != n and time.monotonic() < deadline:
        time.sleep(0.05)
        kids = procs.children(pid)
    return kids


def test_default_start_serves_from_one_process(launcher, procs):
    with launcher.running_example("multiprocess.py") as srv:
        assert procs.children(srv.pid) == []
        assert pid_of_server(srv.port) == srv.pid
        assert {pid_of_server(srv.port) for _ in range(20)} == {srv.pid}


def test_start_2_answers_from_two_children(launcher, procs, raw):
    with launcher.running_example("multiprocess.py", ["--processes=2"]) as srv:
        kids = wait_children(procs, srv.pid, 2)
        assert len(kids) == 2, srv.describe(f"children {kids}")
        assert raw.request(srv.port, "GET", "/").body == b"helo word"
        seen = pids_seen(srv.port, 2)
        assert seen == set(kids), srv.describe(f"answers came from {seen}, children {kids}")
        assert srv.pid not in seen  # the parent only watches its children


def test_start_0_forks_one_child_per_cpu(launcher, procs):
    ncpu = os.cpu_count() or 1
    with launcher.running_example("multiprocess.py", ["--processes=0"]) as srv:
        kids = wait_children(procs, srv.pid, ncpu)
        assert len(kids) == ncpu, srv.describe(f"{len(kids)} children for {ncpu} CPUs")
        # Every child answers (on big machines, at least a few of them: seeing all of 64
        # children through the kernel's accept distribution would take long).
        want = ncpu if ncpu <= 4 else 4
        seen = pids_seen(srv.port, want)
        assert len(seen) >= want and seen <= set(kids), srv.describe(f"{seen} vs {kids}")


def test_a_killed_child_is_replaced_and_the_port_keeps_answering(launcher, procs):
    with launcher.running_example("multiprocess.py", ["--processes=2"]) as srv:
        kids = wait_children(procs, srv.pid, 2)
        assert len(kids) == 2, srv.describe(f"children {kids}")
        victim = kids[0]
        os.kill(victim, signal.SIGKILL)
        # The survivor keeps answering meanwhile.
        assert pid_of_server(srv.port) in set(kids) - {victim} | set(procs.children(srv.pid))

        def replaced() -> list[int] | None:
            now = procs.children(srv.pid)
            return now if len(now) == 2 and victim not in now else None

        deadline = time.monotonic() + 15
        now = replaced()
        while now is None and time.monotonic() < deadline:
            time.sleep(0.05)
            now = replaced()
        assert now is not None, srv.describe(
            f"child {victim} not replaced: {procs.children(srv.pid)}"
        )
        assert pids_seen(srv.port, 2) == set(now)


def test_sigterm_to_the_parent_stops_all_children_and_frees_the_port(launcher, procs, raw):
    with launcher.running_example("multiprocess.py", ["--processes=2"]) as srv:
        kids = wait_children(procs, srv.pid, 2)
        assert len(kids) == 2, srv.describe(f"children {kids}")
        assert raw.request(srv.port, "GET", "/").body == b"helo word"
        os.kill(srv.pid, signal.SIGTERM)
        try:
            srv.proc.wait(timeout=15)
        except Exception:
            pytest.fail(srv.describe("the parent did not exit within 15 s of SIGTERM"))
        deadline = time.monotonic() + 15
        while any(procs.alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(procs.alive(k) for k in kids), srv.describe("children outlived the parent")
        from_port_free = time.monotonic() + 10
        while not _free(srv.port) and time.monotonic() < from_port_free:
            time.sleep(0.05)
        assert _free(srv.port), srv.describe("the port is still bound")


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_forking_after_the_loop_started_is_refused(tmp_path, launcher):
    # Note 1 of the section: children copy the parent's IOLoop; squall refuses to fork
    # once a loop is running, with a clear error instead of subtly broken children.
    script = tmp_path / "fork_late.py"
    script.write_text(
        "import squall.http, squall.loop, squall.web\n"
        "async def main():\n"
        "    server = squall.http.HTTPServer(squall.web.Application([]))\n"
        "    server.bind(0, '127.0.0.1')\n"
        "    server.start(2)\n"
        "squall.loop.IOLoop.current().run_sync(main)\n"
    )
    result = launcher.run(script, [], timeout=30)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "fork" in last.lower() and "ioloop" in last.lower(), result.stderr
