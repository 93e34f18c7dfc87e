"""The scenarios of run.py: which servers, which URL, which tables, which targets."""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import math
import os
import platform
import select
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import (
    CLIENT_CPU,
    HERE,
    SERVER_CPU,
    BenchError,
    Harness,
    Running,
    ServerSpec,
    cpu_model,
    free_port,
    open_sockets,
    process_tree,
    rss_kib,
)
from report import (
    MIB,
    Row,
    Table,
    cpu_metric,
    mib_metric,
    p50_metric,
    target_ratio,
    verdict,
)

HELLO = b"hello word"
JSON = b'"Hello, World!"'
ROUTES = 1000
PIPELINE = 16  # requests per write in the pipelined table


@dataclass
class Context:
    harness: Harness
    args: argparse.Namespace
    workdir: Path
    tools: dict[str, str]


@dataclass
class Section:
    """A result that is not a wrk table (RSS, start-up): Markdown plus its target lines."""

    title: str
    body: str
    targets: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [self.body.rstrip(), ""]
        if self.targets:
            lines += [f"- {t}" for t in self.targets] + [""]
        return "\n".join(lines)


def py(id: str, label: str, script: str, *args: str, **env: str) -> ServerSpec:
    return ServerSpec(id, label, script=script, args=list(args), env=dict(env))


NGINX = ServerSpec("nginx", "nginx (C ref)", nginx=True)

# squall.http's optional mypyc build (packages/http/hatch_build.py): the same scripts with
# an unpacked compiled wheel first on PYTHONPATH (run.py --compiled-http DIR; `nox -s bench`
# builds it). The script refuses to start if squall.http there is not the compiled one.
COMPILED_HTTP = "@COMPILED_HTTP@"
_MYPYC = {"PYTHONPATH": COMPILED_HTTP, "SQUALL_BENCH_COMPILED": "1"}
MYPYC_SPECS = [
    py("squall-http-mypyc", "squall.http mypyc", "squall_http.py", "--loop", "asyncio", **_MYPYC),
    py("squall-http-uvloop-mypyc", "squall.http+uvloop mypyc", "squall_http.py",
       "--loop", "uvloop", **_MYPYC),
    py("squall-web-mypyc", "squall.web mypyc", "squall_web.py", "--loop", "asyncio", **_MYPYC),
    py("squall-web-uvloop-mypyc", "squall.web+uvloop mypyc", "squall_web.py",
       "--loop", "uvloop", **_MYPYC),
]  # fmt: skip

