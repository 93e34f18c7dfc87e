"""WebSocket benchmarks: squall.websocket beside Tornado, aiohttp, websockets and Starlette.

Run (from the repository's root, with the `bench` session's packages installed):

    python benchmarks/websocket.py [--rounds 3] [--duration 3] [--servers a,b] [--output FILE]

Tables, side by side in one run (servers pinned to CPU 1, the client to CPU 0, as run.py):

- echo round trips per second, 32 B text and 64 KiB binary, on 1 and on 100 connections
  (closed loop: each connection sends its next message when the echo came back), with the
  server's CPU µs per round trip from /proc over the same window, and the share of a CPU
  the server and the client each used then (a side near 100% bounds the rate);
- broadcast: one message to 1,000 connected clients, milliseconds until all received it
  (median of 20);
- memory: the server's RSS fresh, then while 10,000 idle WebSockets are open; KiB each.

The echo tables also measure a floor (servers/ws_floor.py: a bare uvloop Protocol that
sends each frame back without unmasking, validating or calling anything), not a peer: what
the event loop and the kernel cost per round trip, which bounds every server's ratio.

The client (ws_client.py) is one uvloop process of raw sockets. Results go to the
"WebSocket" section of RESULTS.md (replaced in place; other sections are left alone).
Nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from harness import (
    CLIENT_CPU,
    Harness,
    Running,
    ServerSpec,
    cpu_model,
    raise_nofile_limit,
    rss_kib,
    tree_cpu_seconds,
)

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "ws_client.py"
SPECS = [
    ServerSpec("squall", "squall.websocket (uvloop)", "ws_squall.py", ["--loop", "uvloop"]),
    ServerSpec("squall-asyncio", "squall.websocket (asyncio)", "ws_squall.py",
               ["--loop", "asyncio"]),
    ServerSpec("tornado", "tornado (uvloop)", "ws_tornado.py", ["--loop", "uvloop"]),
    ServerSpec("aiohttp", "aiohttp (uvloop)", "ws_aiohttp.py", ["--loop", "uvloop"]),
    ServerSpec("websockets", "websockets (uvloop)", "ws_websockets.py", ["--loop", "uvloop"]),
    ServerSpec("starlette", "uvicorn+starlette (uvloop)", "ws_starlette.py"),
]  # fmt: skip
# Not a peer: a bare uvloop echo with no WebSocket work (servers/ws_floor.py), measured in
# the echo tables only, so that each server's CPU per round trip can be read against what
# the event loop and the kernel cost alone.
FLOOR = ServerSpec(
    "floor", "floor: bare uvloop echo, no WebSocket work", "ws_floor.py", ["--loop", "uvloop"]
)
SQUALL_IDS = ("squall", "squall-asyncio")
NOT_PEERS = (*SQUALL_IDS, FLOOR.id)
ECHO_TABLES = [(32, 1), (32, 100), (65536, 1), (65536, 100)]
BROADCAST_CONNS = 1000
IDLE_CONNS = 10_000
SECTION = "## WebSocket"


@dataclass
class Row:
    values: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    # Share of one CPU each side used over the measured window: a side near 100% bounds the
    # closed-loop rate, whichever server is measured.
    server_pct: list[float] = field(default_factory=list)
    client_pct: list[float] = field(default_factory=list)


def run_client(h: Harness, args: list[str], timeout: float) -> tuple[list[dict], list[float]]:
    """Run ws_client.py on CPU 0; its JSON lines, and the times its phase lines came."""
    proc = h.spawn([sys.executable, str(CLIENT), *args], cpu=CLIENT_CPU, stdout=subprocess.PIPE)
    lines: list[dict] = []
    stamps: list[float] = []
    deadline = time.monotonic() + timeout
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.append(json.loads(raw))
            stamps.append(time.monotonic())
            if time.monotonic() > deadline:
                break
        proc.wait(max(1.0, deadline - time.monotonic()))
    finally:
        h.stop(proc)
    if proc.returncode not in (0, None) or not lines:
        raise RuntimeError(f"client {args} failed with status {proc.returncode}")
    return lines, stamps


def echo_round(h: Harness, server: Running, size: int, conns: int, duration: float) -> Row:
    pid = server.proc.pid
    proc = h.spawn(
        [sys.executable, str(CLIENT), "echo", "--port", str(server.port), "--conns",
         str(conns), "--size", str(size), "--duration", str(duration), "--warmup", "1"],
        cpu=CLIENT_CPU, stdout=subprocess.PIPE,
    )  # fmt: skip
    cpu0 = cpu1 = client0 = client1 = 0.0
    result: dict = {}
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = json.loads(raw)
            if line.get("phase") == "start":
                cpu0 = tree_cpu_seconds([pid])
                client0 = tree_cpu_seconds([proc.pid])
            elif line.get("phase") == "end":
                cpu1 = tree_cpu_seconds([pid])
                client1 = tree_cpu_seconds([proc.pid])
            else:
                result = line
        proc.wait(30)
    finally:
        h.stop(proc)
    if not result or result.get("bad"):
        raise RuntimeError(f"echo against {server.label} failed: {result}")
    rps = result["rps"]
    wall = result["wall"]
    return Row(
        [rps],
        [(cpu1 - cpu0) / result["round_trips"] * 1e6 if rps else float("nan")],
        [(cpu1 - cpu0) / wall * 100],
        [(client1 - client0) / wall * 100],
    )


def fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def ratio_line(what: str, medians: dict[str, float], higher_better: bool) -> str:
    peers = {k: v for k, v in medians.items() if k not in NOT_PEERS}
    ours = {k: v for k, v in medians.items() if k in SQUALL_IDS}
    if not peers or not ours:
        return f"{what}: peers or squall missing"
    best_id = (max if higher_better else min)(peers, key=peers.__getitem__)
    best = peers[best_id]
    mine_id = (max if higher_better else min)(ours, key=ours.__getitem__)
    mine = ours[mine_id]
    r = mine / best if higher_better else best / mine
    return f"{what}: {mine_id} {r:.2f}× the best peer ({best_id})"


def floor_note(cpu_medians: dict[str, float]) -> str:
    """What the floor row allows: the best CPU ratio any server could reach on this table."""
    floor = cpu_medians.get(FLOOR.id)
    peers = {k: v for k, v in cpu_medians.items() if k not in NOT_PEERS}
    if floor is None or not peers:
        return ""
    best_id = min(peers, key=peers.__getitem__)
    return (
        f" (the floor, no WebSocket work at all, would be {peers[best_id] / floor:.2f}×; "
        f"squall's own work {cpu_medians.get('squall', float('nan')) - floor:.1f} µs, "
        f"{best_id}'s {peers[best_id] - floor:.1f} µs)"
    )


def start(h: Harness, specs: list[ServerSpec]) -> list[Running]:
    started = [h.start_server(s) for s in specs]
    up = []
    for s in started:
        if h.wait_ready(s):
            up.append(s)
        else:
            h.say(f"  FAILED: {s.label}: {s.failed}\n{s.log_tail()}")
            h.stop(s.proc)
    time.sleep(0.5)
    return up


def stop_all(h: Harness, servers: list[Running]) -> None:
    for s in servers:
        h.stop(s.proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--servers", default=",".join(s.id for s in SPECS))
    parser.add_argument("--only", default="echo,broadcast,memory")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--no-floor", action="store_true", help="leave the floor row out of the echo tables"
    )
    args = parser.parse_args()
    taskset = shutil.which("taskset")
    if taskset is None:
        print("error: taskset is needed (Debian package util-linux)", file=sys.stderr)
        return 2
    raise_nofile_limit()
    wanted = set(args.servers.split(","))
    specs = [s for s in SPECS if s.id in wanted]
    only = set(args.only.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="squall-wsbench-"))
    h = Harness(workdir, {"taskset": taskset})
    out: list[str] = []
    targets: list[str] = []
    try:
        if "echo" in only:
            for size, conns in ECHO_TABLES:
                label = f"{'32 B text' if size == 32 else '64 KiB binary'}, {conns} conn"
                h.say(f"echo {label}")
                servers = start(h, specs if args.no_floor else [*specs, FLOOR])
                rows = {s.spec.id: Row() for s in servers}
                for _ in range(args.rounds):
                    for s in servers:
                        r = echo_round(h, s, size, conns, args.duration)
                        rows[s.spec.id].values += r.values
                        rows[s.spec.id].cpu_us += r.cpu_us
                        rows[s.spec.id].server_pct += r.server_pct
                        rows[s.spec.id].client_pct += r.client_pct
                        time.sleep(0.5)
                stop_all(h, servers)
                out += [
                    f"### echo, {label}{'s' if conns > 1 else ''} "
                    f"(round trips/s, closed loop, {args.rounds}×{args.duration:g} s)",
                    "",
                    "| server | round trips/s (median) | min–max | server CPU µs/round trip "
                    "| server CPU % | client CPU % |",
                    "|---|---:|---:|---:|---:|---:|",
                ]
                medians = {}
                cpu_medians = {}
                for s in servers:
                    row = rows[s.spec.id]
                    med = statistics.median(row.values)
                    medians[s.spec.id] = med
                    cpu_medians[s.spec.id] = statistics.median(row.cpu_us)
                    out.append(
                        f"| {s.label} | {fmt(med)} | {fmt(min(row.values))}–"
                        f"{fmt(max(row.values))} | {fmt(cpu_medians[s.spec.id], 1)} "
                        f"| {fmt(statistics.median(row.server_pct))} "
                        f"| {fmt(statistics.median(row.client_pct))} |"
                    )
                out.append("")
                targets.append(
                    ratio_line(f"echo {label}: round trips/s", medians, True)
                    + "; server CPU per round trip: "
                    + ratio_line("", cpu_medians, False).split(": ", 1)[1]
                    + floor_note(cpu_medians)
                )
        if "broadcast" in only:
            h.say(f"broadcast to {BROADCAST_CONNS}")
            servers = start(h, specs)
            medians = {}
            out += [
                f"### broadcast: one 32 B message to {BROADCAST_CONNS:,} clients "
                "(ms until all received, 20 broadcasts)",
                "",
                "| server | median ms | min ms |",
                "|---|---:|---:|",
            ]
            for s in servers:
                lines, _ = run_client(
                    h,
                    ["broadcast", "--port", str(s.port), "--conns", str(BROADCAST_CONNS),
                     "--rounds", "20"],
                    120,
                )  # fmt: skip
                res = lines[-1]
                medians[s.spec.id] = res["median_ms"]
                out.append(f"| {s.label} | {res['median_ms']:.2f} | {res['min_ms']:.2f} |")
                h.stop(s.proc)
                time.sleep(0.5)
            out.append("")
            targets.append(ratio_line("broadcast to 1,000 (time)", medians, False))
        if "memory" in only:
            h.say(f"memory with {IDLE_CONNS} idle WebSockets")
            out += [
                f"### memory: VmRSS fresh (1 s after start), then holding {IDLE_CONNS:,} idle "
                "WebSockets",
                "",
                "| server | fresh MiB | holding MiB | KiB per WebSocket |",
                "|---|---:|---:|---:|",
            ]
            per_conn = {}
            for spec in specs:
                (s,) = start(h, [spec]) or [None]
                if s is None:
                    continue
                time.sleep(1.0)
                fresh = rss_kib([s.proc.pid])
                proc = h.spawn(
                    [sys.executable, str(CLIENT), "idle", "--port", str(s.port), "--conns",
                     str(IDLE_CONNS), "--hold", "60"],
                    cpu=CLIENT_CPU, stdout=subprocess.PIPE,
                )  # fmt: skip
                try:
                    assert proc.stdout is not None
                    first = json.loads(proc.stdout.readline() or "{}")
                    if first.get("open") != IDLE_CONNS:
                        raise RuntimeError(f"{spec.label}: idle client failed: {first}")
                    time.sleep(2.0)
                    holding = rss_kib([s.proc.pid])
                finally:
                    h.stop(proc)
                    h.stop(s.proc)
                kib = (holding - fresh) / IDLE_CONNS
                per_conn[spec.id] = kib
                out.append(
                    f"| {spec.label} | {fresh / 1024:.1f} | {holding / 1024:.1f} | {kib:.2f} |"
                )
                time.sleep(1.0)
            out.append("")
            targets.append(ratio_line("memory per idle WebSocket", per_conn, False))
    finally:
        h.close()

    versions = ", ".join(
        f"{d} {metadata.version(d)}"
        for d in ("squall-websocket", "tornado", "aiohttp", "websockets", "uvicorn", "starlette",
                  "uvloop")
    )  # fmt: skip
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    argv = " ".join(sys.argv[1:])
    head = [
        SECTION,
        "",
        f"`python benchmarks/websocket.py {argv}`".replace(" `", "`"),
        f"on {now}; Python {platform.python_version()}; {versions}; CPU {cpu_model()}.",
        "Servers on CPU 1, the raw-socket client (benchmarks/ws_client.py, one uvloop",
        "process) on CPU 0; no compression. In the echo tables the floor row (servers/",
        "ws_floor.py: a bare uvloop echo, no WebSocket work) is not a peer, and server/client",
        "CPU % is the share of one CPU each side used (a side near 100% would bound the rate).",
        "Ratios (squall's best vs the best peer; > 1 is better for squall):",
        "",
        *[f"- {t}" for t in targets],
        "",
    ]
    section = "\n".join(head + out).rstrip() + "\n"
    print(section)
    text = args.output.read_text() if args.output.exists() else ""
    if SECTION in text:
        before, rest = text.split(SECTION, 1)
        nxt = rest.find("\n## ")
        after = rest[nxt + 1 :] if nxt >= 0 else ""
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip() + "\n\n" + section
    args.output.write_text(text)
    print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
