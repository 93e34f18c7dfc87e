"""Tables (Markdown), target lines, raw numbers (JSON) and charts (PNG) for run.py.

Charts: ``python benchmarks/report.py charts`` draws, for each table, req/s (median, min–max
whiskers) and server CPU µs per request, every server of the table side by side (squall,
its peers, the bare-Protocol limit, nginx). The numbers come from ``RESULTS.json`` (every
round of every server, written by run.py beside RESULTS.md) or, for a RESULTS.md written
before run.py kept its raw numbers, from RESULTS.md's own tables (``--markdown``: the same
measured medians, parsed back). matplotlib is needed only here: the ``bench`` nox session
installs it (benchmarks/requirements.txt); run.py draws the charts when it is installed.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness import WrkResult

TORNADO = "tornado"
LIMIT = "limit asyncio"
MIB = 1024 * 1024


@dataclass
class Row:
    label: str
    results: list[WrkResult] = field(default_factory=list)
    failed: str | None = None

    def med(self, attr: Callable[[WrkResult], float]) -> float:
        vals = [attr(r) for r in self.results]
        return statistics.median(vals) if vals else math.nan

    def best(self, attr: Callable[[WrkResult], float]) -> float:
        return max((attr(r) for r in self.results), default=math.nan)

    def span(self, attr: Callable[[WrkResult], float]) -> tuple[float, float]:
        vals = [attr(r) for r in self.results]
        return (min(vals), max(vals)) if vals else (math.nan, math.nan)

    @property
    def rps(self) -> float:
        return self.med(lambda r: r.rps)

    @property
    def p50(self) -> float:
        return self.med(lambda r: r.p50_ms)


@dataclass
class Table:
    title: str
    command: str
    rows: list[Row]
    body_size: int | None = None  # static files: adds a MiB/s column
    conns: int = 50
    targets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, label: str) -> Row | None:
        for r in self.rows:
            if r.label == label and r.results:
                return r
        return None

    def mib_s(self, label: str) -> float:
        r = self.row(label)
        if r is None or self.body_size is None:
            return math.nan
        return r.rps * self.body_size / MIB


def fmt_int(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:,.0f}"


def fmt_ms(x: float) -> str:
    if math.isnan(x):
        return "–"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def fmt_ratio(x: float) -> str:
    return "–" if math.isnan(x) or math.isinf(x) else f"{x:.2f}"


def _div(a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b) or b == 0:
        return math.nan
    return a / b


def render_table(t: Table) -> str:
    tor = t.row(TORNADO)
    lim = t.row(LIMIT)
    # Tables without Tornado and the limit (routes, access log) drop the ratio columns.
    refs = any(r.label in (TORNADO, LIMIT) for r in t.rows)
    head = ["server", "req/s median (min–max)", "p50 ms", "p99 ms median (min–max)"]
    if t.body_size:
        head.append("MiB/s")
    if refs:
        head += ["× Tornado req/s: median / best", "× asyncio-limit req/s"]
    head.append("server CPU µs/req")
    if refs:
        head.append("µs/req: ÷Tornado / ÷limit")
    head += ["CPU1 srv % / CPU0 wrk %", "CPU1 others %", "n"]
    lines = [f"### {t.title}  ({t.command})", "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "---|" * len(head))
    for r in t.rows:
        if not r.results:
            cells = [r.label, f"not measured: {r.failed or 'no result'}"] + ["–"] * (len(head) - 2)
            lines.append("| " + " | ".join(cells) + " |")
            continue
        lo, hi = r.span(lambda x: x.rps)
        p99lo, p99hi = r.span(lambda x: x.p99_ms)
        us = r.med(lambda x: x.cpu_us_per_req)
        srv = r.med(lambda x: 100 * x.srv_cpu_s / x.wall_s)
        wrk = r.med(lambda x: 100 * x.wrk_cpu_s / x.wall_s)
        cells = [
            r.label,
            f"{fmt_int(r.rps)} ({fmt_int(lo)}–{fmt_int(hi)})",
            fmt_ms(r.p50),
            f"{fmt_ms(r.med(lambda x: x.p99_ms))} ({fmt_ms(p99lo)}–{fmt_ms(p99hi)})",
        ]
        if t.body_size:
            cells.append(fmt_int(r.rps * t.body_size / MIB))
        tor_us = tor.med(lambda x: x.cpu_us_per_req) if tor else math.nan
        lim_us = lim.med(lambda x: x.cpu_us_per_req) if lim else math.nan
        tor_best = tor.best(lambda x: x.rps) if tor else math.nan
        if refs:
            cells += [
                f"{fmt_ratio(_div(r.rps, tor.rps if tor else math.nan))} / "
                f"{fmt_ratio(_div(r.best(lambda x: x.rps), tor_best))}",
                fmt_ratio(_div(r.rps, lim.rps if lim else math.nan)),
            ]
        cells.append(f"{us:.1f}")
        if refs:
            cells.append(f"{fmt_ratio(_div(us, tor_us))} / {fmt_ratio(_div(us, lim_us))}")
        others = r.med(lambda x: 100 * x.others_cpu_s / x.wall_s)
        cells += [f"{srv:.0f} / {wrk:.0f}", f"{others:.0f}", str(len(r.results))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for r in t.rows:
        for i, res in enumerate(r.results, 1):
            if res.socket_errors or res.non2xx:
                lines.append(
                    f"- round {i} {r.label}: socket errors {res.socket_errors}, "
                    f"non-2xx {res.non2xx}"
                )
    lines += [f"- {n}" for n in t.notes]
    note = contention_note(t)
    if note:
        lines.append(f"- NOTE: {note}")
    if t.targets:
        lines.append("")
        lines += [f"- {line}" for line in t.targets]
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- targets


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**MET**" if ok else "**NOT MET**")


def target_ratio(
    t: Table,
    subjects: Sequence[str],
    refs: Sequence[str],
    want: float,
    what: str,
    metric: Callable[[Table, str], float] | None = None,
    at_most: bool = False,
) -> list[str]:
    """One line per subject: subject's metric ÷ max(refs' metric) against `want`.

    With at_most, the subject must be at most want × min(refs) (latencies, start-up).
    """

    def value(label: str) -> float:
        if metric is not None:
            return metric(t, label)
        r = t.row(label)
        return r.rps if r else math.nan

    ref_vals = [(value(x), x) for x in refs]
    ref_vals = [(v, x) for v, x in ref_vals if not math.isnan(v)]
    out = []
    for s in subjects:
        if not any(r.label == s for r in t.rows):
            continue  # not selected with --servers
        sv = value(s)
        if not ref_vals or math.isnan(sv):
            out.append(f"target {what}: {s}: {verdict(None)}")
            continue
        ref_v, ref_x = min(ref_vals) if at_most else max(ref_vals)
        ratio = sv / ref_v if ref_v else math.nan
        ok = ratio <= want if at_most else ratio >= want
        cmp = "≤" if at_most else "≥"
        line = f"target {what}: {s} = {ratio:.2f}× {ref_x} (want {cmp} {want:g}×) → {verdict(ok)}"
        bad = t.row(s)
        if bad and any(x.non2xx for x in bad.results):
            line += " (WARNING: non-2xx responses counted in its req/s)"
        if not at_most:
            # The same ratio from server CPU per request: it holds when the machine is busy
            # and req/s says more about the scheduler than about the server.
            cpu = _div(_us(t, ref_x), _us(t, s))
            if not math.isnan(cpu):
                line += f"; by server CPU µs/req: {cpu:.2f}×"
        out.append(line)
    return out


def _us(t: Table, label: str) -> float:
    r = t.row(label)
    return r.med(lambda x: x.cpu_us_per_req) if r else math.nan


def contention_note(t: Table) -> str | None:
    """A warning when the servers did not get CPU 1 to themselves (a shared machine)."""
    if t.conns < 50:
        return None  # at c1 a server waits for the network, not for CPU
    shares = [r.med(lambda x: 100 * x.srv_cpu_s / x.wall_s) for r in t.rows if r.results]
    if not shares:
        return None
    share = statistics.median(shares)
    others = statistics.median(
        r.med(lambda x: 100 * x.others_cpu_s / x.wall_s) for r in t.rows if r.results
    )
    if share >= 85:
        return None
    return (
        f"the servers got a median {share:.0f} % of CPU 1 (they saturate it when alone), "
        f"other processes {others:.0f} %: compare by server CPU µs/req rather than by req/s"
    )


def cpu_metric(t: Table, label: str) -> float:
    """Median server CPU µs per request (the targets that compare cost, not speed)."""
    return _us(t, label)


def p50_metric(t: Table, label: str) -> float:
    r = t.row(label)
    return r.p50 if r else math.nan


def mib_metric(t: Table, label: str) -> float:
    return t.mib_s(label)


# --------------------------------------------------------------------------- raw numbers

# What a WrkResult holds besides wrk's raw text (kept out of the JSON: it is large).
_ROUND_FIELDS = (
    "rps",
    "requests",
    "p50_ms",
    "p99_ms",
    "socket_errors",
    "non2xx",
    "srv_cpu_s",
    "wrk_cpu_s",
    "wall_s",
    "others_cpu_s",
)


def tables_json(tables: Sequence[Table]) -> list[dict[str, Any]]:
    """Every round of every server of every table, as plain data (RESULTS.json)."""
    out = []
    for t in tables:
        rows = []
        for r in t.rows:
            rounds = [{k: v for k, v in asdict(x).items() if k in _ROUND_FIELDS} for x in r.results]
            rows.append({"label": r.label, "failed": r.failed, "rounds": rounds})
        out.append({"title": t.title, "command": t.command, "body_size": t.body_size, "rows": rows})
    return out


# --------------------------------------------------------------------------- charts


@dataclass
class Bar:
    """One server of a chart: median req/s (with its min–max) and median CPU µs/req."""

    label: str
    rps: float
    rps_lo: float
    rps_hi: float
    cpu_us: float


@dataclass
class Chart:
    title: str
    bars: list[Bar]
    rounds: int


def charts_from_json(data: dict[str, Any]) -> list[Chart]:
    """Medians of the rounds in RESULTS.json."""
    charts = []
    for t in data["tables"]:
        bars = []
        counts = []
        for r in t["rows"]:
            rounds = r["rounds"]
            if not rounds:
                continue
            rps = [x["rps"] for x in rounds]
            cpu = [x["srv_cpu_s"] / x["requests"] * 1e6 for x in rounds if x["requests"]]
            bars.append(
                Bar(
                    r["label"],
                    statistics.median(rps),
                    min(rps),
                    max(rps),
                    statistics.median(cpu) if cpu else math.nan,
                )
            )
            counts.append(len(rounds))
        if bars:
            charts.append(Chart(t["title"], bars, max(counts)))
    return charts


def _number(cell: str) -> float:
    cell = cell.replace(",", "").strip()
    return float(cell) if re.fullmatch(r"[\d.]+", cell) else math.nan


def charts_from_markdown(text: str) -> list[Chart]:
    """The medians of RESULTS.md's wrk tables, parsed back (for runs without RESULTS.json)."""
    charts = []
    title = ""
    head: list[str] = []
    bars: list[Bar] = []
    rounds = 0

    def flush() -> None:
        if title and bars:
            charts.append(Chart(title, list(bars), rounds))
        bars.clear()

    for line in text.splitlines():
        if line.startswith("### "):
            flush()
            title, head = line[4:].split("  (", 1)[0].strip(), []
            rounds = 0
            continue
        if not line.startswith("| ") or not title:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "server":
            head = cells
            continue
        if "req/s median (min–max)" not in head or "server CPU µs/req" not in head:
            continue
        row = dict(zip(head, cells, strict=False))
        m = re.fullmatch(r"([\d,]+) \(([\d,]+)–([\d,]+)\)", row["req/s median (min–max)"])
        if not m:
            continue  # "not measured"
        rps, lo, hi = (_number(g) for g in m.groups())
        bars.append(Bar(cells[0], rps, lo, hi, _number(row["server CPU µs/req"])))
        rounds = max(rounds, int(_number(row.get("n", "0")) or 0))
    flush()
    return charts


