"""Process and measurement tools for run.py: servers, wrk, /proc readings.

Every process started here is recorded and ended by its id (its own process group, made
with ``start_new_session``) in ``Harness.close()``, which run.py calls in a ``finally``.
"""

from __future__ import annotations

import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVERS = HERE / "servers"
SERVER_CPU = "1"
CLIENT_CPU = "0"
CLK_TCK = os.sysconf("SC_CLK_TCK")

REQUIRED_TOOLS = {
    "wrk": "wrk",
    "taskset": "util-linux",
    "nginx": "nginx",
}
TOOL_PATHS = {"nginx": "/usr/sbin/nginx"}


class BenchError(Exception):
    """A clear, expected failure (missing tool, server that does not start)."""


def check_tools(need_nginx: bool) -> dict[str, str]:
    """Paths of wrk, taskset (and nginx); a BenchError naming the Debian package otherwise."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for tool, package in REQUIRED_TOOLS.items():
        if tool == "nginx" and not need_nginx:
            continue
        path = shutil.which(tool) or (
            TOOL_PATHS[tool]
            if tool in TOOL_PATHS and os.access(TOOL_PATHS[tool], os.X_OK)
            else None
        )
        if path is None:
            missing.append(
                f"{tool} (Debian package: {package}; `apt-get install {package.split()[0]}`)"
            )
        else:
            found[tool] = path
    if missing:
        raise BenchError("missing tools: " + "; ".join(missing))
    if os.cpu_count() is None or (os.cpu_count() or 0) < 2:
        raise BenchError("needs 2 CPUs: servers are pinned to CPU 1, wrk to CPU 0")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_nofile_limit() -> None:
    """Children inherit it: 1,000 idle connections plus wrk's need more than 1,024 fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# --------------------------------------------------------------------------- /proc


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # The command name may hold spaces and parentheses: split after the last ')'.
    return data[data.rindex(")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants (nginx's worker is a child of its master)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(entry))[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu_seconds(pids: Sequence[int]) -> float:
    """utime+stime of these processes, in seconds (gone processes count as 0)."""
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def cpu_busy_seconds(cpu: str) -> float:
    """Busy time (everything but idle and iowait) of one CPU since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                ticks = [int(x) for x in line.split()[1:]]
                return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLK_TCK
    return math.nan


def rss_kib(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def open_sockets(pids: Sequence[int]) -> int:
    n = 0
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                        n += 1
                except OSError:
                    pass
        except OSError:
            continue
    return n


def cpu_model() -> str:
    """The CPU's model name with its family and model numbers.

    A hypervisor often reports only "AMD EPYC" for every generation, and the ratios between
    a Python server and a Rust or C++ one differ between generations: the numbers say which.
    """
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in fields:
                    fields[key] = value.strip()
                if not line.strip() and fields:
                    break
    except OSError:
        pass
    name = fields.get("model name", "unknown")
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


# --------------------------------------------------------------------------- servers


@dataclass
class ServerSpec:
    """How to start one server: an id for --servers, a label for tables, a command."""

    id: str
    label: str
    script: str | None = None  # a file in servers/, run with this Python
    args: list[str] = field(default_factory=list)
    nginx: bool = False
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Running:
    spec: ServerSpec
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    pids: list[int] = field(default_factory=list)
    failed: str | None = None

    @property
    def label(self) -> str:
        return self.spec.label

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 15) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])


class Harness:
    """Starts servers pinned to CPU 1 and wrk pinned to CPU 0; ends them all on close()."""

    def __init__(self, workdir: Path, tools: dict[str, str], verbose: bool = True) -> None:
        self.workdir = workdir
        self.tools = tools
        self.verbose = verbose
        self.procs: list[subprocess.Popen[bytes]] = []
        self.current_client: subprocess.Popen[bytes] | None = None

    def say(self, msg: str) -> None:
        if self.verbose:
            print(msg, file=sys.stderr, flush=True)

    # -- process control

    def spawn(
        self,
        argv: list[str],
        *,
        cpu: str,
        log: Path | None = None,
        env: dict[str, str] | None = None,
        stdin: int | None = subprocess.DEVNULL,
        stdout: int | None = None,
    ) -> subprocess.Popen[bytes]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        out = open(log, "ab") if log else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(
                [self.tools["taskset"], "-c", cpu, *argv],
                stdin=stdin,
                stdout=stdout if stdout is not None else out,
                stderr=out,
                env=full_env,
                start_new_session=True,  # its own group: ended by id, with its children
            )
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
        """SIGTERM the process group led by proc.pid, SIGKILL it if it lingers."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout)
        # Children of the group (nginx's worker) may outlive a killed leader.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc in self.procs:
            self.procs.remove(proc)

    def close(self) -> None:
        for proc in list(self.procs):
            try:
                self.stop(proc)
            except Exception as e:  # keep cleaning up whatever happens
                print(f"cleanup of pid {proc.pid} failed: {e}", file=sys.stderr)

    # -- servers

    def server_argv(self, spec: ServerSpec, port: int, static_dir: Path | None) -> list[str]:
        if spec.nginx:
            prefix = Path(os.path.realpath(self.workdir)) / f"nginx-{spec.id}-{port}"
            prefix.mkdir(parents=True, exist_ok=True)
            template = (HERE / "nginx.conf.template").read_text()
            static = static_dir if static_dir else prefix / "nostatic"
            conf = (
                template.replace("@PREFIX@", str(prefix))
                .replace("@PORT@", str(port))
                .replace("@STATIC@", str(static))
            )
            conf_path = prefix / "nginx.conf"
            conf_path.write_text(conf)
            return [
                self.tools["nginx"],
                "-p",
                str(prefix),
                "-c",
                str(conf_path),
                "-e",
                str(prefix / "error.log"),
            ]
        assert spec.script is not None
        args = [
            a.replace("@STATIC@", str(static_dir)).replace("@WORK@", str(self.workdir))
            for a in spec.args
        ]
        return [sys.executable, str(SERVERS / spec.script), "--port", str(port), *args]

    def start_server(self, spec: ServerSpec, static_dir: Path | None = None) -> Running:
        port = free_port()
        log = self.workdir / f"{spec.id}-{port}.log"
        proc = self.spawn(
            self.server_argv(spec, port, static_dir), cpu=SERVER_CPU, log=log, env=spec.env
        )
        return Running(spec, proc, port, log)

    def wait_ready(self, server: Running, timeout: float = 20.0) -> bool:
        """True once the port accepts a connection; records why not otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not server.alive():
                server.failed = f"exited with status {server.proc.returncode}"
                return False
            try:
                with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                    server.pids = process_tree(server.proc.pid)
                    return True
            except OSError:
                time.sleep(0.02)
        server.failed = f"did not accept a connection within {timeout:.0f} s"
        return False

    def check_response(self, server: Running, path: str, expect: bytes | int) -> bool:
        """One GET: 200 and the expected body (bytes contained, or int = exact length)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"http://127.0.0.1:{server.port}{path}", timeout=10) as resp:
                status, body = resp.status, resp.read()
        except Exception as e:
            server.failed = f"GET {path} failed: {e}"
            return False
        ok = status == 200 and (len(body) == expect if isinstance(expect, int) else expect in body)
        if not ok:
            server.failed = f"GET {path}: status {status}, body {body[:80]!r}"
        return ok

    def start_all(
        self,
        specs: Sequence[ServerSpec],
        checks: Sequence[tuple[str, bytes | int]],
        static_dir: Path | None = None,
    ) -> list[Running]:
        """Start every server, wait for each, check its responses; failed ones are reported."""
        started = [self.start_server(s, static_dir) for s in specs]
        for server in started:
            if self.wait_ready(server) and all(
                self.check_response(server, path, expect) for path, expect in checks
            ):
                self.say(f"  up: {server.label} on port {server.port} (pids {server.pids})")
            else:
                self.say(f"  FAILED: {server.label}: {server.failed}\n{server.log_tail()}")
                self.stop(server.proc)
        return started

    # -- wrk

    def wrk(
        self,
        server: Running,
        path: str,
        conns: int,
        duration: float,
        headers: Sequence[str] = (),
        pipeline: int = 1,
    ) -> WrkResult:
        """One wrk run pinned to CPU 0; server CPU from /proc over the same window.

        ``headers`` are extra request headers (``"Accept-Encoding: gzip"``); ``pipeline`` > 1
        sends that many requests per write (``pipeline.lua``), each response still counted.
        """
        url = f"http://127.0.0.1:{server.port}{path}"
        argv = [
            self.tools["taskset"],
            "-c",
            CLIENT_CPU,
            self.tools["wrk"],
            "-t1",
            f"-c{conns}",
            f"-d{duration:g}s",
            "--latency",
            *[arg for header in headers for arg in ("-H", header)],
            *(["-s", str(HERE / "pipeline.lua")] if pipeline > 1 else []),
            url,
            *(["--", str(pipeline)] if pipeline > 1 else []),
        ]
        # The whole tree: nginx answers from a worker, Granian from a worker process.
        pids = process_tree(server.proc.pid)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = tree_cpu_seconds(pids)
        busy_before = cpu_busy_seconds(SERVER_CPU)
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.current_client = proc
        try:
            out, _ = proc.communicate(timeout=duration + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            self.current_client = None
        wall = time.monotonic() - t0
        cpu_after = tree_cpu_seconds(pids)
        busy = cpu_busy_seconds(SERVER_CPU) - busy_before
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # wrk is the only child reaped in this window (servers are reaped at the end).
        wrk_cpu = (children_after.ru_utime - children_before.ru_utime) + (
            children_after.ru_stime - children_before.ru_stime
        )
        text = out.decode(errors="replace")
        if proc.returncode != 0:
            raise BenchError(f"wrk failed ({proc.returncode}) against {server.label}:\n{text}")
        result = parse_wrk(text, cpu_after - cpu_before, wrk_cpu, wall)
        # What else ran on the server's CPU meanwhile (other people's work, on a shared box).
        result.others_cpu_s = max(0.0, busy - result.srv_cpu_s)
        return result


@dataclass
class WrkResult:
    rps: float
    requests: int
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non2xx: int
    srv_cpu_s: float
    wrk_cpu_s: float
    wall_s: float
    raw: str
    others_cpu_s: float = 0.0

    @property
    def cpu_us_per_req(self) -> float:
        return self.srv_cpu_s / self.requests * 1e6 if self.requests else float("nan")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not m:
        raise BenchError(f"cannot read wrk latency {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(text: str, srv_cpu: float, wrk_cpu: float, wall: float) -> WrkResult:
    def grab(pattern: str) -> re.Match[str]:
        m = re.search(pattern, text, re.MULTILINE)
        if not m:
            raise BenchError(f"cannot read wrk output (no {pattern!r}):\n{text}")
        return m

    rps = float(grab(r"^Requests/sec:\s+([\d.]+)").group(1))
    requests = int(grab(r"^\s*(\d+) requests in").group(1))
    p50 = _ms(grab(r"^\s+50%\s+(\S+)").group(1))
    p99 = _ms(grab(r"^\s+99%\s+(\S+)").group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors = sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    non2xx = int(m.group(1)) if m else 0
    return WrkResult(rps, requests, p50, p99, errors, non2xx, srv_cpu, wrk_cpu, wall, text)
