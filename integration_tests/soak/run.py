"""The soak: minutes of mixed load through a real squall server, then what must hold.

Run: python integration_tests/soak/run.py [--seconds 300] [--loops asyncio,uvloop]
(``nox -s soak`` runs it with the defaults; ``SQUALL_SOAK_SECONDS=45`` shortens it.)

For each event loop (asyncio for ``--seconds``, then uvloop for ``--uvloop-seconds``, half
as long by default) it starts app.py as its own process on 127.0.0.1, warms it up, reads
its file descriptors and asyncio tasks, then drives the load: wrk bursts (keep-alive,
pipelined, ``Connection: close``), the Python clients of clients.py, and a pool of idle
keep-alive connections. When the clients have left it checks, and exits 1 if any fails:

- log: no record at ERROR or above, no traceback, no warning outside logcheck.ALLOWED;
- rss: the median RSS of the last 20 s of load is within 10 % of the median RSS over
  20 s around the first minute (medians, so a 20 MiB upload in flight at one sample is
  not read as a leak);
- responses: every response a Python client read was well-formed and the right answer,
  none timed out, and wrk saw no non-2xx answer;
- fds: the server's open descriptors are back to their count before the load;
- tasks: the app's asyncio tasks are back to their count before the load (0);
- backlog: the listening socket keeps the backlog the app asked for (4096, or the
  kernel's net.core.somaxconn when lower);
- exit: the server shuts down on SIGTERM with status 0.

New-connection latency (connect + GET /hello + the whole answer, 2 probes 10 times a
second) is measured and printed (median, p99), not judged. Every process started here
runs in its own session and is killed by its PID's group in a ``finally``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from clients import (
    MIX,
    IdlePool,
    Stats,
    Target,
    keepalive,
    request,
    run_op,
    static,
    upload,
    worker,
)
from logcheck import ALLOWED, LogVerdict, check_log
from watch import (
    PIPELINE_LUA,
    Wrk,
    WrkTotals,
    fd_count,
    kernel_max_backlog,
    listen_backlog,
    listen_overflows,
    rss_kib,
)
from wire import read_response

HERE = Path(__file__).resolve().parent
APP = HERE / "app.py"
ENV_SECONDS = "SQUALL_SOAK_SECONDS"
DEFAULT_SECONDS = 300
APP_BACKLOG = 4096  # what app.py asks bind_sockets for
STATIC_SIZES = {"1k.bin": 1024, "64k.bin": 64 * 1024, "1m.bin": 1 << 20, "8m.bin": 8 << 20}
RSS_TOLERANCE = 0.10
SETTLE_TIMEOUT = 30.0


@dataclass
class Phase:
    """Everything measured during one event loop's run."""

    loop: str
    seconds: float
    stats: Stats = field(default_factory=Stats)
    wrk: WrkTotals = field(default_factory=WrkTotals)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, rss KiB, fds)
    loop_class: str = ""
    fd_start: int = 0
    fd_end: int = 0
    tasks_start: int = -1
    tasks_end: int = -1
    tasks_sample: list[str] = field(default_factory=list)
    objects: list[dict[str, object]] = field(default_factory=list)  # /_soak/tasks at start, end
    backlog: int = 0
    backlog_expected: int = 0
    overflows: int = 0
    idle_opened: int = 0
    exit_status: int | None = None
    log: LogVerdict = field(default_factory=LogVerdict)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def window_rss(self, start: float, end: float) -> int:
        values = [rss for t, rss, _ in self.samples if start <= t <= end]
        return int(statistics.median(values)) if values else 0


class Server:
    """app.py as a process of its own session; ended by its PID's group in ``stop``."""

    def __init__(self, loop: str, static_dir: Path, logs: Path) -> None:
        self.out_path = logs / f"{loop}.out"
        self.err_path = logs / f"{loop}.err"
        self._out = open(self.out_path, "wb")  # noqa: SIM115 - closed in stop()
        self._err = open(self.err_path, "wb")  # noqa: SIM115
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("PYTHONWARNINGS", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(APP), "--static-dir", str(static_dir), "--loop", loop],
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            env=env,
            start_new_session=True,
        )
        self.port = 0
        self.loop_class = ""

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.out_path.read_text().splitlines():
                if line.startswith("SOAK-READY "):
                    fields = dict(f.split("=", 1) for f in line.split()[1:])
                    self.port = int(fields["port"])
                    self.loop_class = fields["loop"]
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"soak server exited {self.proc.returncode}:\n{self.stderr()}")
            time.sleep(0.1)
        raise RuntimeError(f"soak server not ready after {timeout} s:\n{self.stderr()}")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def terminate(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful shutdown); the exit status, or None if it had to be killed."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self._out.close()
        self._err.close()