HELLO_SPECS = [
    py("squall-http", "squall.http", "squall_http.py", "--loop", "asyncio"),
    py("squall-http-uvloop", "squall.http+uvloop", "squall_http.py", "--loop", "uvloop"),
    py("squall-web", "squall.web", "squall_web.py", "--loop", "asyncio"),
    py("squall-web-uvloop", "squall.web+uvloop", "squall_web.py", "--loop", "uvloop"),
    *MYPYC_SPECS,
    py("tornado", "tornado", "tornado_web.py"),
    py("tornado-httpserver", "tornado HTTPServer", "tornado_httpserver.py"),
    py("aiohttp", "aiohttp", "aiohttp_web.py"),
    py("aiohttp-lowlevel", "aiohttp low-level", "aiohttp_lowlevel.py"),
    py("uvicorn-raw", "uvicorn raw ASGI", "uvicorn_raw.py"),
    py("uvicorn-starlette", "uvicorn+starlette", "starlette_app.py"),
    py("granian-rsgi", "granian RSGI raw", "granian_raw.py", "--interface", "rsgi"),
    py("granian-asgi", "granian ASGI raw", "granian_raw.py", "--interface", "asgi"),
    py("socketify", "socketify raw", "socketify_raw.py"),
    py("limit-asyncio", "limit asyncio", "limit.py", "--loop", "asyncio"),
    py("limit-uvloop", "limit uvloop", "limit.py", "--loop", "uvloop"),
    NGINX,
]
_BY_ID = {s.id: s for s in HELLO_SPECS}
JSON_SPECS = [
    *(
        _BY_ID[i]
        for i in (
            "squall-http", "squall-http-uvloop", "squall-web", "squall-web-uvloop",
            *(m.id for m in MYPYC_SPECS), "tornado", "aiohttp", "uvicorn-raw",
            "uvicorn-starlette", "granian-rsgi", "granian-asgi", "socketify",
        )
    ),
    # The limit's fixed answer, with the JSON body (same labels: the ÷limit column).
    py("limit-asyncio-json", "limit asyncio", "limit.py", "--loop", "asyncio", "--json"),
    py("limit-uvloop-json", "limit uvloop", "limit.py", "--loop", "uvloop", "--json"),
]  # fmt: skip
PIPELINED_SPECS = [
    _BY_ID[i]
    for i in (
        "squall-http", "squall-http-uvloop", "squall-web", "squall-web-uvloop",
        *(m.id for m in MYPYC_SPECS), "uvicorn-raw", "granian-rsgi", "granian-asgi",
        "socketify", "limit-asyncio", "limit-uvloop",
    )
]  # fmt: skip
ROUTES_SPECS = [
    py(f"squall-web-routes{ROUTES}", f"squall.web {ROUTES} routes", "squall_web.py",
       "--routes", str(ROUTES)),
    py("squall-web-routes1", "squall.web 1 route", "squall_web.py", "--routes", "1"),
    py(f"tornado-routes{ROUTES}", f"tornado {ROUTES} routes", "tornado_web.py",
       "--routes", str(ROUTES)),
]  # fmt: skip
ACCESSLOG_SPECS = [
    py("squall-web", "squall.web (access log off)", "squall_web.py"),
    py("squall-web-accesslog", "squall.web (access log on, to a file)", "squall_web.py",
       "--access-log", "@WORK@/access.log"),
    py("squall-web-accesslog-stdlib", "squall.web (access log on, stdlib FileHandler)",
       "squall_web.py", "--access-log", "@WORK@/access-stdlib.log", "--access-log-stdlib"),
]  # fmt: skip
STATIC_SPECS = [
    py("squall-static", "squall.static", "squall_web.py", "--static", "@STATIC@"),
    py("squall-static-uvloop", "squall.static+uvloop", "squall_web.py",
       "--loop", "uvloop", "--static", "@STATIC@"),
    py("tornado-static", "tornado", "tornado_web.py", "--static", "@STATIC@"),
    py("aiohttp-static", "aiohttp", "aiohttp_web.py", "--static", "@STATIC@"),
    NGINX,
]  # fmt: skip
RSS_SPECS = [
    _BY_ID[i]
    for i in (
        "squall-http", "squall-http-uvloop", "squall-web", "squall-web-uvloop", "tornado",
        "aiohttp", "uvicorn-raw", "uvicorn-starlette", "limit-asyncio", "limit-uvloop", "nginx",
    )
]  # fmt: skip
STARTUP_SPECS = [
    py("squall-web-default", "squall.web (notes' app: IOLoop.current().start())",
       "squall_web.py", "--loop", "default"),
    py("tornado", "tornado", "tornado_web.py"),
    py("aiohttp", "aiohttp", "aiohttp_web.py"),
    py("uvicorn-starlette", "uvicorn+starlette", "starlette_app.py"),
    py("limit-asyncio", "limit asyncio", "limit.py"),
]  # fmt: skip
IMPORTS = [
    ("python -c pass", "pass"),
    ("import squall.web", "import squall.web"),
    ("import squall.http", "import squall.http"),
    ("import tornado.web", "import tornado.web"),
    ("import aiohttp.web", "import aiohttp.web"),
    ("import uvicorn, starlette.applications", "import uvicorn, starlette.applications"),
]
STATIC_FILES = {"4k.bin": 4096, "1m.bin": MIB}


def specs_for(scenario: str) -> list[ServerSpec]:
    return {
        "hello": HELLO_SPECS,
        "json": JSON_SPECS,
        "pipelined": PIPELINED_SPECS,
        "routes": ROUTES_SPECS,
        "accesslog": ACCESSLOG_SPECS,
        "static": STATIC_SPECS,
        "rss": RSS_SPECS,
        "startup": STARTUP_SPECS,
    }[scenario]


