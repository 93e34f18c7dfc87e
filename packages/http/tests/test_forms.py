"""parse_qs_bytes and the one-shot parse_body_arguments helper."""

from __future__ import annotations

import random
import tracemalloc
from urllib.parse import quote_from_bytes, unquote_to_bytes

import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.http._errors import HTTPInputError
from squall.http._files import HTTPFile
from squall.http._forms import _SLICE, parse_body_arguments, parse_qs_bytes
from squall.http._headers import HTTPHeaders
from squall.http._limits import HTTPLimits

QS_VECTORS = [
    (b"a=1&b=2", {"a": [b"1"], "b": [b"2"]}),
    (b"a=1&a=2&a=3", {"a": [b"1", b"2", b"3"]}),
    (b"a=hello+world", {"a": [b"hello world"]}),
    (b"a=%2B%26%3D", {"a": [b"+&="]}),
    (b"a=%E4%BD%A0%E5%A5%BD", {"a": ["你好".encode()]}),
    (b"a=%FF%FE", {"a": [b"\xff\xfe"]}),  # not UTF-8: kept as bytes for the web layer
    (b"a=%zz%4", {"a": [b"%zz%4"]}),  # malformed escapes kept verbatim
    (b"a=&b", {"a": [b""], "b": [b""]}),
    (b"&&a=1&&", {"a": [b"1"]}),
    (b"a=1=2", {"a": [b"1=2"]}),
    (b"=v", {"": [b"v"]}),
    (b"%E5%90%8D+x=v", {"名 x": [b"v"]}),
    (b"%FF=v", {"\ufffd": [b"v"]}),  # a bad byte in a name becomes U+FFFD, never raises
    (b"a=1;b=2", {"a": [b"1;b=2"]}),  # only & separates, as Python >= 3.10
    (b"", {}),
]


@pytest.mark.parametrize(("qs", "expected"), QS_VECTORS)
def test_parse_qs_bytes_vectors(qs: bytes, expected: dict[str, list[bytes]]) -> None:
    assert parse_qs_bytes(qs) == expected
    assert parse_qs_bytes(qs.decode("latin-1")) == expected


def test_parse_qs_bytes_can_drop_blank_values() -> None:
    assert parse_qs_bytes(b"a=&b&c=1", keep_blank_values=False) == {"c": [b"1"]}


def test_parse_qs_bytes_takes_a_unicode_str_as_utf8() -> None:
    assert parse_qs_bytes("名=值") == {"名": ["值".encode()]}


def test_parse_qs_bytes_accepts_exactly_max_fields() -> None:
    qs = "&".join(f"f{i}=1" for i in range(10))
    assert len(parse_qs_bytes(qs, max_fields=10)) == 10


def test_parse_qs_bytes_over_max_fields_is_a_400_naming_the_limit() -> None:
    qs = "&".join(f"f{i}=1" for i in range(11))
    with pytest.raises(HTTPInputError, match="max_fields=10") as info:
        parse_qs_bytes(qs, max_fields=10)
    assert info.value.status_hint == 400


def test_default_field_limit_is_one_thousand() -> None:
    parse_qs_bytes(b"a=1&" * 1000)
    with pytest.raises(HTTPInputError):
        parse_qs_bytes(b"a=1&" * 1001)


def test_ampersand_flood_is_not_counted_as_fields() -> None:
    # Ten million empty pieces are skipped by one regex scan (no per-piece Python work).
    assert parse_qs_bytes(b"&" * 10_000_000 + b"a=1") == {"a": [b"1"]}


@given(st.dictionaries(st.text(min_size=1), st.lists(st.binary(), min_size=1), max_size=8))
def test_urlencoded_round_trip(fields: dict[str, list[bytes]]) -> None:
    def enc(b: bytes) -> str:
        return quote_from_bytes(b, safe="")

    qs = "&".join(f"{enc(k.encode())}={enc(v)}" for k, vs in fields.items() for v in vs)
    assert parse_qs_bytes(qs) == fields


def test_parse_body_arguments_urlencoded_appends_to_existing() -> None:
    args: dict[str, list[bytes]] = {"a": [b"0"]}
    files: dict[str, list[HTTPFile]] = {}
    parse_body_arguments("application/x-www-form-urlencoded", b"a=1&b=2", args, files)
    assert args == {"a": [b"0", b"1"], "b": [b"2"]} and files == {}


def test_parse_body_arguments_content_type_with_charset_and_case() -> None:
    args: dict[str, list[bytes]] = {}
    parse_body_arguments("Application/X-WWW-Form-Urlencoded; charset=UTF-8", b"a=1", args, {})
    assert args == {"a": [b"1"]}


