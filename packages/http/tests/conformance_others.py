"""Print h11's and httptools' verdicts on the examples of test_conformance.py.

Run by hand (``python packages/http/tests/conformance_others.py``) when h11 or httptools is
upgraded: the comments in the table state where these parsers disagree with squall, and
this script is where those statements come from. Each example is fed whole, followed by a
pipelined request; "accepts" means a complete first request was parsed without error.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import h11
import httptools


def httptools_verdict(data: bytes) -> str:
    """ "accepts …" or "rejects (reason)" for llhttp, through httptools."""
    done: list[bool] = []
    bodies: list[bytes] = []

    class Callbacks:
        def on_message_begin(self) -> None:
            bodies.append(b"")

        def on_body(self, body: bytes) -> None:
            bodies[-1] += body

        def on_message_complete(self) -> None:
            done.append(True)

    parser = httptools.HttpRequestParser(Callbacks())
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        return "accepts (stops: upgrade)"
    except httptools.HttpParserError as exc:
        return f"rejects ({exc})" if not done else f"accepts {bodies[0]!r}, then rejects ({exc})"
    return f"accepts {bodies[0]!r}" if done else "incomplete"


def h11_verdict(data: bytes) -> str:
    """ "accepts …" or "rejects (status: reason)" for h11."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    body = b""
    try:
        while True:
            ev: Any = conn.next_event()
            if isinstance(ev, h11.Data):
                body += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                return f"accepts {body!r}"
            elif ev is h11.NEED_DATA or ev is h11.PAUSED:
                return f"incomplete ({ev})"
    except h11.RemoteProtocolError as exc:
        return f"rejects ({exc.error_status_hint}: {exc})"


def main() -> None:
    here = Path(__file__).parent
    spec = importlib.util.spec_from_file_location("conformance", here / "test_conformance.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["conformance"] = mod
    spec.loader.exec_module(mod)
    print(f"h11 {h11.__version__}, httptools {httptools.__version__}")
    for case in mod.CASES:
        squall_ok = isinstance(case.want, mod.Ok)
        data = case.data + mod.NEXT
        others = {"h11": h11_verdict(data), "httptools": httptools_verdict(data)}
        diff = {k: v for k, v in others.items() if v.startswith("accepts") != squall_ok}
        if diff:
            mine = "accepts" if squall_ok else f"rejects ({case.want})"
            print(f"{case.rule}: {case.name}: squall {mine}")
            for name, v in diff.items():
                print(f"    {name}: {v}")


if __name__ == "__main__":
    main()
