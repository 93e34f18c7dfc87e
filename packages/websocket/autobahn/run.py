"""Run the Autobahn|Testsuite fuzzing client against an echo server and judge its report.

Usage (what ``nox -s autobahn`` runs, with the wstest of its Python 2.7 virtualenv):

    python packages/websocket/autobahn/run.py --wstest PATH/wstest [--server squall|tornado]
        [--fast] [--cases 1.*,2.*,...] [--exclude 9.3.*,...] [--workdir DIR] [--table FILE]

It starts the echo server on a free port of 127.0.0.1 in its own process group (squall:
``examples/websocket_echo.py``, permessage-deflate offered; tornado: ``tornado_echo.py``
beside this file, for comparison), writes wstest's spec, runs ``wstest -m fuzzingclient``
(bounded in time), reads ``reports/servers/index.json`` and prints a summary table: counts
of each behaviour per section. The exit status is 0 only when every case is OK, NON-STRICT
or INFORMATIONAL. UNIMPLEMENTED fails too: the only cases reported so are those of
permessage-deflate (sections 12 and 13), which the echo server offers. The server is ended
by its process-group id whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SERVERS = {
    "squall": [ROOT / "examples" / "websocket_echo.py"],
    "tornado": [HERE / "tornado_echo.py"],
}
# RFC 6455 sections 1-7 and 9 (framing, pings, reserved bits, opcodes, fragmentation, UTF-8,
# close handling, limits and performance), 10 (auto-fragmentation) and 12-13
# (permessage-deflate). Section 11 does not exist; 9 includes its 16 MiB messages.
DEFAULT_CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*"]
# --fast: sections 12 and 13 only up to 4 KiB messages (cases X.Y.1-5 of 18: 16 B to 4 KiB,
# 1,000 messages each); X.Y.6-18 (8 KiB to 128 KiB, some fragmented) take most of the run.
FAST_EXCLUDE = [f"{a}.{b}.{c}" for a, n in ((12, 5), (13, 7)) for b in range(1, n + 1)
                for c in range(6, 19)]  # fmt: skip
PASSING = ("OK", "NON-STRICT", "INFORMATIONAL")
COLUMNS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
WSTEST_TIMEOUT = 45 * 60.0  # the whole run takes 10-20 minutes on a shared 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_accepting(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the echo server exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"error: the echo server did not accept within {timeout:.0f} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def section(case_id: str) -> int:
    return int(case_id.split(".", 1)[0])


def summarise(index: dict[str, dict[str, dict[str, object]]]) -> tuple[str, list[str]]:
    """The Markdown table (counts per behaviour per section) and the ids of failed cases."""
    (agent_results,) = index.values()
    per_section: dict[int, Counter[str]] = {}
    bad: list[str] = []
    for case_id, result in agent_results.items():
        behaviour = str(result["behavior"])
        column = behaviour if behaviour in COLUMNS else "FAILED"
        per_section.setdefault(section(case_id), Counter())[column] += 1
        if behaviour not in PASSING:
            bad.append(f"{case_id}: {behaviour} (close: {result.get('behaviorClose')})")
    lines = [
        "| section | " + " | ".join(COLUMNS) + " | cases |",
        "|---|" + "---:|" * (len(COLUMNS) + 1),
    ]
    total: Counter[str] = Counter()
    for sec in sorted(per_section):
        counts = per_section[sec]
        total.update(counts)
        cells = " | ".join(str(counts[c]) for c in COLUMNS)
        lines.append(f"| {sec} | {cells} | {sum(counts.values())} |")
    cells = " | ".join(f"**{total[c]}**" for c in COLUMNS)
    lines.append(f"| all | {cells} | **{sum(total.values())}** |")
    bad.sort(key=lambda s: [int(x) for x in s.split(":", 1)[0].split(".")])
    return "\n".join(lines), bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wstest", required=True, help="wstest of the Python 2.7 virtualenv")
    parser.add_argument("--server", choices=sorted(SERVERS), default="squall")
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES))
    parser.add_argument("--exclude", default="", help="case ids or globs to leave out")
    parser.add_argument(
        "--fast", action="store_true", help="sections 12-13 only up to 4 KiB messages"
    )
    parser.add_argument("--workdir", type=Path, default=Path.cwd() / "autobahn-reports")
    parser.add_argument("--table", type=Path, help="also write the summary table here")
    args = parser.parse_args()

    workdir = args.workdir.resolve() / args.server
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    spec = {
        "outdir": "./reports/servers",
        "servers": [{"agent": args.server, "url": f"ws://127.0.0.1:{port}"}],
        "cases": [c for c in args.cases.split(",") if c],
        "exclude-cases": [c for c in args.exclude.split(",") if c]
        + (FAST_EXCLUDE if args.fast else []),
        "exclude-agent-cases": {},
    }
    (workdir / "spec.json").write_text(json.dumps(spec, indent=2))
    index_path = workdir / "reports" / "servers" / "index.json"
    if index_path.exists():
        index_path.unlink()  # never judge an older run's report

    log = open(workdir / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, *map(str, SERVERS[args.server]), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_accepting(port, server)
        print(f"{args.server} echo server on ws://127.0.0.1:{port} (pid {server.pid})", flush=True)
        started = time.monotonic()
        with open(workdir / "wstest.log", "wb") as out:
            wstest = subprocess.Popen(
                [args.wstest, "-m", "fuzzingclient", "-s", "spec.json"],
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wstest.wait(WSTEST_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(wstest.pid, signal.SIGKILL)
                wstest.wait()
                print(f"error: wstest did not finish within {WSTEST_TIMEOUT:.0f} s")
                return 1
        print(f"wstest finished in {time.monotonic() - started:.0f} s (status {wstest.returncode})")
    finally:
        stop(server)
        log.close()

    if not index_path.exists():
        print(f"error: wstest wrote no report (see {workdir / 'wstest.log'})")
        return 1
    table, bad = summarise(json.loads(index_path.read_text()))
    print(table)
    if args.table:
        args.table.write_text(table + "\n")
    print(f"report: {index_path.parent / 'index.html'}")
    if bad:
        print(f"{len(bad)} case(s) neither OK, NON-STRICT nor INFORMATIONAL:")
        print("\n".join("  " + b for b in bad))
        return 1
    print("every case is OK, NON-STRICT or INFORMATIONAL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