def _colour(label: str) -> str:
    if label.startswith("squall"):
        return "#1f6fb4"  # squall: blue
    if label.startswith(("limit", "nginx")):
        return "#8c8c8c"  # the limit and the C reference: grey
    return "#e08a2c"  # Python peers: orange


def chart_name(title: str) -> str:
    """``hello c50`` → ``hello-c50``; ``static 4KiB c50`` → ``static-4kib-c50``."""
    words = re.sub(r"\(.*?\)", "", title)
    return "-".join(re.findall(r"[a-z0-9]+", words.lower()))


def draw_charts(charts: Sequence[Chart], outdir: Path, source: str) -> list[Path]:
    """One PNG per chart in ``outdir``: req/s beside server CPU µs/req. Returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in charts:
        bars = chart.bars
        labels = [b.label for b in bars]
        colours = [_colour(b.label) for b in bars]
        ys = range(len(bars))
        height = 1.6 + 0.38 * len(bars)
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, height), sharey=True)
        err = [
            [max(b.rps - b.rps_lo, 0) for b in bars],
            [max(b.rps_hi - b.rps, 0) for b in bars],
        ]
        left.barh(ys, [b.rps for b in bars], color=colours, xerr=err, capsize=2)
        left.set_xlabel("requests per second\n(median; whiskers: min–max; more is better)")
        for y, b in zip(ys, bars, strict=True):
            left.text(b.rps_hi, y, f"  {b.rps:,.0f}", va="center", fontsize=8)
        right.barh(ys, [b.cpu_us for b in bars], color=colours)
        right.set_xlabel("server CPU µs per request\n(median; less is better)")
        for y, b in zip(ys, bars, strict=True):
            if not math.isnan(b.cpu_us):
                right.text(b.cpu_us, y, f"  {b.cpu_us:.1f}", va="center", fontsize=8)
        left.xaxis.set_major_locator(MaxNLocator(5))
        left.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0"))
        left.set_yticks(list(ys), labels)
        left.invert_yaxis()
        for ax in (left, right):
            ax.margins(x=0.18)
            ax.grid(axis="x", alpha=0.3)
            ax.spines[["top", "right"]].set_visible(False)
        fig.suptitle(chart.title, fontweight="bold")
        fig.text(
            0.01,
            0.005,
            f"{source}; medians of {chart.rounds} interleaved round(s). Blue: squall; "
            "orange: Python peers; grey: the bare asyncio.Protocol limit and nginx.",
            fontsize=7,
            color="#555555",
        )
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        path = outdir / f"{chart_name(chart.title)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def charts_markdown(paths: Sequence[Path], relative_to: Path) -> list[str]:
    """The RESULTS.md lines that show the charts."""
    return [f"![{p.stem}]({p.relative_to(relative_to).as_posix()})" for p in paths]


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/report.py charts [--json F | --markdown F] [--out DIR]``."""
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(prog="benchmarks/report.py")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("charts", help="draw the PNG charts of a run")
    src = c.add_mutually_exclusive_group()
    src.add_argument("--json", type=Path, help="RESULTS.json written by run.py")
    src.add_argument("--markdown", type=Path, help="a RESULTS.md (its tables are parsed)")
    c.add_argument("--out", type=Path, default=here / "charts", help="default benchmarks/charts")
    args = p.parse_args(argv)
    if args.markdown is not None:
        charts = charts_from_markdown(args.markdown.read_text())
        source = f"numbers parsed from the tables of {args.markdown.name}"
    else:
        path = args.json or here / "RESULTS.json"
        charts = charts_from_json(json.loads(path.read_text()))
        source = f"numbers from {path.name}"
    for written in draw_charts(charts, args.out, source):
        print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
