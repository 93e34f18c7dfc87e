"""BodyCollector: raw bodies (in memory or spooled), form parsing while the body arrives."""

from __future__ import annotations

import gc
import os
import random
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from squall.http._body import BodyCollector, ParsedBody
from squall.http._errors import HTTPInputError
from squall.http._headers import HTTPHeaders
from squall.http._limits import HTTPLimits

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


def collect(
    ctype: str | None, body: bytes, mode: str = "whole", limits: HTTPLimits | None = None
) -> ParsedBody:
    headers = HTTPHeaders() if ctype is None else HTTPHeaders({"Content-Type": ctype})
    collector = BodyCollector(headers, limits or HTTPLimits())
    for piece in pieces(body, mode):
        collector.feed(piece)
    return collector.finish()


@pytest.fixture
def upload_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _uploads(directory: Path) -> list[Path]:
    return sorted(directory.glob("squall-upload-*"))


FORM = (
    b"--B\r\n"
    b'Content-Disposition: form-data; name="title"\r\n\r\n'
    b"two images\r\n"
    b"--B\r\n"
    b'Content-Disposition: form-data; name="image1"; filename="2.png"\r\n'
    b"Content-Type: image/png\r\n\r\n"
    b"PNG-2\r\n"
    b"--B\r\n"
    b'Content-Disposition: form-data; name="image2"; filename="1.png"\r\n'
    b"Content-Type: image/png\r\n\r\n"
    b"PNG-1\r\n"
    b"--B--\r\n"
)


@pytest.mark.parametrize("mode", MODES)
def test_urlencoded_body_becomes_arguments(mode: str) -> None:
    parsed = collect("application/x-www-form-urlencoded", b"a=1&b=%E4%BD%A0&a=2", mode)
    assert parsed.body == b"a=1&b=%E4%BD%A0&a=2" and parsed.spool is None
    assert parsed.body_arguments == {"a": [b"1", b"2"], "b": ["你".encode()]}
    assert parsed.files == {}


@pytest.mark.parametrize("mode", MODES)
def test_multipart_body_becomes_arguments_and_files_as_in_the_notes(mode: str) -> None:
    parsed = collect("multipart/form-data; boundary=B", FORM, mode)
    assert parsed.body == FORM
    assert parsed.body_arguments == {"title": [b"two images"]}
    assert parsed.files["image1"][0]["body"] == b"PNG-2"
    assert parsed.files["image1"][0]["filename"] == "2.png"
    assert parsed.files["image2"][0]["content_type"] == "image/png"
    parsed.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ctype", [None, "text/plain", "application/json", "image/png"])
def test_other_content_types_are_kept_raw_without_arguments(mode: str, ctype: str | None) -> None:
    parsed = collect(ctype, b'{"a": 1}&b=2', mode)
    assert parsed.body == b'{"a": 1}&b=2'
    assert parsed.body_arguments == {} and parsed.files == {}


def test_body_in_one_piece_is_handed_over_without_a_copy() -> None:
    chunk = b"x" * 1000
    collector = BodyCollector(HTTPHeaders({"Content-Type": "application/json"}), HTTPLimits())
    collector.feed(chunk)
    assert collector.finish().body is chunk


def test_mutable_chunks_are_copied_not_aliased() -> None:
    chunk = bytearray(b"abc")
    collector = BodyCollector(HTTPHeaders(), HTTPLimits())
    collector.feed(chunk)
    chunk[:] = b"zzz"
    assert collector.finish().body == b"abc"


@pytest.mark.parametrize(
    "ctype", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=B"]
)
def test_a_still_compressed_form_is_refused_naming_its_encoding(ctype: str) -> None:
    headers = HTTPHeaders({"Content-Type": ctype, "Content-Encoding": "gzip"})
    collector = BodyCollector(headers, HTTPLimits())
    with pytest.raises(HTTPInputError, match="unsupported Content-Encoding 'gzip'") as info:
        collector.feed(b"\x1f\x8b binary")
        collector.finish()
    assert info.value.status_hint == 400


