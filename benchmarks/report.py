"""Tables (Markdown, as in shared/bench-anchors.md) and target lines for run.py."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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
    return "not measured" if ok is None else ("**MET**" if ok else "**MISSED**")


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


def p50_metric(t: Table, label: str) -> float:
    r = t.row(label)
    return r.p50 if r else math.nan


def mib_metric(t: Table, label: str) -> float:
    return t.mib_s(label)
