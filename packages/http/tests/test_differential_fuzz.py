"""Differential fuzzing: squall's parser against httptools (llhttp) on generated requests.

A seeded generator writes requests from the RFC 9112 grammar with the shapes smuggling
chains use (odd Content-Length and Transfer-Encoding values, chunk extensions, trailers,
pipelining, stray whitespace and control bytes), and mutates some of them byte by byte.
Each input goes to squall's sans-I/O parser (whole, and again cut into random pieces) and
to httptools. Checked:

- squall raises nothing but ``RemoteProtocolError``, and cutting the input into pieces does
  not change what it parses;
- for every request that both parsers complete, the framing agrees: method, target,
  header-line count, body bytes, and so the number of requests found in the stream.

The default run is a few thousand cases (seed fixed, so a failure repeats).
``SQUALL_FUZZ_CASES=200000 pytest packages/http/tests/test_differential_fuzz.py -s`` runs a
larger one by hand and prints its counts; ``SQUALL_FUZZ_SEED`` picks another seed.
"""

from __future__ import annotations

import os
import random
from typing import Any

import httptools

from squall.http import RemoteProtocolError
from squall.http._parser import NEED_DATA, Data, EndOfMessage, Request, RequestParser

CASES = int(os.environ.get("SQUALL_FUZZ_CASES", "4000"))
SEED = int(os.environ.get("SQUALL_FUZZ_SEED", "21"))

Frame = tuple[str, str, int, bytes]  # method, target, header lines (head + trailers), body

# -- the generator ---------------------------------------------------------------------------

METHODS = ["GET"] * 6 + ["POST"] * 6 + ["PUT", "HEAD", "DELETE", "OPTIONS", "PATCH"]
ODD_METHODS = ["CONNECT", "PRI", "get", "X-M", "G ET", ""]
TARGETS = ["/", "/a?b=c", "/a/b%20c", "/?x=1&y=2", "/index.html"]
ODD_TARGETS = ["*", "http://h/x", "h:443", "/\xe9", "/a b", "a", "/a\x7f", ""]
VERSIONS = ["HTTP/1.1"] * 8 + ["HTTP/1.0"]
ODD_VERSIONS = ["HTTP/1.2", "HTTP/2.0", "http/1.1", "HTTP/1", "HTTP/1.1 ", ""]
NAMES = ["X-A", "Accept", "User-Agent", "x-b", "Cookie", "X-Long-Name-" + "n" * 20]
ODD_NAMES = ["X A", "X@A", "", " X-A", "X-A ", "X\x00A"]
VALUES = ["1", "text/html", "a b c", "caf\xe9", "", "  spaced  ", "\tx\t", "q=0.5, *"]
ODD_VALUES = ["a\rb", "a\nb", "a\x00b", "a\x7fb", "a\x01b", "x\r\n folded"]
CL_VALUES = ["{n}", "{n}", "{n}", "0{n}", " {n} ", "+{n}", "-1", "{n}, {n}", "{n}x", "", "0x{n}"]
TE_VALUES = ["chunked"] * 5 + ["Chunked", "gzip, chunked", "chunked, chunked", "gzip", " chunked"]
TRAILERS = ["X-T: 1", "X-U: 2", "Content-Length: 5", "Host: h", "Connection: close", "TE: x"]
EXTS = [";a", ";a=b", ';a="b c"', ';a="b\\"c"', " ;a", ";a;b=c", ";", ";=b", ";a=", ';a="b', " "]
INTERESTING = b'\r\n \t;:=",\x00\x7f0123456789aAfF-'


def _pick(rng: random.Random, usual: list[str], odd: list[str], p_odd: float) -> str:
    return rng.choice(odd) if rng.random() < p_odd else rng.choice(usual)


