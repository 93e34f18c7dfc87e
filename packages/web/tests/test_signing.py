"""The signed-value and XSRF-token formats (squall.web._signing), without a server."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.web import create_signed_value, decode_signed_value, get_signature_key_version
from squall.web._signing import decode_xsrf_token, encode_xsrf_token

NOW = 1_700_000_000.0
DAY = 86400


def clock() -> float:
    return NOW


def days_later(days: float) -> float:
    return NOW + days * DAY


def test_v2_round_trip_gives_the_bytes_back() -> None:
    signed = create_signed_value("secret", "session", "alice", clock=clock)
    assert decode_signed_value("secret", "session", signed, clock=clock) == b"alice"


def test_v2_layout_is_length_prefixed_fields_and_a_sha256_signature() -> None:
    signed = create_signed_value("k", "n", b"\x00\xff", clock=clock)
    body = base64.b64encode(b"\x00\xff")
    to_sign = b"2|1:0|10:1700000000|1:n|%d:%s|" % (len(body), body)
    assert signed == to_sign + hmac.new(b"k", to_sign, hashlib.sha256).hexdigest().encode()


def test_v1_layout_is_value_timestamp_sha1_of_the_concatenation() -> None:
    signed = create_signed_value("k", "n", "v", version=1, clock=clock)
    body = base64.b64encode(b"v")
    mac = hmac.new(b"k", b"n" + body + b"1700000000", hashlib.sha1).hexdigest().encode()
    assert signed == body + b"|1700000000|" + mac


def test_v1_is_read_by_default_and_refused_with_min_version_2() -> None:
    signed = create_signed_value("k", "n", "old", version=1, clock=clock)
    assert decode_signed_value("k", "n", signed, clock=clock) == b"old"
    assert decode_signed_value("k", "n", signed, clock=clock, min_version=2) is None


def test_unicode_value_is_utf8() -> None:
    signed = create_signed_value("k", "n", "日本", clock=clock)
    assert decode_signed_value("k", "n", signed, clock=clock) == "日本".encode()


@pytest.mark.parametrize("version", [1, 2])
def test_expired_after_max_age_days(version: int) -> None:
    signed = create_signed_value("k", "n", "v", version=version, clock=clock)
    assert decode_signed_value("k", "n", signed, clock=lambda: days_later(30.9)) == b"v"
    assert decode_signed_value("k", "n", signed, clock=lambda: days_later(31.1)) is None
    assert decode_signed_value("k", "n", signed, 1, clock=lambda: days_later(1.1)) is None


@pytest.mark.parametrize("version", [1, 2])
def test_another_name_reads_as_none(version: int) -> None:
    signed = create_signed_value("k", "user", "v", version=version, clock=clock)
    assert decode_signed_value("k", "admin", signed, clock=clock) is None


@pytest.mark.parametrize("version", [1, 2])
def test_another_secret_reads_as_none(version: int) -> None:
    signed = create_signed_value("k", "n", "v", version=version, clock=clock)
    assert decode_signed_value("other", "n", signed, clock=clock) is None


@pytest.mark.parametrize("version", [1, 2])
def test_every_single_byte_change_is_refused(version: int) -> None:
    signed = create_signed_value("k", "n", "payload", version=version, clock=clock)
    for i in range(len(signed)):
        for replacement in (b"0", b"A", b"|"):
            tampered = signed[:i] + replacement + signed[i + 1 :]
            if tampered != signed:
                assert decode_signed_value("k", "n", tampered, clock=clock) is None, tampered


@pytest.mark.parametrize("version", [1, 2])
def test_every_prefix_and_any_trailing_bytes_are_refused(version: int) -> None:
    signed = create_signed_value("k", "n", "payload", version=version, clock=clock)
    for i in range(len(signed)):
        assert decode_signed_value("k", "n", signed[:i], clock=clock) is None, signed[:i]
    for trailer in (b"0", b"|", b"|extra", b" ", b"\r\n"):
        assert decode_signed_value("k", "n", signed + trailer, clock=clock) is None, trailer


def test_v1_timestamp_far_in_the_future_or_with_a_leading_zero_is_refused() -> None:
    # v1 signs name+value+timestamp without separators: digits can move between them.
    for stamp in (b"0" + b"%d" % NOW, b"%d" % days_later(40)):
        body = base64.b64encode(b"v")
        mac = hmac.new(b"k", b"n" + body + stamp, hashlib.sha1).hexdigest().encode()
        assert decode_signed_value("k", "n", body + b"|" + stamp + b"|" + mac, clock=clock) is None


def test_key_dict_the_version_inside_the_value_picks_the_secret() -> None:
    keys = {0: "old", 1: "new"}
    old = create_signed_value(keys, "n", "a", key_version=0, clock=clock)
    new = create_signed_value(keys, "n", "b", key_version=1, clock=clock)
    assert decode_signed_value(keys, "n", old, clock=clock) == b"a"
    assert decode_signed_value(keys, "n", new, clock=clock) == b"b"
    assert get_signature_key_version(old) == 0
    assert get_signature_key_version(new) == 1


def test_key_rotation_drops_values_of_a_removed_key() -> None:
    old = create_signed_value({0: "old"}, "n", "a", key_version=0, clock=clock)
    assert decode_signed_value({1: "new"}, "n", old, clock=clock) is None


def test_a_value_claiming_another_key_version_is_refused() -> None:
    signed = create_signed_value({0: "k"}, "n", "a", key_version=0, clock=clock)
    relabelled = signed.replace(b"2|1:0|", b"2|1:1|", 1)
    assert decode_signed_value({0: "k", 1: "k2"}, "n", relabelled, clock=clock) is None


def test_single_secret_signs_as_key_version_zero() -> None:
    signed = create_signed_value("k", "n", "a", clock=clock)
    assert get_signature_key_version(signed) == 0
    assert decode_signed_value({0: "k"}, "n", signed, clock=clock) == b"a"


def test_v1_value_with_a_key_dict_reads_as_none() -> None:
    signed = create_signed_value("k", "n", "a", version=1, clock=clock)
    assert decode_signed_value({0: "k"}, "n", signed, clock=clock) is None
    assert get_signature_key_version(signed) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"version": 3}, "unsupported signed value version 3"),
        ({"version": 1, "secret": {0: "k"}}, "version 1 cannot use a cookie_secret dict"),
        ({"secret": {0: "k"}}, "key_version must be given"),
        ({"secret": {0: "k"}, "key_version": 5}, "key_version 5 is not in"),
    ],
)
def test_create_refuses_what_cannot_be_signed(kwargs: dict[str, object], message: str) -> None:
    secret = kwargs.pop("secret", "k")
    with pytest.raises(ValueError, match=message):
        create_signed_value(secret, "n", "v", **kwargs)  # type: ignore[arg-type]


def test_min_version_above_the_newest_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="min_version 3"):
        decode_signed_value("k", "n", "x", min_version=3)


@pytest.mark.parametrize(
    "value",
    [None, "", "2|", "2|1:0", "2|x:0|", "2|1:0|10:1700000000|1:n|", "2|99:0|", "1000|x|y", "|||"],
)
def test_malformed_values_read_as_none(value: str | None) -> None:
    assert decode_signed_value("k", "n", value, clock=clock) is None


@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_decoding_arbitrary_input_never_raises(value: bytes | str) -> None:
    assert decode_signed_value("k", "n", value) is None
    assert decode_signed_value({0: "k"}, "n", value) is None
    get_signature_key_version(value)
    decode_xsrf_token(value)


@given(st.binary(max_size=100), st.text(max_size=20))
def test_round_trip_of_arbitrary_values_and_names(value: bytes, name: str) -> None:
    signed = create_signed_value("k", name, value, clock=clock)
    assert decode_signed_value("k", name, signed, clock=clock) == value


# -- XSRF tokens ---------------------------------------------------------------------------

RAW = bytes(range(16))


def test_xsrf_v2_token_is_masked_and_unmasks_to_the_raw_token() -> None:
    token = encode_xsrf_token(RAW, NOW, mask=b"\x01\x02\x03\x04")
    version, mask_hex, masked_hex, stamp = token.split(b"|")
    assert (version, mask_hex, stamp) == (b"2", b"01020304", b"1700000000")
    assert bytes.fromhex(masked_hex.decode()) != RAW
    assert decode_xsrf_token(token) == (2, RAW, NOW)


def test_xsrf_fresh_masks_give_different_tokens_for_the_same_raw_token() -> None:
    tokens = {encode_xsrf_token(RAW, NOW) for _ in range(20)}
    assert len(tokens) > 1
    assert {decode_xsrf_token(t)[1] for t in tokens if decode_xsrf_token(t)} == {RAW}  # type: ignore[index]


def test_xsrf_v1_token_is_hex_or_the_string_itself() -> None:
    assert encode_xsrf_token(RAW, NOW, version=1) == RAW.hex().encode()
    assert decode_xsrf_token(RAW.hex()) == (1, RAW, 0.0)
    assert decode_xsrf_token("not-hex") == (1, b"not-hex", 0.0)


@pytest.mark.parametrize(
    "token", ["3|a|b|1", "2|0102|0a0b|1", "2|zz|00|1", "2|01020304|00|x", "2|01020304|00"]
)
def test_xsrf_malformed_or_unknown_version_tokens_are_none(token: str) -> None:
    assert decode_xsrf_token(token) is None


def test_xsrf_unknown_output_version_is_an_error() -> None:
    with pytest.raises(ValueError, match="1 or 2"):
        encode_xsrf_token(RAW, NOW, version=3)


@given(st.binary(min_size=1, max_size=64), st.binary(min_size=4, max_size=4), st.integers(0, 2**40))
def test_xsrf_token_round_trip_for_any_raw_token_and_mask(
    raw: bytes, mask: bytes, stamp: int
) -> None:
    assert decode_xsrf_token(encode_xsrf_token(raw, stamp, mask=mask)) == (2, raw, float(stamp))
    assert decode_xsrf_token(encode_xsrf_token(raw, stamp, version=1)) == (1, raw, 0.0)


# A client controls these numbers: Python refuses int() of more than 4,300 digits with a
# ValueError, which must read as "not a valid value", never escape as a 500.
HUGE = b"9" * 5000


@pytest.mark.parametrize(
    "value",
    [
        HUGE + b"|x",  # the version field
        b"2|" + HUGE + b":0|",  # a field's length
        b"2|5000:" + HUGE + b"|10:1700000000|1:n|4:dg==|sig",  # the key version
    ],
    ids=["version", "field length", "key version"],
)
def test_numbers_too_long_for_int_read_as_invalid(value: bytes) -> None:
    assert decode_signed_value("k", "n", value, clock=clock) is None
    assert decode_signed_value({0: "k"}, "n", value, clock=clock) is None
    assert get_signature_key_version(value) is None


def test_an_xsrf_timestamp_too_long_for_int_reads_as_invalid() -> None:
    assert decode_xsrf_token(b"2|00000000|00|" + HUGE) is None