def selected(ctx: Context, scenario: str) -> list[ServerSpec]:
    import dataclasses
    import fnmatch

    out = []
    for s in specs_for(scenario):
        if not any(fnmatch.fnmatchcase(s.id, p) for p in ctx.args.servers):
            continue
        if COMPILED_HTTP in s.env.values():
            if ctx.args.compiled_http is None:
                continue  # no compiled build given: the mypyc rows are left out
            env = {k: str(ctx.args.compiled_http) if v == COMPILED_HTTP else v
                   for k, v in s.env.items()}  # fmt: skip
            s = dataclasses.replace(s, env=env)
        out.append(s)
    return out


# --------------------------------------------------------------------------- load tables


@dataclass
class LoadTable:
    title: str
    path: str
    conns: int
    body_size: int | None = None
    pipeline: int = 1  # requests per write (wrk's pipeline.lua) when > 1


def run_load(
    ctx: Context,
    specs: list[ServerSpec],
    tables: list[LoadTable],
    checks: list[tuple[str, bytes | int]],
    static_dir: Path | None = None,
) -> tuple[list[Table], list[Running]]:
    """Start the servers, then per table: a warm-up each, rounds interleaving them all."""
    h, a = ctx.harness, ctx.args
    if not specs:
        return [], []
    servers = h.start_all(specs, checks, static_dir)
    out: list[Table] = []
    try:
        for lt in tables:
            cmd = f"wrk -t1 -c{lt.conns} -d{a.duration:g}s --latency http://127.0.0.1:PORT{lt.path}"
            if lt.pipeline > 1:
                cmd = cmd.replace(" http:", " -s pipeline.lua http:") + f" -- {lt.pipeline}"
            rows = {s.label: Row(s.label, failed=s.failed) for s in servers}
            table = Table(
                lt.title, cmd, list(rows.values()), body_size=lt.body_size, conns=lt.conns
            )
            out.append(table)
            h.say(f"-- {lt.title}: warm-up {a.warmup:g} s each")
            for s in servers:
                if s.failed is None:
                    _one(ctx, s, lt, a.warmup, None)
            for rnd in range(1, a.rounds + 1):
                for s in servers:
                    if s.failed is None:
                        _one(ctx, s, lt, a.duration, rows[s.label], rnd)
                        time.sleep(a.gap)
            for s in servers:
                rows[s.label].failed = s.failed
    finally:
        for s in servers:
            h.stop(s.proc)
    return out, servers


def _one(
    ctx: Context,
    s: Running,
    lt: LoadTable,
    seconds: float,
    row: Row | None,
    rnd: int = 0,
) -> None:
    h = ctx.harness
    if not s.alive():
        s.failed = f"died (status {s.proc.returncode}): {s.log_tail(3)}"
        h.say(f"  {s.label}: {s.failed}")
        return
    try:
        res = h.wrk(s, lt.path, lt.conns, seconds, pipeline=lt.pipeline)
    except BenchError as e:
        s.failed = str(e).splitlines()[0]
        h.say(f"  {s.label}: {e}")
        return
    if row is not None:
        row.results.append(res)
        h.say(
            f"  round {rnd} {lt.title} {s.label}: {res.rps:,.0f} req/s, p50 {res.p50_ms:.3f} ms,"
            f" {res.cpu_us_per_req:.1f} µs/req"
            + (f", errors {res.socket_errors}, non-2xx {res.non2xx}" if res.socket_errors
               or res.non2xx else "")
        )  # fmt: skip