def test_a_still_compressed_empty_form_is_refused_at_finish() -> None:
    headers = HTTPHeaders(
        {"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "br"}
    )
    with pytest.raises(HTTPInputError, match="'br'"):
        BodyCollector(headers, HTTPLimits()).finish()


def test_a_still_compressed_body_of_another_type_is_kept_raw() -> None:
    headers = HTTPHeaders({"Content-Type": "application/json", "Content-Encoding": "gzip"})
    collector = BodyCollector(headers, HTTPLimits())
    collector.feed(b"\x1f\x8b binary")
    parsed = collector.finish()
    assert parsed.body == b"\x1f\x8b binary" and parsed.body_arguments == {}


def test_identity_content_encoding_is_parsed() -> None:
    headers = HTTPHeaders(
        {"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "Identity"}
    )
    collector = BodyCollector(headers, HTTPLimits())
    collector.feed(b"a=1")
    assert collector.finish().body_arguments == {"a": [b"1"]}


def test_empty_body() -> None:
    parsed = collect("application/x-www-form-urlencoded", b"")
    assert parsed.body == b"" and parsed.body_arguments == {}
    assert parsed.read_body() == b""


@pytest.mark.parametrize("mode", MODES)
def test_multipart_missing_final_boundary_is_400_at_finish(mode: str) -> None:
    with pytest.raises(HTTPInputError, match="final boundary") as info:
        collect("multipart/form-data; boundary=B", FORM[:-9], mode)
    assert info.value.status_hint == 400


@pytest.mark.parametrize(
    "ctype",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
        "multipart/form-data; boundary=" + "x" * 71,
        "multipart/form-data; boundary=a\x00b",
        "multipart/form-data; boundary=caf\u00e9",
        'multipart/form-data; boundary="ends with space "',
    ],
)
def test_missing_or_invalid_boundary_is_400(ctype: str) -> None:
    collector = BodyCollector(HTTPHeaders({"Content-Type": ctype}), HTTPLimits())
    with pytest.raises(HTTPInputError, match="boundary") as info:
        collector.feed(b"--x\r\n")
    assert info.value.status_hint == 400
    empty = BodyCollector(HTTPHeaders({"Content-Type": ctype}), HTTPLimits())
    with pytest.raises(HTTPInputError, match="boundary"):
        empty.finish()


def test_body_over_max_body_size_is_413_naming_the_limit() -> None:
    collector = BodyCollector(HTTPHeaders(), HTTPLimits(max_body_size=10))
    collector.feed(b"x" * 10)
    with pytest.raises(HTTPInputError, match="max_body_size=10") as info:
        collector.feed(b"y")
    assert info.value.status_hint == 413


def test_per_request_max_body_size_overrides_the_server_limit() -> None:
    larger = BodyCollector(HTTPHeaders(), HTTPLimits(max_body_size=10), max_body_size=20)
    larger.feed(b"x" * 20)
    assert larger.finish().body == b"x" * 20
    smaller = BodyCollector(HTTPHeaders(), HTTPLimits(max_body_size=10))
    smaller.max_body_size = 5
    with pytest.raises(HTTPInputError, match="max_body_size=5"):
        smaller.feed(b"x" * 6)


def test_urlencoded_over_max_fields_is_400() -> None:
    with pytest.raises(HTTPInputError, match="max_fields=3") as info:
        collect("application/x-www-form-urlencoded", b"a&b&c&d", limits=HTTPLimits(max_fields=3))
    assert info.value.status_hint == 400


def test_multipart_text_fields_count_against_max_fields() -> None:
    with pytest.raises(HTTPInputError, match="max_fields=1") as info:
        collect(
            "multipart/form-data; boundary=B",
            FORM.replace(b"image1", b"t").replace(b'; filename="2.png"', b""),
            limits=HTTPLimits(max_fields=1),
        )
    assert info.value.status_hint == 400


def test_multipart_over_max_parts_is_413() -> None:
    with pytest.raises(HTTPInputError, match="max_multipart_parts=2") as info:
        collect("multipart/form-data; boundary=B", FORM, limits=HTTPLimits(max_multipart_parts=2))
    assert info.value.status_hint == 413


def test_feed_after_finish_is_a_programming_error() -> None:
    collector = BodyCollector(HTTPHeaders(), HTTPLimits())
    collector.finish()
    with pytest.raises(RuntimeError):
        collector.feed(b"x")
    with pytest.raises(RuntimeError):
        collector.finish()


def test_raw_body_spools_to_an_anonymous_file_past_threshold(upload_dir: Path) -> None:
    limits = HTTPLimits(spool_threshold=1024)
    collector = BodyCollector(HTTPHeaders({"Content-Type": "application/json"}), limits)
    for _ in range(10):
        collector.feed(b"z" * 500)
    parsed = collector.finish()
    assert parsed.body is None and parsed.spool is not None
    assert parsed.spool.tell() == 0 and parsed.spool.read() == b"z" * 5000
    assert parsed.read_body() == b"z" * 5000
    assert _uploads(upload_dir) == []  # the raw spool has no name on disk
    parsed.close()


def test_spooled_urlencoded_body_still_parses(upload_dir: Path) -> None:
    body = b"&".join(b"f%d=%s" % (i, b"v" * 50) for i in range(100))
    parsed = collect(
        "application/x-www-form-urlencoded", body, "random", HTTPLimits(spool_threshold=256)
    )
    assert parsed.body is None and len(parsed.body_arguments) == 100
    parsed.close()


def _big_upload(size: int, chunk: int) -> Iterator[bytes]:
    """A multipart body carrying one file of ``size`` bytes, generated in ``chunk`` pieces."""
    yield (
        b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\nbig one\r\n'
        b'--B\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\n\r\n'
    )
    block = bytes(range(256)) * (chunk // 256)
    sent = 0
    while sent < size:
        piece = block[: size - sent]
        sent += len(piece)
        yield piece
    yield b"\r\n--B--\r\n"


def test_five_mib_upload_lands_on_disk_with_small_memory(upload_dir: Path) -> None:
    size = 5 * 1024 * 1024
    limits = HTTPLimits(spool_threshold=64 * 1024)
    collector = BodyCollector(
        HTTPHeaders({"Content-Type": "multipart/form-data; boundary=B"}), limits
    )
    tracemalloc.start()
    try:
        for piece in _big_upload(size, 64 * 1024):
            collector.feed(piece)
        parsed = collector.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Everything held in memory at once: a chunk or two, the threshold, small bookkeeping.
    assert peak < 1024 * 1024, peak
    assert parsed.body is None and parsed.spool is not None
    assert parsed.body_arguments == {"note": [b"big one"]}
    (upload,) = parsed.files["upload"]
    assert upload.path is not None and os.path.getsize(upload.path) == size
    assert upload.size == size and not upload.in_memory and upload.filename == "big.bin"
    assert upload.content_type == "application/octet-stream"
    head = upload.file.read(512)
    assert head == bytes(range(256)) * 2
    path = upload.path
    assert _uploads(upload_dir) == [Path(path)]
    parsed.close()
    assert not os.path.exists(path) and _uploads(upload_dir) == []


def test_abandoned_upload_is_cleaned_up_by_close(upload_dir: Path) -> None:
    collector = BodyCollector(
        HTTPHeaders({"Content-Type": "multipart/form-data; boundary=B"}),
        HTTPLimits(spool_threshold=100),
    )
    for piece in list(_big_upload(10_000, 1024))[:-1]:
        collector.feed(piece)
    assert len(_uploads(upload_dir)) == 1
    collector.close()
    assert _uploads(upload_dir) == []


def test_error_after_a_spooled_file_deletes_it(upload_dir: Path) -> None:
    collector = BodyCollector(
        HTTPHeaders({"Content-Type": "multipart/form-data; boundary=B"}),
        HTTPLimits(spool_threshold=100),
    )
    for piece in list(_big_upload(10_000, 1024))[:-1]:
        collector.feed(piece)
    collector.feed(b"\r\n--B\r\n")  # completes the file part: it is an HTTPFile now
    assert len(_uploads(upload_dir)) == 1
    with pytest.raises(HTTPInputError, match="colon"):
        collector.feed(b"no colon here\r\n\r\n")
    assert _uploads(upload_dir) == []


def test_unclosed_parsed_body_files_vanish_when_collected(upload_dir: Path) -> None:
    parsed = collect(
        "multipart/form-data; boundary=B",
        b"".join(_big_upload(5000, 1024)),
        limits=HTTPLimits(spool_threshold=100),
    )
    assert len(_uploads(upload_dir)) == 1
    del parsed
    gc.collect()
    assert _uploads(upload_dir) == []
