"""A/B: squall at a git revision against squall in this working tree, in one interleaved run.

A change that must "add no work to a request that does not use it" is checked here: the
same server script (``servers/squall_web.py`` or ``servers/squall_http.py``) runs once on
the sources of ``--base`` (checked out into a temporary git worktree) and once on the
working tree's sources, both pinned to CPU 1 with wrk on CPU 0, in alternating rounds.
The table gives medians of req/s and server CPU µs/req, and the ratio working tree / base
(CPU per request is the figure to read on a shared, noisy machine).

    python benchmarks/ab.py --base 43acae1                       # hello and JSON, asyncio
    python benchmarks/ab.py --base HEAD~3 --loop uvloop --rounds 5
    python benchmarks/ab.py --base main --server squall_http --paths /
    python benchmarks/ab.py --base main --server squall_http --paths / --pipeline 16

It needs what run.py needs (wrk, taskset) and the squall packages installed (for their
third-party dependencies); which squall sources run is chosen with ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import BenchError, Harness, ServerSpec, check_tools, raise_nofile_limit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def source_path(tree: Path) -> str:
    """PYTHONPATH that makes ``tree``'s squall packages win over any installed ones."""
    return ":".join(str(p) for p in sorted((tree / "packages").glob("*/src")))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/ab.py", description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, help="git revision to compare against")
    p.add_argument("--server", default="squall_web", choices=["squall_web", "squall_http"])
    p.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    p.add_argument("--paths", default="/,/json", help="comma-separated URL paths (scenarios)")
    p.add_argument("--conns", type=int, default=50)
    p.add_argument(
        "--pipeline", type=int, default=1, help="requests per write (wrk's pipeline.lua) if > 1"
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=2.0)
    args = p.parse_args(argv)

    tools = check_tools(need_nginx=False)
    raise_nofile_limit()
    paths = [x for x in args.paths.split(",") if x]
    if args.server == "squall_http":
        paths = [x for x in paths if x == "/"] or ["/"]
    with tempfile.TemporaryDirectory(prefix="squall-ab-") as tmp:
        work = Path(tmp)
        base_tree = work / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base_tree), args.base],
            check=True,
            capture_output=True,
        )
        for tree in (base_tree, ROOT):
            # The comparison means nothing if both servers import the same sources.
            where = subprocess.run(
                [sys.executable, "-c", "import squall.web; print(squall.web.__file__)"],
                env={**os.environ, "PYTHONPATH": source_path(tree)},
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            if not where.startswith(str(tree.resolve())):
                print(f"error: squall.web for {tree} comes from {where}", file=sys.stderr)
                return 1
        harness = Harness(work, tools)
        try:
            specs = [
                ServerSpec(
                    id=name,
                    label=name,
                    script=f"{args.server}.py",
                    args=["--loop", args.loop],
                    env={"PYTHONPATH": source_path(tree)},
                )
                for name, tree in (("base", base_tree), ("tree", ROOT))
            ]
            servers = harness.start_all(specs, [("/", b"hello")])
            if any(s.failed for s in servers):
                return 1
            results: dict[tuple[str, str], list[tuple[float, float]]] = {}
            for path in paths:
                for s in servers:
                    harness.wrk(s, path, args.conns, args.warmup, pipeline=args.pipeline)
                for rnd in range(args.rounds):
                    # Alternate who goes first, so drift on a shared box hits both alike.
                    order = servers if rnd % 2 == 0 else servers[::-1]
                    for s in order:
                        r = harness.wrk(s, path, args.conns, args.duration, pipeline=args.pipeline)
                        results.setdefault((path, s.label), []).append((r.rps, r.cpu_us_per_req))
                        time.sleep(1.0)
            print(
                f"\nbase {args.base} vs working tree; {args.server}, {args.loop}, "
                f"wrk -c{args.conns}"
                + (f", pipelined ×{args.pipeline}" if args.pipeline > 1 else "")
                + f", {args.rounds} rounds of {args.duration:g} s (medians)\n"
            )
            print("| path | base req/s | tree req/s | base µs/req | tree µs/req | CPU ratio |")
            print("|---|---|---|---|---|---|")
            for path in paths:
                b = results[(path, "base")]
                t = results[(path, "tree")]
                b_rps, t_rps = (statistics.median(x[0] for x in v) for v in (b, t))
                b_cpu, t_cpu = (statistics.median(x[1] for x in v) for v in (b, t))
                print(
                    f"| {path} | {b_rps:,.0f} | {t_rps:,.0f} | {b_cpu:.1f} | {t_cpu:.1f} "
                    f"| {t_cpu / b_cpu:.3f}x |"
                )
        except BenchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        finally:
            harness.close()
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)],
                capture_output=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