def hello(ctx: Context) -> tuple[list[Table], list[Section]]:
    lts = [LoadTable(f"hello c{c}", "/", c) for c in ctx.args.hello_conns]
    tables, _ = run_load(ctx, selected(ctx, "hello"), lts, [("/", HELLO)])
    for t in tables:
        c = t.title.split("c")[-1]
        if c in ("50", "500"):
            t.targets += target_ratio(
                t, ["squall.http", "squall.http+uvloop"], ["uvicorn raw ASGI"], 1.2,
                f"issue 3, req/s at c{c}: squall.http ≥ 1.2× uvicorn raw ASGI",
            )  # fmt: skip
            t.targets += target_ratio(
                t, ["squall.web", "squall.web+uvloop"], ["aiohttp", "uvicorn+starlette"], 1.2,
                f"issue 4, req/s at c{c}: squall.web ≥ 1.2× max(aiohttp, uvicorn+starlette)",
            )  # fmt: skip
            if c == "50":
                t.targets += issue20_targets(t, "hello")
        else:
            t.targets += target_ratio(
                t, ["squall.http"], ["limit asyncio"], 1.3,
                "issue 3, p50 latency at c1: squall.http ≤ 1.3× the bare Protocol's",
                metric=p50_metric, at_most=True,
            )  # fmt: skip
            t.targets += target_ratio(
                t, ["squall.http+uvloop"], ["limit uvloop"], 1.3,
                "issue 3, p50 latency at c1 (uvloop): squall.http ≤ 1.3× the bare Protocol's",
                metric=p50_metric, at_most=True,
            )  # fmt: skip
            t.targets += target_ratio(
                t, ["squall.web", "squall.web+uvloop"], ["aiohttp", "uvicorn+starlette"], 1.0,
                "issue 4, p50 latency at c1: squall.web ≤ min(aiohttp, uvicorn+starlette)",
                metric=p50_metric, at_most=True,
            )  # fmt: skip
    return tables, []


def json_(ctx: Context) -> tuple[list[Table], list[Section]]:
    tables, _ = run_load(
        ctx, selected(ctx, "json"), [LoadTable("json c50", "/json", 50)], [("/json", JSON)]
    )
    for t in tables:
        t.targets += target_ratio(
            t, ["squall.web", "squall.web+uvloop"], ["aiohttp", "uvicorn+starlette"], 1.2,
            "issue 4, JSON req/s at c50: squall.web ≥ 1.2× max(aiohttp, uvicorn+starlette)",
        )  # fmt: skip
        t.targets += issue20_targets(t, "json")
    return tables, []


def pipelined(ctx: Context) -> tuple[list[Table], list[Section]]:
    lt = LoadTable(f"hello pipelined ×{PIPELINE} c50", "/", 50, pipeline=PIPELINE)
    tables, _ = run_load(ctx, selected(ctx, "pipelined"), [lt], [("/", HELLO)])
    for t in tables:
        t.targets += issue20_targets(t, "pipelined")
    return tables, []


def issue20_targets(t: Table, kind: str) -> list[str]:
    """Issue 20's goals: server CPU per request against the fastest raw servers."""
    web = ["squall.web", "squall.web+uvloop", "squall.web mypyc", "squall.web+uvloop mypyc"]
    http = ["squall.http", "squall.http+uvloop", "squall.http mypyc", "squall.http+uvloop mypyc"]
    granian, socketify = ["granian RSGI raw"], ["socketify raw"]
    out: list[str] = []
    if kind in ("hello", "json"):
        what = "hello" if kind == "hello" else "JSON"
        out += target_ratio(
            t, web, granian, 1.0,
            f"issue 20, {what} server CPU µs/req: squall.web ≤ Granian raw RSGI",
            metric=cpu_metric, at_most=True,
        )  # fmt: skip
    if kind == "hello":
        out += target_ratio(
            t, http, socketify, 1.0,
            "issue 20, hello server CPU µs/req: squall.http ≤ socketify",
            metric=cpu_metric, at_most=True,
        )  # fmt: skip
    if kind == "pipelined":
        out += target_ratio(
            t, http, socketify, 1.5,
            f"issue 20, pipelined ×{PIPELINE} server CPU µs/req: squall.http ≤ 1.5× socketify",
            metric=cpu_metric, at_most=True,
        )  # fmt: skip
        out += target_ratio(
            t, web, granian, 1.0,
            f"issue 20, pipelined ×{PIPELINE} server CPU µs/req: squall.web ≤ Granian raw RSGI",
            metric=cpu_metric, at_most=True,
        )  # fmt: skip
    return out


