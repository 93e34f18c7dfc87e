"""Reading the server's stderr: every record is an error unless the allow-list expects it.

The soak app logs in one format, ``LEVEL logger: message``; lines that do not start that
way continue the record above them (a traceback), or, before any record, are stray output
(an exception printed by the interpreter, a warning from the warnings module): both fail.

The allow-list holds the warnings the soak's own clients cause on purpose, and nothing
else. Each entry is the logger, a regular expression for the whole message, and why it
is expected. A peer must be shown as ``127.0.0.1:PORT`` (or, for a client gone before its
address could be read, ``unknown peer``): squall logs one warning per bad connection *with
the peer address*, so a peer logged as ``unix`` or ``None`` is a bug.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

RECORD = re.compile(r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+): (.*)")
PEER = r"127\.0\.0\.1:\d+"

ALLOWED: list[tuple[str, re.Pattern[str], str]] = [
    (
        "squall.http",
        re.compile(rf"{PEER}: client disconnected mid-request"),
        "leave-mid-request clients close (FIN or RST) with a request half sent; squall says "
        "so once per such connection",
    ),
    (
        "squall.http",
        re.compile(r"unknown peer: client disconnected mid-request"),
        "the same, from a client that reset before the server read its address: uvloop "
        "asks the socket for the peer's address only when first asked, and a reset socket "
        "has none left to give, so 'unknown peer' is the truth (never 'unix' or 'None')",
    ),
    (
        "squall.http",
        re.compile(rf"{PEER}: bad request \((400|405|411|413|414|431|501|505)\): .+"),
        "garbage clients send bytes that are not HTTP; squall answers 4xx (501/505 for an "
        "unknown coding or version) and logs one warning naming the problem",
    ),
]


@dataclass
class LogVerdict:
    """Records by (level, normalized message); the unexpected ones with a first example."""

    allowed: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    tracebacks: int = 0

    @property
    def ok(self) -> bool:
        return not self.unexpected


def _shape(text: str) -> str:
    """A message with its numbers and peers blanked, to count alike records together."""
    text = re.sub(r"\d+\.\d+\.\d+\.\d+:\d+", "PEER", text)
    text = re.sub(r"['\"].*", "'…'", text)  # a quoted client input ends the shape
    return re.sub(r"\d+", "N", text)[:160]


def check_log(stderr: str) -> LogVerdict:
    """Sort every record of `stderr` into allowed and unexpected."""
    verdict = LogVerdict()
    records: list[list[str]] = []
    for line in stderr.splitlines():
        if RECORD.fullmatch(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    for rec in records:
        head, rest = rec[0], rec[1:]
        full = "\n".join(rec)
        if "Traceback (most recent call last)" in full:
            verdict.tracebacks += 1
        m = RECORD.fullmatch(head)
        if m is None:
            key = f"stray output: {_shape(head)}"
        else:
            level, logger, message = m.groups()
            key = f"{level} {logger}: {_shape(message)}"
            allowed = (
                level == "WARNING"
                and not rest
                and any(lg == logger and rx.fullmatch(message) for lg, rx, _ in ALLOWED)
            )
            if allowed:
                verdict.allowed[key] += 1
                continue
        verdict.unexpected[key] += 1
        verdict.examples.setdefault(key, full[:1500])
    return verdict
