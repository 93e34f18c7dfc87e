"""ASGI benchmarks: squall.asgi on both sides of the ASGI seam.

Run (from the repository's root, with the `bench` session's packages and squall-asgi,
granian installed):

    python benchmarks/asgi.py [--rounds 1] [--duration 3] [--output FILE]

Tables (wrk -t1 -c50 on CPU 0, servers on CPU 1, as run.py; server CPU per request from
/proc over the wrk window, summed over the server's process tree: Granian runs a worker
process):

- raw ASGI hello: a bare ASGI callable on squall.http (``squall.asgi.ASGIServer``, uvloop)
  vs uvicorn (httptools, uvloop) vs Granian (ASGI interface, one worker, uvloop), with
  squall.http's own plain callable as the reference (what ASGI costs on top);
- Starlette hello: the same three servers serving a one-route Starlette app;
- squall.web under uvicorn (``squall.asgi.to_asgi``) vs Starlette under uvicorn.

Goals (issue 19): ASGIServer ≥ 1.5× uvicorn and ≥ Granian on raw ASGI; squall.web under
uvicorn within 10% of Starlette under uvicorn; each checked by req/s and by server CPU per
request (the steadier figure on a shared machine). Results go to the "ASGI" section of
RESULTS.md (replaced in place; other sections are left alone). Nothing here is asserted
by a test.

``--compiled-http DIR`` (an unpacked mypyc-compiled wheel of squall-http, as ``nox -s
bench`` builds) adds ASGIServer rows on that build ("mypyc") and their goal lines.

A/B: ``--base REV`` adds, beside every squall.asgi row, the same server running
squall.asgi's sources at git revision REV (``git archive`` of packages/asgi/src, put first
on PYTHONPATH; the other squall packages are the working tree's), in the same interleaved
rounds, and prints working tree / base ratios; RESULTS.md is left alone then.

    python benchmarks/asgi.py --rounds 5 --duration 4 --base HEAD~3 --tables 1,3
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from harness import (
    Harness,
    Running,
    ServerSpec,
    check_tools,
    cpu_model,
    process_tree,
    raise_nofile_limit,
    tree_cpu_seconds,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECTION = "## ASGI"
CONNS = 50

TABLES = [
    (
        "raw ASGI hello",
        [
            ServerSpec("squall-raw", "squall.asgi.ASGIServer (uvloop)", "asgi_squall.py",
                       ["--app", "raw"]),
            ServerSpec("uvicorn-raw", "uvicorn (httptools, uvloop)", "asgi_uvicorn.py",
                       ["--app", "raw"]),
            ServerSpec("granian-raw", "granian ASGI (uvloop)", "asgi_granian.py",
                       ["--app", "raw"]),
            ServerSpec("squall-http", "reference: squall.http, plain callable (uvloop)",
                       "squall_http.py", ["--loop", "uvloop"]),
        ],
    ),
    (
        "Starlette hello",
        [
            ServerSpec("squall-starlette", "Starlette on squall.asgi.ASGIServer (uvloop)",
                       "asgi_squall.py", ["--app", "starlette"]),
            ServerSpec("uvicorn-starlette", "Starlette on uvicorn (httptools, uvloop)",
                       "asgi_uvicorn.py", ["--app", "starlette"]),
            ServerSpec("granian-starlette", "Starlette on granian ASGI (uvloop)",
                       "asgi_granian.py", ["--app", "starlette"]),
        ],
    ),
    (
        "squall.web vs Starlette, both under uvicorn",
        [
            ServerSpec("uvicorn-squallweb", "squall.web (to_asgi) on uvicorn",
                       "asgi_uvicorn.py", ["--app", "squallweb"]),
            ServerSpec("uvicorn-starlette", "Starlette on uvicorn (httptools, uvloop)",
                       "asgi_uvicorn.py", ["--app", "starlette"]),
        ],
    ),
]  # fmt: skip


def is_squall_asgi(spec: ServerSpec) -> bool:
    """Whether the row runs squall.asgi (an A/B run adds its base twin)."""
    return spec.script == "asgi_squall.py" or "squallweb" in spec.args


def base_sources(rev: str, work: Path) -> str:
    """squall.asgi's sources at ``rev``, unpacked under ``work``: the PYTHONPATH entry."""
    dest = work / "base"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "packages/asgi/src"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    src = dest / "packages" / "asgi" / "src"
    where = subprocess.run(
        [sys.executable, "-c", "import squall.asgi; print(squall.asgi.__file__)"],
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not where.startswith(str(src)):  # the comparison would mean nothing
        raise SystemExit(f"error: squall.asgi at {rev} imports from {where}")
    return str(src)


def with_base(specs: list[ServerSpec], rev: str, path: str) -> list[ServerSpec]:
    """``specs`` with a twin on ``rev``'s squall.asgi after each squall.asgi row."""
    out = []
    for spec in specs:
        out.append(spec)
        if is_squall_asgi(spec):
            out.append(
                ServerSpec(spec.id + "-base", f"{spec.label} [base {rev}]", spec.script,
                           spec.args, env={**spec.env, "PYTHONPATH": path})
            )  # fmt: skip
    return out


def measure(h: Harness, server: Running, duration: float) -> tuple[float, float, float]:
    """req/s, server CPU µs per request (whole process tree), p99 ms."""
    pids = process_tree(server.proc.pid)
    before = tree_cpu_seconds(pids)
    result = h.wrk(server, "/", CONNS, duration)
    cpu = tree_cpu_seconds(pids) - before
    if result.non2xx or result.socket_errors:
        raise RuntimeError(f"{server.label}: {result.non2xx} non-2xx, errors")
    return result.rps, cpu / result.requests * 1e6, result.p99_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--tables", default="1,2,3", help="which tables, by number (default 1,2,3: all)"
    )
    parser.add_argument(
        "--base",
        metavar="REV",
        help="A/B: also run squall.asgi's sources at git revision REV (RESULTS.md untouched)",
    )
    parser.add_argument(
        "--compiled-http",
        type=Path,
        metavar="DIR",
        help="an unpacked mypyc-compiled wheel of squall-http: adds ASGIServer 'mypyc' rows",
    )
    args = parser.parse_args()
    if args.compiled_http is not None:
        if not list((args.compiled_http / "squall" / "http").glob("_protocol.*.so")):
            parser.error(f"--compiled-http {args.compiled_http}: no compiled squall/http there")
        mypyc_env = {
            "PYTHONPATH": str(args.compiled_http.resolve()),
            "SQUALL_BENCH_COMPILED": "1",
        }
        for number, spec_id in ((1, "squall-raw"), (2, "squall-starlette")):
            specs = TABLES[number - 1][1]
            plain = next(s for s in specs if s.id == spec_id)
            specs.insert(
                1,
                ServerSpec(f"{spec_id}-mypyc", f"{plain.label}, mypyc build", plain.script,
                           plain.args, env=mypyc_env),
            )  # fmt: skip
    wanted = {int(n) for n in args.tables.split(",")}
    raise_nofile_limit()
    tools = check_tools(need_nginx=False)
    out: list[str] = []
    medians: dict[str, float] = {}
    cpus: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="squall-asgi-bench-") as work:
        base = base_sources(args.base, Path(work)) if args.base else None
        h = Harness(Path(work), tools)
        try:
            for number, (title, table_specs) in enumerate(TABLES, 1):
                if number not in wanted:
                    continue
                specs = with_base(table_specs, args.base, base) if base else table_specs
                h.say(f"table: {title}")
                servers = h.start_all(specs, [("/", b"hello word")])
                up = [s for s in servers if s.alive() and not s.failed]
                rows: dict[str, list[tuple[float, float, float]]] = {s.spec.id: [] for s in up}
                for s in up:
                    h.wrk(s, "/", CONNS, args.warmup)
                for rnd in range(args.rounds):
                    # alternate the order, so drift on a shared machine hits every row alike
                    for s in up if rnd % 2 == 0 else up[::-1]:
                        time.sleep(1.0)
                        rows[s.spec.id].append(measure(h, s, args.duration))
                for s in servers:
                    h.stop(s.proc)
                out += [
                    f"### {title}, c{CONNS}  (wrk -t1 -c{CONNS} -d{args.duration:g}s)",
                    "",
                    "| server | req/s | server CPU µs/req | p99 ms |",
                    "|---|---:|---:|---:|",
                ]
                for s in specs:
                    if s.id not in rows or not rows[s.id]:
                        out.append(f"| {s.label} | failed | | |")
                        continue
                    rps = statistics.median(r[0] for r in rows[s.id])
                    cpu = statistics.median(r[1] for r in rows[s.id])
                    p99 = statistics.median(r[2] for r in rows[s.id])
                    medians[f"{number}:{s.id}"] = rps
                    cpus[f"{number}:{s.id}"] = cpu
                    out.append(f"| {s.label} | {rps:,.0f} | {cpu:,.1f} | {p99:.2f} |")
                out.append("")
        finally:
            h.close()

    def ratio(a: str, b: str) -> float:
        # "table:server id": the same server may appear in two tables (measured twice)
        return medians.get(a, float("nan")) / medians.get(b, float("nan"))

    def cpu_ratio(a: str, b: str) -> float:
        """How many times less server CPU per request ``a`` takes than ``b``."""
        return cpus.get(b, float("nan")) / cpus.get(a, float("nan"))

    if base:
        print(f"\nA/B: working tree vs squall.asgi at {args.base} (medians)\n")
        print("| row | req/s tree / base | CPU µs/req tree / base |")
        print("|---|---:|---:|")
        for key in sorted(medians):
            if key.endswith("-base"):
                tree = key[: -len("-base")]
                print(
                    f"| {tree} | {ratio(tree, key):.3f}× "
                    f"| {cpus[tree]:.1f} / {cpus[key]:.1f} = {cpus[tree] / cpus[key]:.3f}× |"
                )

    pairs = [
        ("ASGIServer vs uvicorn, raw ASGI", "1:squall-raw", "1:uvicorn-raw", 1.5),
        ("ASGIServer vs Granian, raw ASGI", "1:squall-raw", "1:granian-raw", 1.0),
        ("squall.web vs Starlette under uvicorn", "3:uvicorn-squallweb", "3:uvicorn-starlette",
         0.9),
    ]  # fmt: skip
    if args.compiled_http is not None:
        pairs += [
            ("ASGIServer (mypyc build) vs uvicorn, raw ASGI", "1:squall-raw-mypyc",
             "1:uvicorn-raw", 1.5),
            ("ASGIServer (mypyc build) vs Granian, raw ASGI", "1:squall-raw-mypyc",
             "1:granian-raw", 1.0),
        ]  # fmt: skip
    goals = [
        (f"{what} (goal ≥ {goal:g}×), by req/s", ratio(a, b), goal) for what, a, b, goal in pairs
    ] + [
        (f"{what} (goal ≥ {goal:g}×), by server CPU per request", cpu_ratio(a, b), goal)
        for what, a, b, goal in pairs
    ]
    extra = [
        ("Starlette on ASGIServer vs on uvicorn",
         ratio("2:squall-starlette", "2:uvicorn-starlette")),
        ("Starlette on ASGIServer vs on Granian",
         ratio("2:squall-starlette", "2:granian-starlette")),
        ("ASGIServer vs squall.http's plain callable (what ASGI costs)",
         ratio("1:squall-raw", "1:squall-http")),
    ]  # fmt: skip
    versions = ", ".join(
        f"{d} {metadata.version(d)}"
        for d in ("squall-asgi", "uvicorn", "granian", "starlette", "httptools", "uvloop")
    )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    argv = " ".join(sys.argv[1:])
    head = [
        SECTION,
        "",
        f"`python benchmarks/asgi.py {argv}`".replace(" `", "`"),
        f"on {now}; Python {platform.python_version()}; {versions}; CPU {cpu_model()}.",
        f"Servers on CPU 1, wrk on CPU 0; {args.rounds} round(s), medians; server CPU summed",
        "over the server's process tree. A shared machine: the load average was "
        f"{os.getloadavg()[0]:.1f} at the end",
        "(other work on both CPUs), so single runs move by ±15%. Ratios (by req/s: the first",
        "row's over the second's; by CPU: the second's µs/req over the first's):",
        "",
        *[
            f"- {what}: **{r:.2f}×** — {'MET' if r >= goal else 'NOT MET'}"
            for what, r, goal in goals
        ],
        *[f"- {what}: {r:.2f}×" for what, r in extra],
        "",
    ]
    section = "\n".join(head + out).rstrip() + "\n"
    print(section)
    if base:
        print("(A/B run: RESULTS.md left alone)", file=sys.stderr)
        return 0
    text = args.output.read_text() if args.output.exists() else ""
    if SECTION + "\n" in text:
        before, rest = text.split(SECTION + "\n", 1)
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