MULTIPART = (
    b"--abc\r\n"
    b'Content-Disposition: form-data; name="title"\r\n\r\n'
    b"My pictures\r\n"
    b"--abc\r\n"
    b'Content-Disposition: form-data; name="image1"; filename="2.png"\r\n'
    b"Content-Type: image/png\r\n\r\n"
    b"\x89PNG\r\n\x1a\n\r\n"
    b"--abc--\r\n"
)


@pytest.mark.parametrize(
    "ctype", ["multipart/form-data; boundary=abc", 'multipart/form-data; boundary="abc"']
)
def test_parse_body_arguments_multipart_quoted_or_not(ctype: str) -> None:
    args: dict[str, list[bytes]] = {}
    files: dict[str, list[HTTPFile]] = {}
    parse_body_arguments(ctype, MULTIPART, args, files)
    assert args == {"title": [b"My pictures"]}
    (image,) = files["image1"]
    assert image["filename"] == "2.png" and image["content_type"] == "image/png"
    assert image["body"] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/json", "application/octet-stream", ""]
)
def test_other_content_types_leave_the_body_alone(ctype: str) -> None:
    args: dict[str, list[bytes]] = {}
    files: dict[str, list[HTTPFile]] = {}
    parse_body_arguments(ctype, b"a=1&b=2", args, files)
    assert args == {} and files == {}


def test_an_encoded_form_is_refused_and_other_encoded_types_left_alone() -> None:
    args: dict[str, list[bytes]] = {}
    headers = HTTPHeaders({"Content-Encoding": "gzip"})
    with pytest.raises(HTTPInputError, match="unsupported Content-Encoding 'gzip'") as info:
        parse_body_arguments("application/x-www-form-urlencoded", b"a=1", args, {}, headers)
    assert info.value.status_hint == 400 and args == {}
    parse_body_arguments("application/json", b"a=1", args, {}, headers)
    assert args == {}
    for other in (HTTPHeaders({"X": "y"}), HTTPHeaders({"Content-Encoding": "identity"})):
        parse_body_arguments("application/x-www-form-urlencoded", b"a=1", args, {}, other)
    assert args == {"a": [b"1", b"1"]}


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("multipart/form-data", MULTIPART),
        ("multipart/form-data; boundary=", MULTIPART),
        ("multipart/form-data; boundary=abc", MULTIPART[:-12]),
        ("multipart/form-data; boundary=abc", b""),
    ],
)
def test_parse_body_arguments_malformed_multipart_is_400(ctype: str, body: bytes) -> None:
    with pytest.raises(HTTPInputError) as info:
        parse_body_arguments(ctype, body, {}, {})
    assert info.value.status_hint == 400


def test_parse_body_arguments_honours_limits() -> None:
    with pytest.raises(HTTPInputError, match="max_multipart_parts=1") as info:
        parse_body_arguments(
            "multipart/form-data; boundary=abc",
            MULTIPART,
            {},
            {},
            limits=HTTPLimits(max_multipart_parts=1),
        )
    assert info.value.status_hint == 413
    with pytest.raises(HTTPInputError, match="max_fields=1"):
        parse_body_arguments(
            "application/x-www-form-urlencoded", b"a=1&b=2", {}, {}, limits=HTTPLimits(max_fields=1)
        )


# Long values made of escapes, lone and malformed ones, so slices end in every position
# relative to a "%": the decoding must match the standard library's byte for byte.
_PIECES = [b"%41", b"%", b"%%", b"%4", b"%zz", b"%e9", b"x", b"%2", b"%%41", b"+"]


@pytest.mark.parametrize("seed", range(20))
def test_long_values_decode_as_the_standard_library_does(seed: int) -> None:
    rng = random.Random(seed)
    value = b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(_SLICE // 2, _SLICE * 3)))
    expected = unquote_to_bytes(value.replace(b"+", b" "))
    assert parse_qs_bytes(b"a=" + value) == {"a": [expected]}
    assert parse_qs_bytes(value + b"=1") == {expected.decode("utf-8", "replace"): [b"1"]}


@pytest.mark.parametrize("value", [b"%41" * 100_000, b"%" * 300_000], ids=["escapes", "lone"])
def test_decoding_a_long_value_uses_memory_in_proportion_to_it(value: bytes) -> None:
    # The standard decoder alone peaks at 75-190 bytes per input byte on such values.
    tracemalloc.start()
    try:
        parse_qs_bytes(b"a=" + value)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12 * len(value)