async def get_json(port: int, path: str) -> dict[str, object]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request("GET", path, close=True))
        resp = await asyncio.wait_for(read_response(reader, keep_body_below=1 << 20), 30)
    finally:
        writer.close()
    result: dict[str, object] = json.loads(resp.body)
    return result


async def post(port: int, path: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request("POST", path, (("Content-Length", "0"),), close=True))
        resp = await asyncio.wait_for(read_response(reader), 30)
    finally:
        writer.close()
    if resp.status != 200:
        raise RuntimeError(f"POST {path} answered {resp.status}")


async def settle(read: object, want: int | None, timeout: float = SETTLE_TIMEOUT) -> int:
    """Poll `read()` until it equals `want` (or, with None, holds still 3 times)."""
    deadline = time.monotonic() + timeout
    last: list[int] = []
    value = -1
    while time.monotonic() < deadline:
        value = await read() if asyncio.iscoroutinefunction(read) else read()  # type: ignore[operator]
        if want is not None and value == want:
            return value
        last = (last + [value])[-3:]
        if want is None and len(last) == 3 and len(set(last)) == 1:
            return value
        await asyncio.sleep(0.3)
    return value


async def sampler(phase: Phase, pid: int, t0: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(OSError, RuntimeError):
            phase.samples.append((time.monotonic() - t0, rss_kib(pid), fd_count(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def drive(
    phase: Phase, target: Target, wrk: Wrk | None, idle: int, pid: int, skip: set[str]
) -> None:
    """The load: workers of every kind, wrk bursts, the idle pool; until the deadline."""
    t0 = time.monotonic()
    deadline = t0 + phase.seconds
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler(phase, pid, t0, stop))
    pool = IdlePool(target, idle)

    async def idle_part() -> None:
        await pool.open()
        phase.idle_opened = len(pool.conns)
        while time.monotonic() + 15 < deadline:
            await asyncio.sleep(15)
            await pool.touch()

    jobs = [
        worker(target, kind, op, deadline, pause)
        for kind, (op, n, pause) in MIX.items()
        if kind not in skip
        for _ in range(n)
    ]
    jobs.append(idle_part())
    if wrk is not None:
        jobs.append(wrk.run(deadline))
    try:
        await asyncio.gather(*jobs)
    finally:
        stop.set()
        await sampling
        pool.close()


async def run_phase(
    phase: Phase,
    static_dir: Path,
    logs: Path,
    target_files: dict[str, bytes],
    blob: bytes,
    args: argparse.Namespace,
) -> None:
    # SIGTERM (a CI timeout, nox stopped) cancels the phase like Ctrl-C does: the finally
    # below then kills what was started.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    server = Server(phase.loop, static_dir, logs)
    wrk: Wrk | None = None
    try:
        server.wait_ready()
        phase.loop_class = server.loop_class
        pid, port = server.proc.pid, server.port
        target = Target(port, target_files, blob, phase.stats, random.Random(args.seed))
        wrk_path = shutil.which("wrk")
        if wrk_path is not None:
            lua = logs / "pipeline.lua"
            lua.write_text(PIPELINE_LUA)
            wrk = Wrk(wrk_path, port, lua, phase.wrk)
        elif not args.no_wrk:
            raise RuntimeError("wrk not found (Debian package wrk); --no-wrk runs without it")

        # Warm up every route once, so that lazily opened things count as the start.
        warm = Target(port, target_files, blob, Stats(), random.Random(0))
        for op in (keepalive, keepalive, static, static, static, static, upload, upload):
            await run_op(warm, "warm-up", op)
        if warm.stats.failed():
            raise RuntimeError(f"warm-up failed: {warm.stats.failures}")
        tasks = await get_json(port, "/_soak/tasks")
        phase.tasks_start = int(tasks["tasks"])  # type: ignore[call-overload]
        phase.objects.append(tasks)
        tracing = bool(os.environ.get("SQUALL_SOAK_TRACEMALLOC"))
        if tracing:
            await post(port, "/_soak/tracemalloc")
        phase.fd_start = await settle(lambda: fd_count(pid), None)
        phase.backlog = listen_backlog(port)
        phase.backlog_expected = min(APP_BACKLOG, kernel_max_backlog())
        overflows = listen_overflows()

        await drive(phase, target, wrk, args.idle, pid, set(args.skip.split(",")))

        phase.overflows = listen_overflows() - overflows

        async def read_tasks() -> int:
            data = await get_json(port, "/_soak/tasks")
            phase.tasks_sample = list(data["sample"])  # type: ignore[call-overload]
            return int(data["tasks"])  # type: ignore[call-overload]

        phase.tasks_end = await settle(read_tasks, phase.tasks_start)
        phase.fd_end = await settle(lambda: fd_count(pid), phase.fd_start)
        phase.objects.append(await get_json(port, "/_soak/tasks"))
        if tracing:
            top = (await get_json(port, "/_soak/tracemalloc"))["top"]
            print("tracemalloc, grew most since warm-up:", *top, sep="\n  ")  # type: ignore[misc]
        phase.exit_status = server.terminate()
    finally:
        if wrk is not None:
            wrk.end_all()
        server.stop()
        phase.log = check_log(server.stderr())


def judge(phase: Phase) -> None:
    c = phase.checks
    c.append(
        (
            "log",
            phase.log.ok,
            f"{sum(phase.log.unexpected.values())} unexpected records, "
            f"{phase.log.tracebacks} tracebacks",
        )
    )
    ref_t = min(60.0, phase.seconds * 0.4)
    rss_ref = phase.window_rss(ref_t - 10, ref_t + 10)
    rss_end = phase.window_rss(phase.seconds - 20, phase.seconds + 1)
    growth = (rss_end - rss_ref) / rss_ref if rss_ref else float("inf")
    c.append(
        (
            "rss",
            abs(growth) <= RSS_TOLERANCE,
            f"{rss_ref / 1024:.1f} MiB at {ref_t:.0f} s -> {rss_end / 1024:.1f} MiB at the end "
            f"({growth:+.1%}, limit ±{RSS_TOLERANCE:.0%})",
        )
    )
    failed = phase.stats.failed()
    non2xx = sum(phase.wrk.non_2xx.values())
    c.append(
        (
            "responses",
            failed == 0 and non2xx == 0 and not phase.wrk.failures,
            f"{failed} bad Python-client outcomes, {non2xx} wrk non-2xx, "
            f"{len(phase.wrk.failures)} wrk failures",
        )
    )
    c.append(("fds", phase.fd_end == phase.fd_start, f"{phase.fd_start} -> {phase.fd_end}"))
    c.append(
        (
            "tasks",
            phase.tasks_end == phase.tasks_start == 0,
            f"{phase.tasks_start} -> {phase.tasks_end}",
        )
    )
    c.append(
        (
            "backlog",
            phase.backlog == phase.backlog_expected,
            f"listen backlog {phase.backlog}, asked {phase.backlog_expected}",
        )
    )
    c.append(("exit", phase.exit_status == 0, f"status {phase.exit_status} after SIGTERM"))


def summary(phase: Phase) -> str:
    lat = sorted(phase.stats.latencies)
    out = [f"== soak under {phase.loop} ({phase.loop_class}), {phase.seconds:.0f} s of load =="]
    if lat:
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        out.append(
            f"new-connection latency: median {statistics.median(lat) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms ({len(lat)} probes)"
        )
    rss = [s[1] for s in phase.samples]
    fds = [s[2] for s in phase.samples]
    if rss:
        out.append(
            f"RSS min/max {min(rss) / 1024:.1f}/{max(rss) / 1024:.1f} MiB; "
            f"fds peak {max(fds)}; idle keep-alive connections held {phase.idle_opened}; "
            f"listen overflows (system-wide) {phase.overflows}"
        )
    if phase.samples:
        marks = [
            f"{t:.0f}s:{rss / 1024:.1f}"
            for t, rss, _ in phase.samples[:: max(1, len(phase.samples) // 10)]
        ]
        out.append(f"RSS MiB over time: {' '.join(marks)}")
    if len(phase.objects) == 2:
        start, end = phase.objects
        before: dict[str, int] = start["types"]  # type: ignore[assignment]
        after: dict[str, int] = end["types"]  # type: ignore[assignment]
        grew = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        out.append(
            f"gc-tracked objects after warm-up {start['objects']}, after the load {end['objects']}"
            f" (changed among the most common types: {grew or 'none'})"
        )
    by_kind: dict[str, list[str]] = {}
    for (kind, outcome), n in sorted(phase.stats.counts.items()):
        by_kind.setdefault(kind, []).append(f"{outcome}:{n}")
    for kind, parts in by_kind.items():
        out.append(f"  {kind:<19} {' '.join(parts)}")
    for kind, n in phase.wrk.requests.items():
        errs = phase.wrk.socket_errors.get(kind, {})
        out.append(
            f"  wrk {kind:<15} requests:{n} non-2xx:{phase.wrk.non_2xx.get(kind, 0)} "
            f"socket errors {errs}"
        )
    for key, n in phase.log.allowed.most_common():
        out.append(f"  log (allowed) {n:>6} x {key}")
    for key, n in phase.log.unexpected.most_common():
        out.append(f"  LOG UNEXPECTED {n:>5} x {key}")
    for check, ok, detail in phase.checks:
        out.append(f"  [{'ok' if ok else 'FAIL'}] {check}: {detail}")
    if not all(ok for _, ok, _ in phase.checks):
        for detail in phase.stats.failures[:10] + phase.wrk.failures[:3]:
            out.append(f"    client: {detail}")
        for key in list(phase.log.unexpected)[:4]:
            example = phase.log.examples[key].splitlines()
            out.append("    log: " + "\n         ".join(example[:12]))
        if phase.tasks_sample:
            out.append(f"    tasks left: {phase.tasks_sample}")
    return "\n".join(out)


def raise_fd_limit() -> None:
    """The idle pool and the server (which inherits it) need more than 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def parse_args() -> argparse.Namespace:
    default = float(os.environ.get(ENV_SECONDS, DEFAULT_SECONDS))
    p = argparse.ArgumentParser(description="squall soak: mixed load, then checks")
    p.add_argument(
        "--seconds",
        type=float,
        default=default,
        help=f"seconds of load under asyncio (default {ENV_SECONDS} or 300)",
    )
    p.add_argument(
        "--uvloop-seconds",
        type=float,
        default=None,
        help="seconds of load under uvloop (default: half of --seconds)",
    )
    p.add_argument("--loops", default="asyncio,uvloop", help="which loops, in order")
    p.add_argument("--idle", type=int, default=1500, help="idle keep-alive connections held")
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--no-wrk", action="store_true", help="run without wrk (development only)")
    p.add_argument("--skip", default="", help="client kinds left out (development only)")
    p.add_argument("--keep-logs", action="store_true", help="keep the servers' logs")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    raise_fd_limit()
    rng = random.Random(args.seed)
    contents = {name: rng.randbytes(size) for name, size in STATIC_SIZES.items()}
    blob = rng.randbytes(20 << 20)
    durations = {"asyncio": args.seconds, "uvloop": args.uvloop_seconds or args.seconds / 2}
    phases: list[Phase] = []
    work = Path(tempfile.mkdtemp(prefix="squall-soak-"))
    ok = True
    try:
        static_dir = work / "static"
        static_dir.mkdir()
        for name, data in contents.items():
            (static_dir / name).write_bytes(data)
        for loop in args.loops.split(","):
            phase = Phase(loop, durations[loop])
            phases.append(phase)
            print(f"soak: {loop} for {phase.seconds:.0f} s ...", flush=True)
            crash = ""
            try:
                asyncio.run(run_phase(phase, static_dir, work, contents, blob, args))
            except Exception as exc:  # reported as a failed check, with the server's log
                crash = f"{exc.__class__.__name__}: {exc}"[:2000]
            judge(phase)
            if crash:
                phase.checks.insert(0, ("run", False, crash))
            print(summary(phase), flush=True)
            ok = ok and all(passed for _, passed, _ in phase.checks)
    finally:
        if args.keep_logs or not ok:
            print(f"soak: server logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("expected warnings (logcheck.ALLOWED):")
    for logger, rx, why in ALLOWED:
        print(f"  {logger}: {rx.pattern}\n      {why}")
    print(f"soak: {'PASSED' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
