"""The incremental multipart parser: vectors under every chunking, limits, linear work, fuzz."""

from __future__ import annotations

import random
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from squall.http._body import BodyCollector
from squall.http._errors import HTTPInputError
from squall.http._headers import HTTPHeaders
from squall.http._limits import HTTPLimits
from squall.http._multipart import (
    MultipartParser,
    PartData,
    PartStart,
    boundary_from_params,
    parse_header_value,
)

MODES = ["whole", "bytewise", "random"]


def pieces(data: bytes, mode: str, seed: int = 0) -> Iterator[bytes]:
    """``data`` whole, one byte at a time, or in seeded random splits."""
    if mode == "whole":
        yield data
    elif mode == "bytewise":
        for i in range(len(data)):
            yield data[i : i + 1]
    else:
        rnd = random.Random(seed)
        i = 0
        while i < len(data):
            step = rnd.randint(1, 17)
            yield data[i : i + step]
            i += step


@dataclass
class Part:
    name: str | None
    filename: str | None
    content_type: str | None
    content: bytes


def parse(
    body: bytes, mode: str, boundary: bytes = b"B", *, max_parts: int = 1000, header: int = 16384
) -> list[Part]:
    """Run the parser over ``body`` and gather its events into parts."""
    parser = MultipartParser(boundary, max_parts=max_parts, max_header_size=header)
    parts: list[Part] = []
    for chunk in pieces(body, mode):
        for event in parser.feed(chunk):
            if isinstance(event, PartStart):
                parts.append(Part(event.name, event.filename, event.content_type, b""))
            elif isinstance(event, PartData):
                assert event.data, "no empty data events"
                parts[-1].content += event.data
    parser.finish()
    return parts


def field(name: str, value: bytes) -> bytes:
    return b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (
        name.encode(),
        value,
    )


