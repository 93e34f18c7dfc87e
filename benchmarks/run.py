"""squall's side-by-side load tests against its peers; writes benchmarks/RESULTS.md.

Method (benchmarks/README.md, "Method"): every server pinned to CPU 1, wrk pinned to CPU 0
(`wrk -t1 -cN --latency`), a warm-up per server and table, then rounds that run every
server in turn with a 1 s gap, medians over the rounds. Server CPU µs/req from
/proc/PID/stat; RSS with 1,000 idle keep-alive connections; start-up to first accepted
connection. Run it with `nox -s bench -- [options]` (see benchmarks/README.md).

Besides the Markdown it writes every round's raw numbers as JSON beside it (RESULTS.json)
and, when matplotlib is installed (the bench session installs it), the charts of
benchmarks/charts/ that RESULTS.md shows (report.py draws them from that JSON).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import scenarios
from harness import BenchError, Harness, check_tools, raise_nofile_limit
from report import Table, charts_from_json, charts_markdown, draw_charts, render_table, tables_json

HERE = Path(__file__).resolve().parent
SCENARIOS = ["hello", "json", "pipelined", "routes", "accesslog", "static", "rss", "startup"]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--rounds", type=int, help="rounds per table (default 3)")
    p.add_argument("--duration", type=float, help="seconds per wrk run (default 5)")
    p.add_argument("--warmup", type=float, help="warm-up seconds (default 2)")
    p.add_argument("--gap", type=float, default=1.0, help="pause between runs (default 1 s)")
    p.add_argument("--startup-runs", type=int, help="spawns per start-up line (default 15)")
    p.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help="comma-separated scenarios: " + ",".join(SCENARIOS) + " (default: all)",
    )
    p.add_argument(
        "--hello-conns",
        default="50,1,500",
        help="connection counts of the hello tables (default 50,1,500; issue 20's targets "
        "read c50)",
    )
    p.add_argument(
        "--servers",
        default="*",
        help="comma-separated server ids or globs (e.g. 'squall-*,tornado*'); "
        "`--list` shows them (default: all)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="for development: 1 round of 3 s, 1 s warm-up, 3 start-up runs (explicit options "
        "still win)",
    )
    p.add_argument(
        "--output",
        type=Path,
        help="Markdown file to write (default benchmarks/RESULTS.md; with --quick "
        "a file in the temporary directory, so a quick run never replaces RESULTS.md)",
    )
    p.add_argument(
        "--compiled-http",
        type=Path,
        metavar="DIR",
        help="an unpacked mypyc-compiled wheel of squall-http: adds the 'mypyc' rows "
        "(`nox -s bench` builds one; without it those rows are left out)",
    )
    p.add_argument("--list", action="store_true", help="list scenarios and server ids, exit")
    p.add_argument(
        "--profile",
        metavar="SERVER_ID",
        help="instead of the tables: py-spy record this server under wrk -c50 for --duration "
        "seconds and print its hottest functions",
    )
    p.add_argument("--profile-path", default="/", help="URL path for --profile (default /)")
    args = p.parse_args(argv)
    defaults = (1, 3.0, 1.0, 3) if args.quick else (3, 5.0, 2.0, 15)
    for name, value in zip(("rounds", "duration", "warmup", "startup_runs"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    for s in args.only:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r}: choose from {', '.join(SCENARIOS)}")
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    try:
        args.hello_conns = [int(c) for c in args.hello_conns.split(",") if c.strip()]
    except ValueError:
        p.error(f"--hello-conns wants numbers, not {args.hello_conns!r}")
    if args.compiled_http is not None:
        built = list((args.compiled_http / "squall" / "http").glob("_protocol.*.so"))
        if not built:
            p.error(f"--compiled-http {args.compiled_http}: no compiled squall/http there")
        args.compiled_http = args.compiled_http.resolve()
    if args.output is None:
        args.output = (
            Path(tempfile.gettempdir()) / "squall-bench-quick.md"
            if args.quick
            else HERE / "RESULTS.md"
        )
    return args


def wanted(server_id: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(server_id, p) for p in patterns)


def command_line() -> str:
    args = " ".join(shlex.quote(a) for a in sys.argv[1:])
    if os.environ.get("NOX_CURRENT_SESSION") == "bench":
        pyenv = os.environ.get("PYENV_VERSION")
        prefix = f"PYENV_VERSION={pyenv} " if pyenv else ""
        return f"{prefix}nox -s bench -- {args}".rstrip(" -")
    return f"python benchmarks/run.py {args}".rstrip()


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the finally below ends every server


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        for name in SCENARIOS:
            ids = ", ".join(s.id for s in scenarios.specs_for(name))
            print(f"{name}: {ids}")
        return 0
    need_nginx = any(
        s.nginx and wanted(s.id, args.servers)
        for name in args.only
        for s in scenarios.specs_for(name)
    )
    try:
        tools = check_tools(need_nginx)
    except BenchError as e:
        print(f"benchmarks/run.py: {e}", file=sys.stderr)
        return 2
    raise_nofile_limit()
    # The driver itself stays off the servers' CPU.
    os.sched_setaffinity(0, {0})
    signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="squall-bench-"))
    os.chmod(workdir, 0o755)  # nginx's worker runs as another user and reads the files
    harness = Harness(workdir, tools)
    started = time.time()
    tables: list[Table] = []
    sections: list[scenarios.Section] = []
    interrupted = False
    ctx = scenarios.Context(harness, args, workdir, tools)
    try:
        if args.profile:
            scenarios.profile(ctx, args.profile, args.profile_path)
            return 0
        print(f"estimated time: {scenarios.estimate(ctx) / 60:.0f} min", file=sys.stderr)
        for name in args.only:
            print(f"== {name}", file=sys.stderr, flush=True)
            new_tables, new_sections = scenarios.RUNNERS[name](ctx)
            tables += new_tables
            sections += new_sections
            for t in new_tables:
                print(render_table(t), flush=True)
            for s in new_sections:
                print(s.render(), flush=True)
            write_results(args, ctx, tables, sections, started, partial=True)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: stopping every server", file=sys.stderr)
    except BenchError as e:
        print(f"benchmarks/run.py: {e}", file=sys.stderr)
        return 1
    finally:
        harness.close()
        shutil.rmtree(workdir, ignore_errors=True)
    if tables or sections:
        write_results(args, ctx, tables, sections, started, partial=interrupted)
        print(f"wrote {args.output}", file=sys.stderr)
    return 130 if interrupted else 0


def write_results(
    args: argparse.Namespace,
    ctx: scenarios.Context,
    tables: list[Table],
    sections: list[scenarios.Section],
    started: float,
    partial: bool,
) -> None:
    minutes = (time.time() - started) / 60
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    json_path = args.output.with_suffix(".json")
    raw = {
        "command": command_line(),
        "date": when,
        "partial": partial,
        "environment": scenarios.environment(ctx),
        "tables": tables_json(tables),
    }
    json_path.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n")
    out = [
        "# squall benchmarks: results",
        "",
        "Written by `benchmarks/run.py`; do not edit by hand (re-run it). How to run and what each "
        "scenario is: [README.md](README.md).",
        "",
        f"- Command (from the repository root): `{command_line()}`",
        f"- Date: {when}; took {minutes:.1f} min" + (" (INTERRUPTED: partial)" if partial else ""),
        f"- Settings: {args.rounds} round(s) × {args.duration:g} s per table, "
        f"{args.warmup:g} s warm-up per server and table, {args.gap:g} s gap, "
        f"{args.startup_runs} spawns per start-up line; wrk -t1 pinned to CPU 0, every server "
        "(nginx: master and its one worker) pinned to CPU 1 with taskset.",
    ]
    out += [f"- {line}" for line in scenarios.environment(ctx)]
    out += [
        "",
        "Ratios are between servers measured in this one run (rounds interleaved), never "
        "against numbers from another run or machine. The machine was shared while this ran: "
        "single rounds can be 2-3× slower than the median, so read medians and ratios.",
        "",
    ]
    charts = [] if partial else write_charts(args, json_path)
    if charts:
        out += [
            "## Charts",
            "",
            f"Drawn by `benchmarks/report.py` from [{json_path.name}]({json_path.name}) (the "
            "numbers of the tables below): req/s and server CPU per request, squall beside its "
            "peers and the bare-Protocol limit.",
            "",
        ]
        out += [line + "\n" for line in charts_markdown(charts, args.output.parent)]
    out += [
        "## Targets (from issues 3, 4, 6 and 20)",
        "",
    ]
    for t in tables:
        out += [f"- {t.title}: {line.removeprefix('target ')}" for line in t.targets]
    for s in sections:
        out += [f"- {s.title}: {line.removeprefix('target ')}" for line in s.targets]
    out.append("")
    for t in tables:
        out.append(render_table(t))
    out += [s.render() for s in sections]
    out += kept_sections(args.output)
    args.output.write_text("\n".join(out).rstrip() + "\n")


# The sections run.py writes itself; any other "## " section of the file (websocket.py's,
# asgi.py's) is carried over unchanged.
OWN_SECTIONS = ("## Charts", "## Targets")


def kept_sections(path: Path) -> list[str]:
    """The other scripts' sections of the existing file, to append after run.py's own."""
    try:
        text = path.read_text()
    except OSError:
        return []
    kept: list[str] = []
    keep = False
    for line in text.splitlines():
        if line.startswith("## "):
            keep = not line.startswith(OWN_SECTIONS)
        if keep:
            kept.append(line)
    return ["", *kept] if kept else []


def write_charts(args: argparse.Namespace, json_path: Path) -> list[Path]:
    """Draw the charts of ``json_path`` into charts/ beside the output, if matplotlib is here."""
    try:
        import matplotlib  # noqa: F401 - only asks whether it is installed
    except ImportError:
        print(
            "benchmarks/run.py: matplotlib is not installed, so no charts "
            "(pip install -r benchmarks/requirements.txt)",
            file=sys.stderr,
        )
        return []
    charts = charts_from_json(json.loads(json_path.read_text()))
    return draw_charts(charts, args.output.parent / "charts", f"numbers from {json_path.name}")


if __name__ == "__main__":
    sys.exit(main())
