"""What the soak reads from outside the server: /proc, the listen backlog, wrk.

All of it is Linux-only, as the soak is: RSS from ``/proc/PID/status``, open descriptors
from ``/proc/PID/fd``, the listen backlog from ``ss`` (iproute2: for a listening socket
its Send-Q column is the backlog the kernel keeps), and the load of wrk bursts.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def rss_kib(pid: int) -> int:
    """Resident set size of `pid` in KiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def fd_count(pid: int) -> int:
    """How many file descriptors `pid` holds open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def listen_backlog(port: int) -> int:
    """The backlog of the socket listening on 127.0.0.1:`port`, as the kernel keeps it."""
    ss = shutil.which("ss")
    if ss is None:
        raise RuntimeError("`ss` not found (Debian package iproute2): cannot read the backlog")
    out = subprocess.run(
        [ss, "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] == "LISTEN" and fields[3].endswith(f":{port}"):
            return int(fields[2])
    raise RuntimeError(f"ss shows no listening socket on port {port}:\n{out}")


def kernel_max_backlog() -> int:
    """net.core.somaxconn: the kernel caps any listen() backlog to it."""
    return int(Path("/proc/sys/net/core/somaxconn").read_text())


def listen_overflows() -> int:
    """TcpExt ListenOverflows, system-wide (other processes' sockets included)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=True))
            return int(table.get("ListenOverflows", 0))
    return 0


# -- wrk ---------------------------------------------------------------------------------------

PIPELINE_LUA = """
-- wrk script: every request is DEPTH pipelined GETs of PATH (default 16 x /hello).
init = function(args)
  local depth = tonumber(args[1]) or 16
  local path = args[2] or "/hello"
  local reqs = {}
  for i = 1, depth do reqs[i] = wrk.format(nil, path) end
  pipelined = table.concat(reqs)
end
request = function() return pipelined end
"""


@dataclass
class WrkTotals:
    """Sums over every wrk burst of a phase, by burst kind."""

    requests: dict[str, int] = field(default_factory=dict)
    non_2xx: dict[str, int] = field(default_factory=dict)
    socket_errors: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, kind: str, text: str) -> None:
        m = re.search(r"(\d+) requests in", text)
        if m is None:
            self.failures.append(f"wrk {kind}: no request count in its output:\n{text[-500:]}")
            return
        self.requests[kind] = self.requests.get(kind, 0) + int(m.group(1))
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        self.non_2xx[kind] = self.non_2xx.get(kind, 0) + (int(m.group(1)) if m else 0)
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
        errs = self.socket_errors.setdefault(
            kind, {"connect": 0, "read": 0, "write": 0, "timeout": 0}
        )
        if m:
            for name, value in zip(errs, m.groups(), strict=True):
                errs[name] += int(value)


# (kind, connections, seconds, extra wrk arguments before the URL, path, script arguments)
WRK_BURSTS: list[tuple[str, int, int, list[str], str, list[str]]] = [
    ("keep-alive", 64, 8, [], "/hello", []),
    ("keep-alive", 16, 4, [], "/json", []),
    ("pipelined", 8, 6, ["-s", "{lua}"], "/", ["16", "/hello"]),
    ("close", 16, 3, ["-H", "Connection: close"], "/hello", []),
]


class Wrk:
    """Runs wrk bursts until a deadline; every wrk process is ended by its PID."""

    def __init__(self, wrk: str, port: int, lua: Path, totals: WrkTotals) -> None:
        self.wrk = wrk
        self.port = port
        self.lua = lua
        self.totals = totals
        self.procs: list[asyncio.subprocess.Process] = []

    async def burst(
        self, kind: str, conns: int, secs: int, extra: list[str], path: str, script_args: list[str]
    ) -> None:
        args = [a.replace("{lua}", str(self.lua)) for a in extra]
        cmd = [
            self.wrk,
            "-t1",
            f"-c{conns}",
            f"-d{secs}s",
            "--timeout",
            "30s",
            *args,
            f"http://127.0.0.1:{self.port}{path}",
        ]
        if script_args:
            cmd += ["--", *script_args]
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), secs + 60)
        finally:
            self.end(proc)
        text = out.decode("utf-8", "replace")
        if proc.returncode != 0:
            self.totals.failures.append(f"wrk {kind} exited {proc.returncode}:\n{text[-500:]}")
        self.totals.add(kind, text)

    async def run(self, deadline: float) -> None:
        """Bursts in turn, 2 s apart, while a whole burst still fits before `deadline`."""
        i = 0
        while True:
            kind, conns, secs, extra, path, sargs = WRK_BURSTS[i % len(WRK_BURSTS)]
            if time.monotonic() + secs + 1 > deadline:
                return
            await self.burst(kind, conns, secs, extra, path, sargs)
            i += 1
            await asyncio.sleep(2)

    def end(self, proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc in self.procs and proc.returncode is not None:
            self.procs.remove(proc)

    def end_all(self) -> None:
        for proc in list(self.procs):
            if proc.returncode is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
