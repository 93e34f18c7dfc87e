"""Shared fixtures of the integration suite: examples started as real processes.

Every example of ``examples/`` is started with ``sys.executable -u examples/X.py --port=N``
on a free port of 127.0.0.1, in its own session (so it and every process it forks share
one process group), with stdout and stderr sent to files that the tests read. A test waits
(bounded) until the port accepts, talks to it with httpx or raw sockets, and the fixture
kills the whole process group by its id when it is done.

With ``--import-mode=importlib`` test modules cannot import each other, so everything the
test files share lives here, reached through fixtures: ``launcher`` (start examples),
``raw`` (raw HTTP over a socket) and ``procs`` (small /proc helpers).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PACKAGES = ROOT / "packages"

# Bounds for every wait in the suite: long enough for a loaded 2-core CI machine, short
# enough that a broken server fails a test quickly instead of hitting the 120 s timeout.
START_TIMEOUT = 20.0
POLL = 0.05


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago.

    Chosen below the kernel's ephemeral range: a port from that range (what binding to
    port 0 gives) can be taken by any outgoing connection of the busy machine before the
    example binds it. The examples listen on every address, so the port is checked on
    0.0.0.0.
    """
    low, _ = _ephemeral_range()
    start, stop = (10000, low) if low > 11000 else (low, 65535)
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(start, stop)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    """True when a TCP connection to host:port succeeds right now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def port_is_free(port: int) -> bool:
    """True when a listening socket could bind 127.0.0.1:port (nobody listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # SO_REUSEADDR as servers use it: TIME_WAIT connections left by the tests must not
        # count as "someone still listens".
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen(1)
        except OSError:
            return False
    return True


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `predicate` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL)


# ---------------------------------------------------------------------------------------
# Raw HTTP: where the bytes on the wire matter (status line, reason phrase, repeated headers)
# ---------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    """A response read from a socket, split but not interpreted."""

    status_line: str
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        """The last value of header `name` (case-insensitive), or None."""
        values = self.header_list(name)
        return values[-1] if values else None

    def header_list(self, name: str) -> list[str]:
        """Every value of header `name` (case-insensitive), in wire order."""
        return [v for k, v in self.headers if k.lower() == name.lower()]


def parse_response(data: bytes) -> RawResponse:
    """Split one HTTP/1.x response (the whole of `data`) into its parts; de-chunk the body."""
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, f"no end of headers in {data[:300]!r}"
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0]
    version, _, rest = status_line.partition(" ")
    code, _, reason = rest.partition(" ")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        body = _dechunk(body)
    return RawResponse(status_line, version, int(code), reason, headers, body, data)


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