VALID = {
    "one field": (field("a", b"1") + b"--B--", [Part("a", None, None, b"1")]),
    "field and file": (
        field("a", b"x") + b'--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--B--\r\n",
        [Part("a", None, None, b"x"), Part("f", "a.txt", "text/plain", b"hello")],
    ),
    "preamble and epilogue ignored": (
        b"This is a preamble.\r\n" + field("a", b"1") + b"--B--\r\nepilogue --B\r\n junk",
        [Part("a", None, None, b"1")],
    ),
    "leading CRLF before first boundary": (
        b"\r\n" + field("a", b"1") + b"--B--",
        [Part("a", None, None, b"1")],
    ),
    "transport padding after boundary": (
        b"--B \t \r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--B\t\r\n\r\n\r\n--B--",
        [Part("a", None, None, b"1"), Part(None, None, None, b"")],
    ),
    "empty content": (field("a", b"") + b"--B--", [Part("a", None, None, b"")]),
    "content with CRLFs and near-boundaries": (
        field("a", b"\r\n\r\n--\r\n--b\r\n-B\r\n--A--B\r\r\n") + b"--B--",
        [Part("a", None, None, b"\r\n\r\n--\r\n--b\r\n-B\r\n--A--B\r\r\n")],
    ),
    "no headers at all": (b"--B\r\n\r\nxyz\r\n--B--", [Part(None, None, None, b"xyz")]),
    "not form-data disposition": (
        b"--B\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--B--",
        [Part(None, None, None, b"v")],
    ),
    "filename* wins over filename": (
        b'--B\r\nContent-Disposition: form-data; name=f; filename="plain.txt"; '
        b"filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\r\nv\r\n--B--",
        [Part("f", "\u20ac rates.txt", None, b"v")],
    ),
    "raw UTF-8 filename": (
        '--B\r\nContent-Disposition: form-data; name="图"; filename="图片.png"\r\n'.encode()
        + b"\r\nv\r\n--B--",
        [Part("图", "图片.png", None, b"v")],
    ),
    "bad UTF-8 in filename is replaced": (
        b'--B\r\nContent-Disposition: form-data; name=f; filename="a\xff.png"\r\n\r\nv\r\n--B--',
        [Part("f", "a\ufffd.png", None, b"v")],
    ),
    "folded header joined": (
        b"--B\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nv\r\n--B--",
        [Part("a", None, None, b"v")],
    ),
    "header names case-insensitive": (
        b"--B\r\ncontent-disposition: form-data; NAME=a\r\nCONTENT-TYPE: x/y\r\n\r\nv\r\n--B--",
        [Part("a", None, "x/y", b"v")],
    ),
    "two values same name": (
        field("a", b"1") + field("a", b"2") + b"--B--",
        [Part("a", None, None, b"1"), Part("a", None, None, b"2")],
    ),
    "boundary text inside content not at line start": (
        field("a", b"x--B y --B--") + b"--B--",
        [Part("a", None, None, b"x--B y --B--")],
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(VALID))
def test_valid_bodies_parse_under_any_chunking(name: str, mode: str) -> None:
    body, expected = VALID[name]
    assert parse(body, mode) == expected


@pytest.mark.parametrize("mode", MODES)
def test_trailing_bytes_after_close_delimiter_are_ignored(mode: str) -> None:
    body = field("a", b"1") + b"--B--"
    for trailer in (b"", b"\r\n", b"\r\n--B\r\n\r\nmore", b"garbage" * 100):
        assert parse(body + trailer, mode) == [Part("a", None, None, b"1")]


INVALID = {
    "empty body": (b"", 400, "final boundary"),
    "preamble only": (b"just text\r\n", 400, "final boundary"),
    "truncated in content": (field("a", b"1")[:-3], 400, "final boundary"),
    "truncated in headers": (b"--B\r\nContent-Disposition: form-da", 400, "final boundary"),
    "no close delimiter": (field("a", b"1"), 400, "final boundary"),
    "boundary is a line prefix": (field("a", b"x\r\n--Bx") + b"--B--", 400, "inside"),
    "single dash after boundary": (b"--B-x", 400, "inside"),
    "CR without LF after boundary": (b"--B\rX", 400, "CRLF"),
    "junk after padding": (b"--B  x\r\n", 400, "junk"),
    "header without colon": (b"--B\r\nbroken\r\n\r\nv\r\n--B--", 400, "colon"),
    "header starting with fold": (b"--B\r\n folded\r\n\r\nv\r\n--B--", 400, "continuation"),
    "NUL in header": (b"--B\r\nX: a\x00b\r\n\r\nv\r\n--B--", 400, "NUL"),
    "bare LF in header": (b"--B\r\nX: a\nb\r\n\r\nv\r\n--B--", 400, "LF"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_bodies_raise_input_error(name: str, mode: str) -> None:
    body, status, words = INVALID[name]
    with pytest.raises(HTTPInputError, match=words) as info:
        parse(body, mode)
    assert info.value.status_hint == status


@pytest.mark.parametrize("mode", MODES)
def test_more_parts_than_the_limit_is_413(mode: str) -> None:
    body = field("a", b"1") * 3 + b"--B--"
    assert len(parse(body, mode, max_parts=3)) == 3
    with pytest.raises(HTTPInputError, match="max_multipart_parts=2") as info:
        parse(body, mode, max_parts=2)
    assert info.value.status_hint == 413


@pytest.mark.parametrize("mode", MODES)
def test_part_header_over_limit_is_400(mode: str) -> None:
    header = b"--B\r\nX-Long: " + b"v" * 100 + b"\r\n\r\nbody\r\n--B--"
    assert parse(header, mode, header=120)[0].content == b"body"
    with pytest.raises(HTTPInputError, match="max_part_header_size=64") as info:
        parse(header, mode, header=64)
    assert info.value.status_hint == 400


def test_part_header_limit_fires_before_the_block_ends() -> None:
    parser = MultipartParser(b"B", max_parts=10, max_header_size=1000)
    parser.feed(b"--B\r\nX: ")
    for _ in range(99):
        parser.feed(b"0123456789")
    with pytest.raises(HTTPInputError, match="max_part_header_size"):
        parser.feed(b"0123456789")


def test_endless_transport_padding_is_refused() -> None:
    parser = MultipartParser(b"B", max_parts=10, max_header_size=100)
    parser.feed(b"--B")
    with pytest.raises(HTTPInputError, match="max_part_header_size"):
        for _ in range(200):
            parser.feed(b" ")


def test_content_is_streamed_holding_back_only_a_partial_delimiter() -> None:
    boundary = b"b" * 70
    parser = MultipartParser(boundary, max_parts=10, max_header_size=1000)
    parser.feed(b"--" + boundary + b"\r\nContent-Disposition: form-data; name=f\r\n\r\n")
    out = 0
    for _ in range(100):
        out += sum(len(e.data) for e in parser.feed(b"x" * 999 + b"\r") if isinstance(e, PartData))
    assert out == 100 * 1000 - 1  # only the final CR is held back
    tail = b"\r\n--" + boundary[:50]
    events = parser.feed(tail)
    assert sum(len(e.data) for e in events if isinstance(e, PartData)) == 1


# -- linear time -----------------------------------------------------------------------------


def _pathological(k: int, boundary: bytes) -> bytes:
    """A part full of near-boundaries and CRLFs, then many tiny header lines."""
    near = b"\r\n--" + boundary[:-1] + b"\r\n\r\n\r"
    return (
        b"--"
        + boundary
        + b"\r\nContent-Disposition: form-data; name=a\r\n\r\n"
        + near * k
        + b"\r\n--"
        + boundary
        + b"\r\n"
        + b"X: 1\r\n" * (k // 10)
        + b"\r\nv\r\n--"
        + boundary
        + b"--"
    )


@pytest.mark.parametrize("chunk", [1, 7, 100, 4096, 1 << 30])
def test_work_is_linear_in_input_size(chunk: int) -> None:
    boundary = b"q" * 70
    work = []
    for k in (200, 2000):
        body = _pathological(k, boundary)
        parser = MultipartParser(boundary, max_parts=10, max_header_size=1 << 20)
        for i in range(0, len(body), chunk):
            parser.feed(body[i : i + chunk])
        parser.finish()
        # every byte is searched at most about len(delimiter) times, whatever the chunking
        assert parser.bytes_examined <= (len(boundary) + 6) * len(body)
        if chunk >= len(boundary):
            assert parser.bytes_examined <= 3 * len(body)
        work.append(parser.bytes_examined)
    assert work[1] <= 11 * work[0]  # 10x the input costs 10x the work, not 100x


def test_many_parts_in_one_chunk_are_linear() -> None:
    def body(n: int) -> bytes:
        return field("a", b"1") * n + b"--B--"

    work = []
    for n in (100, 1000):
        parser = MultipartParser(b"B", max_parts=10_000, max_header_size=1000)
        assert len([e for e in parser.feed(body(n)) if isinstance(e, PartStart)]) == n
        work.append(parser.bytes_examined)
    assert work[1] <= 11 * work[0]


# -- header values and boundaries ------------------------------------------------------------

HEADER_VALUES = [
    ("form-data", ("form-data", {})),
    ('form-data; name="a"', ("form-data", {"name": "a"})),
    ("form-data; name=a ; filename=b.txt", ("form-data", {"name": "a", "filename": "b.txt"})),
    ('form-data; name="a;b=c"', ("form-data", {"name": "a;b=c"})),
    (r'form-data; name="q\"x\\y"', ("form-data", {"name": 'q"x\\y'})),
    (r'form-data; filename="C:\Users\me\a.png"', ("form-data", {"filename": r"C:\Users\me\a.png"})),
    ("form-data; NAME=A", ("form-data", {"name": "A"})),
    ('form-data; name="first"; name="second"', ("form-data", {"name": "first"})),
    ("form-data; filename*=UTF-8''%E4%BD%A0.txt", ("form-data", {"filename": "你.txt"})),
    ("form-data; filename*=iso-8859-1'en'%A3%20rates", ("form-data", {"filename": "£ rates"})),
    ("form-data; filename*=bogus''abc", ("form-data", {"filename": "abc"})),
    ("form-data; filename=ok; filename*=no-quotes", ("form-data", {"filename": "ok"})),
    ('form-data; name="unterminated', ("form-data", {"name": "unterminated"})),
    ("form-data; ;; novalue; =x", ("form-data", {"novalue": ""})),
    ('multipart/form-data; boundary="a b:c"', ("multipart/form-data", {"boundary": "a b:c"})),
]


@pytest.mark.parametrize(("value", "expected"), HEADER_VALUES)
def test_parse_header_value(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_header_value(value) == expected


@pytest.mark.parametrize(
    "boundary", ["B", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a b:c=?", "x" * 70]
)
def test_valid_boundaries(boundary: str) -> None:
    assert boundary_from_params({"boundary": boundary}) == boundary.encode()


@pytest.mark.parametrize(
    "boundary", ["", "x" * 71, "ends ", "a\x00b", "caf\u00e9", 'a"b', "a\r\nb"]
)
def test_invalid_boundaries_are_400(boundary: str) -> None:
    with pytest.raises(HTTPInputError, match="boundary") as info:
        boundary_from_params({"boundary": boundary})
    assert info.value.status_hint == 400


# -- property tests --------------------------------------------------------------------------

BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'),
    min_size=1,
    max_size=12,
)


@st.composite
def forms(draw: st.DrawFn) -> tuple[bytes, str, list[Part], bytes]:
    boundary = draw(st.text(BCHARS, min_size=1, max_size=70).filter(lambda b: b[-1] != " "))
    delim = b"\r\n--" + boundary.encode()
    parts = []
    out = [draw(st.sampled_from([b"", b"preamble\r\n", b"\r\n"]))]
    for _ in range(draw(st.integers(0, 6))):
        name = draw(names)
        filename = draw(st.none() | names)
        ctype = draw(st.none() | st.sampled_from(["image/png", "text/plain; charset=utf-8"]))
        content = draw(st.binary(max_size=300))
        assume(delim not in b"\r\n" + content + b"\r\n")
        disp = f'form-data; name="{name}"'
        if filename is not None:
            if draw(st.booleans()):
                disp += "; filename*=UTF-8''" + urllib.parse.quote(filename, safe="")
            else:
                disp += f'; filename="{filename}"'
        head = "Content-Disposition: " + disp + "\r\n"
        if ctype is not None:
            head += "Content-Type: " + ctype + "\r\n"
        out.append(
            b"--" + boundary.encode() + b"\r\n" + head.encode() + b"\r\n" + content + b"\r\n"
        )
        parts.append(Part(name, filename, ctype, content))
    out.append(
        b"--" + boundary.encode() + b"--" + draw(st.sampled_from([b"", b"\r\n", b"\r\nepi"]))
    )
    quoted = draw(st.booleans()) or not boundary.replace("-", "").replace("_", "").isalnum()
    ctype_header = (
        f'multipart/form-data; boundary="{boundary}"'
        if quoted
        else ("multipart/form-data; boundary=" + boundary)
    )
    return b"".join(out), ctype_header, parts, boundary.encode()


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms(), st.lists(st.integers(0, 4000), max_size=30))
def test_generated_forms_round_trip_under_any_chunking(
    form: tuple[bytes, str, list[Part], bytes], cuts: list[int]
) -> None:
    body, ctype, parts, _ = form
    collector = BodyCollector(HTTPHeaders({"Content-Type": ctype}), HTTPLimits(spool_threshold=64))
    for chunk in _chunks(body, cuts):
        collector.feed(chunk)
    parsed = collector.finish()
    try:
        expected_args: dict[str, list[bytes]] = {}
        expected_files: dict[str, list[tuple[str, str, bytes]]] = {}
        for p in parts:
            if p.filename:
                ct = p.content_type or "application/octet-stream"
                expected_files.setdefault(p.name or "", []).append((p.filename, ct, p.content))
            else:
                expected_args.setdefault(p.name or "", []).append(p.content)
        assert parsed.body_arguments == expected_args
        got = {
            k: [(f.filename, f.content_type, f.body) for f in v] for k, v in parsed.files.items()
        }
        assert got == expected_files
        for uploads in parsed.files.values():
            for f in uploads:
                assert f.in_memory == (f.size <= 64)
        assert parsed.body == body or parsed.read_body() == body
    finally:
        parsed.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms(), st.data())
def test_mutated_forms_only_raise_input_error(
    form: tuple[bytes, str, list[Part], bytes], data: st.DataObject
) -> None:
    body, ctype, _, _ = form
    mutated = bytearray(body)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        at = data.draw(st.integers(0, max(0, len(mutated) - 1)))
        if op == "flip" and mutated:
            mutated[at] = data.draw(st.sampled_from(list(b'\r\n-\x00" ;=:a\xff')))
        elif op == "delete":
            del mutated[at : at + data.draw(st.integers(1, 8))]
        elif op == "insert":
            mutated[at:at] = data.draw(st.sampled_from([b"\r\n", b"--", b"\r\n\r\n", b"\x00"]))
        else:
            del mutated[at:]
    cuts = data.draw(st.lists(st.integers(0, len(mutated)), max_size=10))
    collector = BodyCollector(HTTPHeaders({"Content-Type": ctype}), HTTPLimits(spool_threshold=64))
    try:
        for chunk in _chunks(bytes(mutated), cuts):
            collector.feed(chunk)
        collector.finish().close()
    except HTTPInputError:
        pass


def _outcome(boundary: bytes, chunks: list[bytes]) -> list[Part] | int:
    """The parts a chunking yields, or the status_hint of the error it raises."""
    parser = MultipartParser(boundary, max_parts=20, max_header_size=200)
    parts: list[Part] = []
    try:
        for chunk in chunks:
            for event in parser.feed(chunk):
                if isinstance(event, PartStart):
                    parts.append(Part(event.name, event.filename, event.content_type, b""))
                elif isinstance(event, PartData):
                    parts[-1].content += event.data
        parser.finish()
    except HTTPInputError as exc:
        return exc.status_hint
    return parts


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"--B",
                b"--B--",
                b"\r\n",
                b"\r",
                b"\n",
                b"-",
                b" ",
                b"\t",
                b"x",
                b"\r\n\r\n",
                b"Content-Disposition: form-data; name=a",
                b"filename=f",
                b":",
                b"\x00",
                b"\xff",
            ]
        ),
        max_size=40,
    ),
    st.lists(st.integers(0, 400), max_size=20),
)
def test_chunking_never_changes_the_outcome(tokens: list[bytes], cuts: list[int]) -> None:
    body = b"".join(tokens)
    assert _outcome(b"B", _chunks(body, cuts)) == _outcome(b"B", [body])
    assert _outcome(b"B", [body[i : i + 1] for i in range(len(body))]) == _outcome(b"B", [body])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=10))
def test_arbitrary_bytes_only_raise_input_error(body: bytes, cuts: list[int]) -> None:
    collector = BodyCollector(
        HTTPHeaders({"Content-Type": "multipart/form-data; boundary=B"}),
        HTTPLimits(spool_threshold=16),
    )
    try:
        for chunk in _chunks(body, cuts):
            collector.feed(chunk)
        collector.finish().close()
    except HTTPInputError:
        pass