def _chunked_body(rng: random.Random, body: bytes, odd: float) -> bytes:
    out = b""
    pos = 0
    while pos < len(body):
        size = rng.randint(1, max(1, len(body) - pos))
        piece = body[pos : pos + size]
        pos += size
        digits = (b"%x" if rng.random() < 0.5 else b"%X") % len(piece)
        if rng.random() < 0.1:
            digits = b"00" + digits
        ext = rng.choice(EXTS).encode() if rng.random() < odd * 2 else b""
        out += digits + ext + b"\r\n" + piece + b"\r\n"
    out += b"0" + (rng.choice(EXTS).encode() if rng.random() < odd else b"") + b"\r\n"
    for _ in range(rng.randint(0, 2) if rng.random() < odd * 2 else 0):
        out += rng.choice(TRAILERS).encode() + b"\r\n"
    return out + b"\r\n"


def one_request(rng: random.Random, odd: float) -> bytes:
    """One request, mostly valid; ``odd`` is the chance of each odd component."""
    method = _pick(rng, METHODS, ODD_METHODS, odd / 2)
    target = _pick(rng, TARGETS, ODD_TARGETS, odd / 2)
    version = _pick(rng, VERSIONS, ODD_VERSIONS, odd / 3)
    sp = " " if rng.random() > odd / 4 else rng.choice(["  ", "\t"])
    lines = [f"{method}{sp}{target} {version}"]
    fields: list[str] = []
    if version != "HTTP/1.0" or rng.random() < 0.3:
        fields.append("Host: example.com" if rng.random() > odd / 3 else "Host: a, b")
    for _ in range(rng.randint(0, 4)):
        name = _pick(rng, NAMES, ODD_NAMES, odd / 3)
        sep = ":" + rng.choice(["", " ", "  ", "\t"])
        fields.append(name + sep + _pick(rng, VALUES, ODD_VALUES, odd / 3))
    body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 0, 1, 5, 40, 300])))
    framing = rng.random()
    wire = b""
    if framing < 0.35 and (body or rng.random() < 0.3):
        for _ in range(2 if rng.random() < odd / 3 else 1):
            cl = rng.choice(CL_VALUES) if rng.random() < odd else "{n}"
            fields.append("Content-Length: " + cl.format(n=len(body)))
        wire = body
    elif framing < 0.65:
        for _ in range(2 if rng.random() < odd / 3 else 1):
            te = rng.choice(TE_VALUES) if rng.random() < odd else "chunked"
            fields.append("Transfer-Encoding: " + te)
        if rng.random() < odd / 4:
            fields.append(f"Content-Length: {len(body)}")
        wire = _chunked_body(rng, body, odd)
    if rng.random() < 0.15:
        fields.append(rng.choice(["Connection: close", "Connection: keep-alive"]))
    rng.shuffle(fields)
    lines += fields
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + wire


def mutate(rng: random.Random, data: bytes) -> bytes:
    raw = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not raw:
            break
        pos = rng.randrange(len(raw))
        byte = rng.choice(INTERESTING) if rng.random() < 0.7 else rng.randrange(256)
        op = rng.random()
        if op < 0.4:
            raw[pos] = byte
        elif op < 0.7:
            raw.insert(pos, byte)
        else:
            del raw[pos]
    return bytes(raw)


def generate(rng: random.Random) -> bytes:
    odd = rng.choice([0.0, 0.05, 0.2, 0.5])
    data = b"".join(one_request(rng, odd) for _ in range(rng.choice([1, 1, 1, 2, 3])))
    if rng.random() < 0.25:
        data = mutate(rng, data)
    return data


# -- the two parsers -------------------------------------------------------------------------