def raw_exchange(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send `request` bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                pytest.fail(f"server on port {port} did not close within {timeout} s")
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


class Raw:
    """Raw HTTP/1.1 requests sent with ``Connection: close`` (given to tests as ``raw``)."""

    def request(
        self,
        port: int,
        method: str = "GET",
        target: str = "/",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        version: str = "HTTP/1.1",
    ) -> RawResponse:
        """One request on a fresh connection; the parsed response."""
        lines = [f"{method} {target} {version}", f"Host: 127.0.0.1:{port}", "Connection: close"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        return parse_response(raw_exchange(port, data))

    def exchange(self, port: int, data: bytes) -> bytes:
        """Send arbitrary bytes, return everything read until the server closes."""
        return raw_exchange(port, data)


@pytest.fixture(scope="session")
def raw() -> Raw:
    """Raw-socket HTTP helper."""
    return Raw()


# ---------------------------------------------------------------------------------------
# Example processes
# ---------------------------------------------------------------------------------------


@dataclass
class Server:
    """A running example: its process, port and captured output."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    out_path: Path
    err_path: Path
    files: list[Any] = field(default_factory=list)
    path: Path | None = None  # the script

    @property
    def pid(self) -> int:
        """PID of the process the test started (the parent, for multi-process examples)."""
        return self.proc.pid

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def stdout(self) -> str:
        """Everything the example printed to stdout so far."""
        return self.out_path.read_bytes().decode("utf-8", "replace")

    def stderr(self) -> str:
        """Everything the example wrote to stderr so far."""
        return self.err_path.read_bytes().decode("utf-8", "replace")

    def mark(self) -> tuple[int, int]:
        """Current length of (stdout, stderr), to read only what follows with ``since``."""
        return (self.out_path.stat().st_size, self.err_path.stat().st_size)

    def stdout_since(self, mark: tuple[int, int]) -> str:
        """stdout written after `mark`."""
        return self.out_path.read_bytes()[mark[0] :].decode("utf-8", "replace")

    def stderr_since(self, mark: tuple[int, int]) -> str:
        """stderr written after `mark`."""
        return self.err_path.read_bytes()[mark[1] :].decode("utf-8", "replace")

    def wait_stdout(self, text: str, mark: tuple[int, int] = (0, 0), timeout: float = 10.0) -> str:
        """Wait until `text` appears in stdout after `mark`; return that stdout."""

        def seen() -> str | None:
            out = self.stdout_since(mark)
            return out if text in out else None

        try:
            return str(wait_until(seen, timeout, f"{text!r} on stdout of {self.name}"))
        except pytest.fail.Exception:
            raise AssertionError(self.describe(f"{text!r} never appeared on stdout")) from None

    def wait_stderr(self, text: str, mark: tuple[int, int] = (0, 0), timeout: float = 10.0) -> str:
        """Wait until `text` appears in stderr after `mark`; return that stderr."""

        def seen() -> str | None:
            err = self.stderr_since(mark)
            return err if text in err else None

        try:
            return str(wait_until(seen, timeout, f"{text!r} on stderr of {self.name}"))
        except pytest.fail.Exception:
            raise AssertionError(self.describe(f"{text!r} never appeared on stderr")) from None

    def describe(self, problem: str) -> str:
        """A failure message carrying the example's output."""
        return (
            f"{self.name} (pid {self.pid}, port {self.port}): {problem}\n"
            f"--- stdout ---\n{self.stdout()[-3000:]}\n--- stderr ---\n{self.stderr()[-3000:]}"
        )

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until the port accepts connections; fail early if the process died."""
        deadline = time.monotonic() + timeout
        while not port_accepts(self.port):
            if self.proc.poll() is not None:
                raise AssertionError(
                    self.describe(f"exited with status {self.proc.returncode} before listening")
                )
            if time.monotonic() > deadline:
                raise AssertionError(self.describe(f"port not accepting after {timeout} s"))
            time.sleep(POLL)

    def stop(self) -> None:
        """Kill the example and every process of its group, then reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
            pass
        for f in self.files:
            f.close()
        self.files.clear()


def _announces_itself(script: Path) -> bool:
    """Whether ``script`` prints ``serving on URL`` once it listens (every example does)."""
    try:
        return "serving on " in script.read_text(encoding="utf-8")
    except OSError:
        return False


class Launcher:
    """Starts examples as processes (given to tests as ``launcher``)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[Server] = []
        self.count = 0

    def popen(
        self,
        script: str | Path,
        args: list[str] | None = None,
        *,
        port: int | None = None,
        python: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        port_arg: bool = True,
    ) -> Server:
        """Start `script` (a name in examples/ or a path) without waiting for its port."""
        path = Path(script) if Path(script).is_absolute() else EXAMPLES / script
        port = free_port() if port is None else port
        self.count += 1
        stem = f"{self.count:03d}-{path.stem}"
        out_path = self.logs / f"{stem}.out"
        err_path = self.logs / f"{stem}.err"
        out = open(out_path, "wb")  # noqa: SIM115 - closed by Server.stop
        err = open(err_path, "wb")  # noqa: SIM115
        full_env = dict(os.environ)
        full_env.update({"PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"})
        # Warnings filters of the test run must not leak into the examples.
        full_env.pop("PYTHONWARNINGS", None)
        if env:
            full_env.update(env)
        cmd = [python or sys.executable, "-u", str(path)]
        if port_arg:
            cmd.append(f"--port={port}")
        cmd += args or []
        proc = subprocess.Popen(
            cmd,
            cwd=str(cwd or path.parent),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=full_env,
            start_new_session=True,
        )
        server = Server(path.name, port, proc, out_path, err_path, [out, err], path)
        self.running.append(server)
        return server

    def start(self, script: str | Path, args: list[str] | None = None, **kw: Any) -> Server:
        """Start `script` and wait until its port accepts connections.

        When the port was picked here and someone else took it before the example could
        bind it ("Address already in use"), the example is started again on another port.
        """
        attempts = 1 if kw.get("port") is not None else 3
        for attempt in range(attempts):
            server = self.popen(script, args, **kw)
            try:
                server.wait_ready()
                if server.path is not None and _announces_itself(server.path):
                    # The port accepts connections from listen() on, before the script
                    # prints its line: a test marking stdout now would see the line later.
                    server.wait_stdout("serving on ")
            except BaseException:
                self.stop(server)
                lost_race = "Address already in use" in server.stderr()
                if lost_race and attempt + 1 < attempts:
                    continue
                raise
            return server
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.contextmanager
    def running_example(
        self, script: str | Path, args: list[str] | None = None, **kw: Any
    ) -> Iterator[Server]:
        """``with launcher.running_example("hello.py") as srv:`` — stopped on exit."""
        server = self.start(script, args, **kw)
        try:
            yield server
        finally:
            self.stop(server)

    def run(
        self,
        script: str | Path,
        args: list[str],
        *,
        timeout: float = 30.0,
        python: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `script` to completion (for scripts that exit: --help, bad options)."""
        path = Path(script) if Path(script).is_absolute() else EXAMPLES / script
        full_env = dict(os.environ)
        full_env.update({"PYTHONIOENCODING": "utf-8"})
        full_env.pop("PYTHONWARNINGS", None)
        if env:
            full_env.update(env)
        proc = subprocess.Popen(
            [python or sys.executable, "-u", str(path), *args],
            cwd=str(cwd or path.parent),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"{path.name} {args} did not exit within {timeout} s")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        return subprocess.CompletedProcess(
            proc.args,
            proc.returncode,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
        )

    def stop(self, server: Server) -> None:
        """Stop one example started by this launcher."""
        server.stop()
        if server in self.running:
            self.running.remove(server)

    def stop_all(self) -> None:
        """Stop whatever is still running (end of the session)."""
        for server in list(self.running):
            self.stop(server)


@pytest.fixture(scope="session")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """Start examples as processes; anything left running is killed at the end."""
    launcher = Launcher(tmp_path_factory.mktemp("example-logs"))
    try:
        yield launcher
    finally:
        launcher.stop_all()


@pytest.fixture
def examples_copy(tmp_path: Path) -> Path:
    """A private copy of examples/ that a test may edit (debug mode, config files)."""
    dest = tmp_path / "examples"
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


# ---------------------------------------------------------------------------------------
# /proc helpers (Linux): children of a process, epoll registrations
# ---------------------------------------------------------------------------------------


class Procs:
    """Small /proc readers (given to tests as ``procs``)."""

    @staticmethod
    def alive(pid: int) -> bool:
        """True when `pid` exists and is not a zombie."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except (FileNotFoundError, ProcessLookupError):
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    @staticmethod
    def children(pid: int) -> list[int]:
        """Live (non-zombie) child PIDs of `pid`, from /proc/*/stat."""
        kids: list[int] = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            state, ppid = fields[0], int(fields[1])
            if ppid == pid and state != "Z":
                kids.append(int(entry))
        return sorted(kids)

    @staticmethod
    def epoll_watch_count(pid: int) -> int:
        """How many file descriptors the epoll instances of `pid` watch (``tfd:`` lines)."""
        total = 0
        fd_dir = f"/proc/{pid}/fd"
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target == "anon_inode:[eventpoll]":
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    total += sum(1 for line in f if line.startswith("tfd:"))
        return total

    @staticmethod
    def has_epoll(pid: int) -> bool:
        """True when `pid` holds an epoll file descriptor."""
        fd_dir = f"/proc/{pid}/fd"
        for fd in os.listdir(fd_dir):
            with contextlib.suppress(OSError):
                if os.readlink(f"{fd_dir}/{fd}") == "anon_inode:[eventpoll]":
                    return True
        return False


@pytest.fixture(scope="session")
def procs() -> Procs:
    """/proc helpers."""
    return Procs()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """The examples/ folder of the repository (read-only: copy it to edit)."""
    return EXAMPLES


@pytest.fixture(scope="session")
def get_free_port() -> Callable[[], int]:
    """A function returning a free TCP port of 127.0.0.1."""
    return free_port