def routes(ctx: Context) -> tuple[list[Table], list[Section]]:
    # Each app holds exactly N literal routes /route/0 … /route/N-1; wrk asks for the last.
    specs = selected(ctx, "routes")
    tables: list[Table] = []
    path_of = {s.id: f"/route/{int(s.args[-1]) - 1}" for s in specs}
    t_all = Table(
        f"routes c50 ({ROUTES} literal routes vs 1, hitting the last)",
        f"wrk -t1 -c50 -d{ctx.args.duration:g}s --latency http://127.0.0.1:PORT/route/N-1",
        [],
    )
    # The servers differ in their URL, so this is run_load with a path per server.
    h, a = ctx.harness, ctx.args
    running = h.start_all(specs, [], None)
    try:
        for s in running:
            if s.failed is None:
                h.check_response(s, path_of[s.spec.id], HELLO)
        rows = {s.label: Row(s.label, failed=s.failed) for s in running}
        t_all.rows = list(rows.values())
        for s in running:
            if s.failed is None:
                _one(ctx, s, LoadTable("routes", path_of[s.spec.id], 50), a.warmup, None)
        for rnd in range(1, a.rounds + 1):
            for s in running:
                if s.failed is None:
                    lt = LoadTable("routes c50", path_of[s.spec.id], 50)
                    _one(ctx, s, lt, a.duration, rows[s.label], rnd)
                    time.sleep(a.gap)
        for s in running:
            rows[s.label].failed = s.failed
    finally:
        for s in running:
            h.stop(s.proc)
    t_all.targets += target_ratio(
        t_all, [f"squall.web {ROUTES} routes"], ["squall.web 1 route"], 0.9,
        f"issue 4, routing cost flat: squall.web with {ROUTES} routes ≥ 0.9× its 1-route req/s",
    )  # fmt: skip
    tables.append(t_all)
    return tables, []


def accesslog(ctx: Context) -> tuple[list[Table], list[Section]]:
    tables, servers = run_load(
        ctx, selected(ctx, "accesslog"), [LoadTable("accesslog c50", "/", 50)], [("/", HELLO)]
    )
    for t in tables:
        # The target row logs the notes' way (squall.options --log_file_prefix); the stdlib
        # row (logging.basicConfig(filename=...)) is shown beside it for what it costs.
        off, on = "squall.web (access log off)", "squall.web (access log on, to a file)"
        ro, rn = t.row(off), t.row(on)
        if ro and rn:
            cost = 1 - rn.rps / ro.rps
            us_off = ro.med(lambda x: x.cpu_us_per_req)
            us_on = rn.med(lambda x: x.cpu_us_per_req)
            # What the extra CPU per request costs in req/s once the server is CPU-bound.
            cpu_cost = 1 - us_off / us_on
            t.targets.append(
                f"target issue 4, access log cost at c50 < 15%: req/s −{cost:.1%} → "
                f"{verdict(cost < 0.15)}; server CPU per request +{us_on / us_off - 1:.0%} "
                f"(= −{cpu_cost:.0%} req/s when CPU-bound) → {verdict(cpu_cost < 0.15)}"
            )
        else:
            t.targets.append(f"target issue 4, access log cost at c50 < 15%: {verdict(None)}")
        log = ctx.workdir / "access.log"
        if rn:
            lines = sum(1 for _ in open(log, "rb")) if log.exists() else 0
            counted = sum(r.requests for r in rn.results)
            t.notes.append(
                f"access log file: {lines:,} lines written; wrk counted {counted:,} requests in "
                "the measured rounds (plus warm-up and the check request)"
            )
            if lines == 0:
                t.notes.append("WARNING: the access log file stayed empty: the log was not on")
    return tables, []


def static(ctx: Context) -> tuple[list[Table], list[Section]]:
    static_dir = ctx.workdir / "static"
    static_dir.mkdir(exist_ok=True)
    os.chmod(static_dir, 0o755)
    for name, size in STATIC_FILES.items():
        p = static_dir / name
        p.write_bytes(os.urandom(size))
        os.chmod(p, 0o644)
    lts = [
        LoadTable("static 4KiB c50", "/static/4k.bin", 50, body_size=4096),
        LoadTable("static 1MiB c50", "/static/1m.bin", 50, body_size=MIB),
    ]
    checks: list[tuple[str, bytes | int]] = [(f"/static/{n}", s) for n, s in STATIC_FILES.items()]
    tables, _ = run_load(ctx, selected(ctx, "static"), lts, checks, static_dir)
    for t in tables:
        if t.body_size == 4096:
            t.targets += target_ratio(
                t, ["squall.static", "squall.static+uvloop"], ["tornado"], 5.0,
                "issue 6, 4 KiB req/s: squall ≥ 5× Tornado",
            )  # fmt: skip
            t.targets += target_ratio(
                t, ["squall.static", "squall.static+uvloop"], ["aiohttp"], 5.0,
                "issue 6, 4 KiB req/s: squall ≥ 5× aiohttp",
            )  # fmt: skip
        else:
            t.targets += target_ratio(
                t, ["squall.static", "squall.static+uvloop"], ["nginx (C ref)"], 0.9,
                "issue 6, 1 MiB MiB/s: squall ≥ 0.9× nginx", metric=mib_metric,
            )  # fmt: skip
    return tables, []


