"""decompress_request: gzip, zlib-wrapped deflate and raw deflate (no zlib wrapper) bodies."""

from __future__ import annotations

import gzip
import random
import zlib
from typing import Any

import pytest

from squall.http import HTTPServerRequest


def _raw_deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


def _echo_body(request: HTTPServerRequest) -> None:
    consumed = request.headers.get("X-Consumed-Content-Encoding", "-")
    request.connection.respond(200, [("X-Consumed", consumed)], request.body)  # type: ignore[union-attr]


def _post(encoding: str, data: bytes) -> bytes:
    head = b"POST / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Encoding: %b\r\n"
    return head % encoding.encode() + b"Content-Length: %d\r\n\r\n%b" % (len(data), data)


PLAIN = b"hello raw deflate " * 50
# ~200 KB that compresses a little: the first pieces already give output
BIG = bytes(random.Random(7).choice(b"abcdefgh") for _ in range(200_000))


@pytest.mark.parametrize("one_byte", [False, True], ids=["whole", "byte-by-byte"])
@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("deflate", _raw_deflate),
        ("deflate", zlib.compress),
        ("gzip", gzip.compress),
    ],
    ids=["raw-deflate", "zlib-deflate", "gzip"],
)
def test_compressed_bodies_are_inflated(
    serve: Any, encoding: str, compress: Any, one_byte: bool
) -> None:
    st = serve(_echo_body, decompress_request=True)
    raw = st.send_raw(_post(encoding, compress(PLAIN)), one_byte_at_a_time=one_byte)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert f"X-Consumed: {encoding}".encode() in head
    assert body == PLAIN


def test_large_raw_deflate_body_is_inflated(serve: Any) -> None:
    st = serve(_echo_body, decompress_request=True)
    raw = st.send_raw(_post("deflate", _raw_deflate(BIG)))
    assert raw.partition(b"\r\n\r\n")[2] == BIG


@pytest.mark.parametrize(
    ("encoding", "data", "status"),
    [
        ("deflate", b"\xff\xfe not compressed at all", 400),
        ("gzip", _raw_deflate(PLAIN), 400),  # no raw fallback for gzip
        ("deflate", _raw_deflate(PLAIN)[:-4], 400),  # truncated
        ("deflate", _raw_deflate(b"\0" * 300_000), 413),  # inflates past max_body_size
    ],
    ids=["garbage", "raw-as-gzip", "truncated-raw", "raw-bomb"],
)
def test_bad_compressed_bodies_are_refused(
    serve: Any, encoding: str, data: bytes, status: int
) -> None:
    st = serve(_echo_body, decompress_request=True, max_body_size=100_000)
    assert st.first_status(_post(encoding, data)) == status


@pytest.mark.parametrize("one_byte", [False, True], ids=["whole", "byte-by-byte"])
def test_every_member_of_a_multi_member_gzip_body_is_inflated(serve: Any, one_byte: bool) -> None:
    st = serve(_echo_body, decompress_request=True)
    data = gzip.compress(b"foo=") + gzip.compress(b"") + gzip.compress(b"bar")
    raw = st.send_raw(_post("gzip", data), one_byte_at_a_time=one_byte)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body == b"foo=bar"


def test_a_later_gzip_member_counts_toward_max_body_size(serve: Any) -> None:
    st = serve(_echo_body, decompress_request=True, max_body_size=100_000)
    data = gzip.compress(b"a" * 60_000) + gzip.compress(b"b" * 60_000)
    assert st.first_status(_post("gzip", data)) == 413


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("gzip", gzip.compress(PLAIN) + b"\0"),
        ("gzip", gzip.compress(PLAIN) + b"trailing junk after the member"),
        ("gzip", gzip.compress(PLAIN) + gzip.compress(PLAIN)[:-3]),  # second member cut
        ("deflate", zlib.compress(PLAIN) + b"junk"),
    ],
    ids=["gzip-nul", "gzip-junk", "gzip-truncated-second", "zlib-junk"],
)
def test_bytes_after_the_compressed_data_are_refused(
    serve: Any, encoding: str, data: bytes
) -> None:
    st = serve(_echo_body, decompress_request=True)
    assert st.first_status(_post(encoding, data)) == 400


def _form_fields(request: HTTPServerRequest) -> None:
    fields = b"&".join(b"%s=%s" % (k.encode(), v[0]) for k, v in request.body_arguments.items())
    request.connection.respond(200, [], fields)  # type: ignore[union-attr]


def test_a_gzipped_form_is_refused_with_a_reason_when_the_server_does_not_inflate(
    serve: Any,
) -> None:
    st = serve(_form_fields)
    data = gzip.compress(b"a=1&b=2")
    request = _post("gzip", data).replace(
        b"Content-Length", b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length"
    )
    head, _, body = st.send_raw(request).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"unsupported Content-Encoding 'gzip'" in head + body
    # the same form is read when the server inflates it
    st = serve(_form_fields, decompress_request=True)
    raw = st.send_raw(request)
    assert raw.startswith(b"HTTP/1.1 200 ") and raw.endswith(b"a=1&b=2")