def squall_frames(data: bytes, cuts: list[int]) -> tuple[list[Frame], str]:
    """Complete requests parsed by squall, and how it stopped ("need-data" or the error)."""
    parser = RequestParser()
    frames: list[Frame] = []
    head: Request | None = None
    body = b""
    count = 0
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    try:
        for piece in pieces:
            parser.receive_data(piece)
            while (ev := parser.next_event()) is not NEED_DATA:
                if isinstance(ev, Request):
                    head, body = ev, b""
                    count = len(list(ev.headers.get_all()))
                    if not ev.has_body:
                        frames.append((ev.method, ev.target, count, b""))
                elif isinstance(ev, Data):
                    body += ev.data
                elif isinstance(ev, EndOfMessage):
                    assert head is not None
                    extra = 0 if ev.trailers is None else len(list(ev.trailers.get_all()))
                    frames.append((head.method, head.target, count + extra, body))
    except RemoteProtocolError as exc:
        return frames, f"error {exc.status_hint}"
    return frames, "need-data"


def httptools_frames(data: bytes) -> tuple[list[Frame], str]:
    """Complete requests parsed by httptools, and how it stopped."""
    frames: list[Frame] = []
    cur: dict[str, Any] = {}

    class Callbacks:
        def on_message_begin(self) -> None:
            cur.clear()
            cur.update(url=b"", headers=0, body=b"")

        def on_url(self, url: bytes) -> None:
            cur["url"] += url

        def on_header(self, name: bytes, value: bytes) -> None:
            cur["headers"] += 1

        def on_body(self, body: bytes) -> None:
            cur["body"] += body

        def on_message_complete(self) -> None:
            method = parser.get_method().decode("latin-1")
            url = cur["url"].decode("latin-1")
            frames.append((method, url, cur["headers"], cur["body"]))

    parser = httptools.HttpRequestParser(Callbacks())
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        return frames, "upgrade"
    except httptools.HttpParserError as exc:
        return frames, f"error {exc}"
    return frames, "need-data"


def same_framing(ours: Frame, theirs: Frame) -> bool:
    # squall hands absolute-form targets over as origin-form: targets are compared only
    # when httptools saw an origin-form one too
    if not theirs[1].startswith("/"):
        ours, theirs = (*ours[:1], "", *ours[2:]), (*theirs[:1], "", *theirs[2:])
    return ours == theirs


def run(cases: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    stats = dict.fromkeys(
        ["cases", "both_complete", "requests_compared", "squall_refused", "only_squall_refused"],
        0,
    )
    for i in range(cases):
        data = generate(rng)
        cuts = sorted(rng.sample(range(1, len(data)), min(3, len(data) - 1))) if data else []
        try:
            ours, how = squall_frames(data, [])
            ours_cut, how_cut = squall_frames(data, cuts)
        except Exception as exc:  # anything but RemoteProtocolError is a bug
            raise AssertionError(f"case {i}: squall raised {exc!r} on {data!r}") from exc
        assert (ours_cut, how_cut) == (ours, how), f"case {i}: pieces {cuts} differ: {data!r}"
        theirs, their_how = httptools_frames(data)
        if not theirs and not ours:
            continue
        stats["cases"] += 1
        n = min(len(ours), len(theirs))
        if their_how == "upgrade" and ours and ours[-1][0] == "CONNECT":
            n = len(ours)  # both stop at CONNECT; httptools does not report it complete
            theirs = [*theirs, ours[-1]]
        for a, b in zip(ours[:n], theirs[:n], strict=True):
            assert same_framing(a, b), f"case {i}: {a} != {b} for {data!r}"
        stats["requests_compared"] += n
        if how == "need-data" and their_how == "need-data":
            assert len(ours) == len(theirs), f"case {i}: {ours} != {theirs} for {data!r}"
            stats["both_complete"] += 1
        if how.startswith("error"):
            stats["squall_refused"] += 1
            if not their_how.startswith("error"):
                stats["only_squall_refused"] += 1
    stats["cases"] = cases
    return stats


def test_squall_and_httptools_agree_on_framing_where_both_accept() -> None:
    stats = run(CASES, SEED)
    print(f"differential fuzz, seed {SEED}: {stats}")
    # The generator must exercise both sides, or the comparison proves nothing.
    assert stats["both_complete"] > CASES // 5
    assert stats["requests_compared"] > CASES // 2
    assert stats["squall_refused"] > CASES // 10