# --------------------------------------------------------------------------- RSS


def rss(ctx: Context) -> tuple[list[Table], list[Section]]:
    h = ctx.harness
    rows: list[tuple[str, float, float, int, int | None, str | None]] = []
    for spec in selected(ctx, "rss"):
        server = h.start_server(spec)
        try:
            if not h.wait_ready(server):
                rows.append((spec.label, math.nan, math.nan, 0, None, server.failed))
                continue
            time.sleep(1.0)
            pids = process_tree(server.proc.pid)
            idle = rss_kib(pids)
            if not h.check_response(server, "/", HELLO):
                rows.append((spec.label, math.nan, math.nan, 0, None, server.failed))
                continue
            loaded, socks, still, err = _hold_connections(ctx, server, 1000)
            pids = process_tree(server.proc.pid)
            rows.append((spec.label, idle, loaded, socks, still, err))
            h.say(f"  rss {spec.label}: idle {idle} KiB, 1000 conns {loaded} KiB, {socks} sockets")
        finally:
            h.stop(server.proc)
    tor = next((r for r in rows if r[0] == "tornado"), None)
    lines = [
        "### RSS (VmRSS, fresh process; idle 1 s after start, then holding 1000 idle keep-alive "
        "connections that each made one GET /)",
        "",
        "| server | idle MiB | 1000 conns MiB | KiB per conn | server sockets open | "
        "connections still open after | × Tornado (1000 conns) |",
        "|---|---|---|---|---|---|---|",
    ]
    per_conn: dict[str, float] = {}
    for label, idle, loaded, socks, still, err in rows:
        if err:
            lines.append(f"| {label} | not measured: {err} | – | – | – | – | – |")
            continue
        kib = (loaded - idle) / 1000
        per_conn[label] = kib
        x_tor = f"{loaded / tor[2]:.2f}" if tor and not math.isnan(tor[2]) else "–"
        lines.append(
            f"| {label} | {idle / 1024:.1f} | {loaded / 1024:.1f} | {kib:.1f} | {socks} | "
            f"{still if still is not None else '–'} | {x_tor} |"
        )
    targets = []
    for label in ("squall.http", "squall.http+uvloop", "squall.web", "squall.web+uvloop"):
        what = "issue 3, an idle keep-alive connection costs < 4 KiB"
        if label.startswith("squall.web"):
            what += " (the target is squall.http's; the web layer shown beside it)"
        if label in per_conn:
            kib = per_conn[label]
            targets.append(f"target {what}: {label} {kib:.1f} KiB → {verdict(kib < 4)}")
        elif any(r[0] == label for r in rows):
            targets.append(f"target {what}: {label}: {verdict(None)}")
    return [], [Section("RSS", "\n".join(lines), targets)]


def _hold_connections(
    ctx: Context, server: Running, n: int
) -> tuple[float, int, int | None, str | None]:
    """RSS and open sockets of the server while a client holds n idle connections."""
    h = ctx.harness
    client = h.spawn(
        [sys.executable, str(HERE / "rss_client.py"), "--port", str(server.port), "-n", str(n)],
        cpu=CLIENT_CPU,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert client.stdout is not None and client.stdin is not None
    try:
        ready, _, _ = select.select([client.stdout], [], [], 120)
        line = client.stdout.readline().decode().strip() if ready else "no answer in 120 s"
        if not line.startswith(f"ready {n}"):
            return math.nan, 0, None, f"client: {line}"
        time.sleep(1.0)
        pids = process_tree(server.proc.pid)
        loaded, socks = rss_kib(pids), open_sockets(pids)
        client.stdin.close()
        ready, _, _ = select.select([client.stdout], [], [], 30)
        tail = client.stdout.readline().decode().strip() if ready else ""
        still = int(tail.split()[-1]) if tail.startswith("still open") else None
        return float(loaded), socks, still, None
    finally:
        h.stop(client)


# --------------------------------------------------------------------------- start-up


def startup(ctx: Context) -> tuple[list[Table], list[Section]]:
    h, n = ctx.harness, ctx.args.startup_runs
    specs = selected(ctx, "startup")
    spawn_ms: dict[str, list[float]] = {s.label: [] for s in specs}
    errors: dict[str, str] = {}
    import_ms: dict[str, list[float]] = {label: [] for label, _ in IMPORTS}
    # Every program starts from bytecode, as an installed package does (pip compiles at
    # install time): the unmeasured first pass writes it to a cache in the work directory,
    # even where PYTHONDONTWRITEBYTECODE is set (an empty value turns it off). Without
    # this, a checkout without __pycache__ timed the compiler, not the start-up.
    pyc = {"PYTHONPYCACHEPREFIX": str(h.workdir / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}
    # One unmeasured pass first (bytecode caches), then n interleaved passes.
    for i in range(n + 1):
        for spec in specs:
            if spec.label in errors:
                continue
            try:
                ms = _time_to_accept(h, spec, pyc)
            except BenchError as e:
                errors[spec.label] = str(e)
                h.say(f"  startup {spec.label}: {e}")
                continue
            if i:
                spawn_ms[spec.label].append(ms)
        for label, code in IMPORTS:
            t0 = time.perf_counter()
            proc = h.spawn([sys.executable, "-c", code], cpu=SERVER_CPU, env=pyc)
            proc.wait()
            ms = (time.perf_counter() - t0) * 1000
            h.procs.remove(proc)
            if proc.returncode != 0:
                errors[label] = f"exit status {proc.returncode}"
            elif i:
                import_ms[label].append(ms)
    lines = [
        "### Start-up (spawn → first TCP connect accepted, ms; pinned to CPU 1)",
        "",
        "| what | median ms | min–max ms | n |",
        "|---|---|---|---|",
    ]
    med: dict[str, float] = {}
    for label, vals in [*spawn_ms.items(), *import_ms.items()]:
        if label in errors or not vals:
            lines.append(f"| {label} | not measured: {errors.get(label, 'no run')} | – | 0 |")
            continue
        med[label] = statistics.median(vals)
        lines.append(
            f"| {label} | {med[label]:.0f} | {min(vals):.0f}–{max(vals):.0f} | {len(vals)} |"
        )
    targets = []
    sq = next((s.label for s in specs if s.id == "squall-web-default"), None)
    if sq and "tornado" in med and sq in med:
        ok = med[sq] <= med["tornado"]
        targets.append(
            f"target issue 4, start-up ≤ Tornado's: squall.web {med[sq]:.0f} ms vs tornado "
            f"{med['tornado']:.0f} ms → {verdict(ok)}"
        )
    elif sq:
        targets.append(f"target issue 4, start-up ≤ Tornado's: {verdict(None)}")
    return [], [Section("Start-up", "\n".join(lines), targets)]


def _time_to_accept(h: Harness, spec: ServerSpec, env: dict[str, str]) -> float:
    port = free_port()
    argv = h.server_argv(spec, port, None)
    log = h.workdir / f"startup-{spec.id}.log"
    t0 = time.perf_counter()
    proc = h.spawn(argv, cpu=SERVER_CPU, log=log, env={**env, **(spec.env or {})})
    try:
        deadline = t0 + 20
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return (time.perf_counter() - t0) * 1000
            if proc.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-1:]
                raise BenchError(f"exited with status {proc.returncode}: {' '.join(tail)}")
            if time.perf_counter() > deadline:
                raise BenchError("did not accept within 20 s")
            time.sleep(0.0005)
    finally:
        h.stop(proc)


# --------------------------------------------------------------------------- misc


RUNNERS: dict[str, Callable[[Context], tuple[list[Table], list[Section]]]] = {
    "hello": hello,
    "json": json_,
    "pipelined": pipelined,
    "routes": routes,
    "accesslog": accesslog,
    "static": static,
    "rss": rss,
    "startup": startup,
}


def estimate(ctx: Context) -> float:
    """Seconds a run with these settings should take (for the banner)."""
    a = ctx.args
    per_table = a.warmup + a.rounds * (a.duration + a.gap + 0.3)
    tables = {"hello": len(a.hello_conns), "json": 1, "pipelined": 1, "routes": 1}
    tables |= {"accesslog": 1, "static": 2}
    total = 0.0
    for name in a.only:
        n = len(selected(ctx, name))
        if name in tables:
            total += n * tables[name] * per_table + n * 1.0
        elif name == "rss":
            total += n * 5.0
        elif name == "startup":
            total += (a.startup_runs + 1) * (n * 0.4 + len(IMPORTS) * 0.15)
    return total


def environment(ctx: Context) -> list[str]:
    def ver(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    def tool(argv: list[str]) -> str:
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"

    root = HERE.parent
    commit = tool(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])
    dirty = tool(["git", "-C", str(root), "status", "--porcelain", "--", "packages"])
    peers = ", ".join(
        f"{d} {ver(d)}"
        for d in (
            "tornado",
            "aiohttp",
            "uvicorn",
            "httptools",
            "uvloop",
            "starlette",
            "granian",
            "socketify",
            "orjson",
        )  # fmt: skip
    )
    squall = ", ".join(
        f"{d} {ver(d)}" for d in ("squall-loop", "squall-http", "squall-web", "squall-static")
    )
    return [
        f"Machine: {cpu_model()}, {os.cpu_count()} CPUs, Linux {platform.release()}",
        f"CPython {platform.python_version()}; {peers}",
        f"{squall} (git {commit}"
        + (", with uncommitted changes in packages/" if dirty not in ("", "unknown") else "")
        + ")",
        f"{tool([ctx.tools['wrk'], '-v'])}; "
        + (tool([ctx.tools["nginx"], "-v"]) if "nginx" in ctx.tools else "nginx not used"),
    ]


def profile(ctx: Context, server_id: str, path: str) -> None:
    """py-spy samples one server under wrk -c50 and prints the hottest functions."""
    import shutil

    spec = next(
        (s for name in RUNNERS for s in specs_for(name) if s.id == server_id and not s.nginx),
        None,
    )
    if spec is None:
        raise BenchError(f"no Python server with id {server_id!r} (see --list)")
    beside = Path(sys.executable).parent / "py-spy"
    pyspy = str(beside) if beside.exists() else shutil.which("py-spy")
    if pyspy is None:
        raise BenchError("py-spy is not installed (pip install py-spy)")
    h, a = ctx.harness, ctx.args
    static_dir = ctx.workdir / "static"
    static_dir.mkdir(exist_ok=True)
    for name, size in STATIC_FILES.items():
        (static_dir / name).write_bytes(os.urandom(size))
    (server,) = h.start_all([spec], [], static_dir)
    if server.failed:
        raise BenchError(f"{spec.label}: {server.failed}")
    lt = LoadTable("profile", path, 50)
    _one(ctx, server, lt, a.warmup, None)
    raw = ctx.workdir / "profile.txt"
    spy = h.spawn(
        [pyspy, "record", "--function", "--format", "raw", "-o", str(raw), "-r", "250",
         "-d", f"{int(a.duration)}", "-p", str(server.proc.pid)],
        cpu=CLIENT_CPU, log=ctx.workdir / "py-spy.log",
    )  # fmt: skip
    row = Row(spec.label)
    _one(ctx, server, lt, a.duration, row, 1)
    spy.wait(timeout=a.duration + 30)
    h.procs.remove(spy)
    if not raw.exists():
        raise BenchError("py-spy wrote nothing: " + (ctx.workdir / "py-spy.log").read_text())
    self_n: collections.Counter[str] = collections.Counter()
    incl_n: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        frames = stack.split(";")
        self_n[frames[-1]] += c
        for f in set(frames):
            incl_n[f] += c
    print(f"\n## py-spy: {spec.label} under wrk -c50 {path}, {total} samples")
    if row.results:
        print(f"({row.results[0].rps:,.0f} req/s while sampled, with py-spy running)")
    print("\nself (top 25):")
    for f, c in self_n.most_common(25):
        print(f"  {100 * c / total:5.1f}%  {f}")
    print("\ninclusive (top 25):")
    for f, c in incl_n.most_common(25):
        print(f"  {100 * c / total:5.1f}%  {f}")
