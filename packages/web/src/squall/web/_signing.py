"""Signed values and XSRF tokens in Tornado's formats: bytes in, bytes out, no I/O.

Why Tornado's formats exactly: an application moving from Tornado keeps its
``cookie_secret``, and its users' cookies (sessions, ``_xsrf``) stay valid across the move,
in both directions. Nothing here logs or reads the clock on its own (``clock`` is passed).

Signed value, version 2 (written by default)::

    2|<len>:<key version>|<len>:<timestamp>|<len>:<name>|<len>:<base64 value>|<signature>

Every field but the first and the last is length-prefixed (decimal, no leading zeros); the
signature is the hex HMAC-SHA256 of everything before it, final ``|`` included, under the
secret of ``key version`` (0 when ``cookie_secret`` is a single string). The name is inside
the signed part, so a value signed for one cookie name is worthless under another.

Signed value, version 1 (read only when ``min_version`` allows; written on request)::

    <base64 value>|<timestamp>|<hex HMAC-SHA1 of name + base64 value + timestamp>

Version 1 signs its parts without separators, so digits could move from the value into the
timestamp; as Tornado does, a timestamp more than 31 days ahead or with a leading zero is
refused.

XSRF token, version 2: ``2|<hex 4-byte mask>|<hex token XOR mask>|<timestamp>``. The mask
is fresh for every page, so the token never repeats in a compressed response (BREACH); all
masks unmask to the same raw 16 bytes, which is what is compared. Version 1 is the raw
token in hex (or, failing that, the string itself).

Rules: whatever the input (it comes from a client), decoding returns None or raises
nothing; every comparison of secrets is ``hmac.compare_digest``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import TypeAlias

CookieSecret: TypeAlias = str | bytes | Mapping[int, str | bytes]
"""The ``cookie_secret`` setting: one secret, or ``{key version: secret}`` for rotation."""

DEFAULT_SIGNED_VALUE_VERSION = 2
"""The format ``create_signed_value`` writes unless told otherwise."""

DEFAULT_SIGNED_VALUE_MIN_VERSION = 1
"""The oldest format ``decode_signed_value`` accepts unless told otherwise."""

MAX_SUPPORTED_SIGNED_VALUE_VERSION = 2
"""The newest format this version of squall reads."""

_DAY = 86400
# A leading decimal version with no leading zero, then a pipe.
_VERSION_PREFIX = re.compile(rb"([1-9][0-9]*)\|")
# Longest number read from a client's value (a length, key version or timestamp): int()
# raises ValueError past 4,300 digits, and no real field needs more than this.
_MAX_DIGITS = 20


def _utf8(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _hmac_sha256_hex(secret: str | bytes, message: bytes) -> bytes:
    return hmac.new(_utf8(secret), message, hashlib.sha256).hexdigest().encode("ascii")


def _hmac_sha1_hex(secret: str | bytes, *parts: bytes) -> bytes:
    mac = hmac.new(_utf8(secret), digestmod=hashlib.sha1)
    for part in parts:
        mac.update(part)
    return mac.hexdigest().encode("ascii")


def _field(data: bytes) -> bytes:
    return b"%d:%s" % (len(data), data)


def create_signed_value(
    secret: CookieSecret,
    name: str,
    value: str | bytes,
    version: int | None = None,
    clock: Callable[[], float] | None = None,
    key_version: int | None = None,
) -> bytes:
    """Sign and timestamp ``value`` for the cookie (or other use) called ``name``.

    Args:
        secret: the ``cookie_secret``: a str/bytes, or a dict ``{key version: secret}``.
        name: what the value is for; decoding under another name fails.
        value: the payload (str is encoded as UTF-8).
        version: 2 (default) or 1 (only with a single secret).
        clock: returns the current time in seconds (``time.time`` by default).
        key_version: which secret of a dict signs (required with a dict).

    Returns:
        The signed value, ASCII bytes.

    Raises:
        ValueError: an unknown ``version``, version 1 with a dict, a dict without
            ``key_version`` or without that key.

    .. versionadded:: 0.2.0
    """
    if version is None:
        version = DEFAULT_SIGNED_VALUE_VERSION
    timestamp = b"%d" % int((clock or time.time)())
    encoded = base64.b64encode(_utf8(value))
    if version == 1:
        if isinstance(secret, Mapping):
            raise ValueError("signed value version 1 cannot use a cookie_secret dict")
        signature = _hmac_sha1_hex(secret, _utf8(name), encoded, timestamp)
        return b"|".join((encoded, timestamp, signature))
    if version != 2:
        raise ValueError(f"unsupported signed value version {version!r}")
    if isinstance(secret, Mapping):
        if key_version is None:
            raise ValueError("key_version must be given with a cookie_secret dict")
        try:
            secret = secret[key_version]
        except KeyError:
            raise ValueError(
                f"key_version {key_version!r} is not in the cookie_secret dict"
            ) from None
    to_sign = b"|".join(
        (
            b"2",
            _field(b"%d" % (key_version or 0)),
            _field(timestamp),
            _field(_utf8(name)),
            _field(encoded),
            b"",
        )
    )
    return to_sign + _hmac_sha256_hex(secret, to_sign)


def _version_of(value: bytes) -> int:
    """The format of a signed value: its leading number, or 1 (v1 has no version field)."""
    m = _VERSION_PREFIX.match(value)
    if m is None:
        return 1
    digits = m.group(1)
    # A v1 value is base64 first, whose length is a multiple of 4: a number of four or more
    # digits before a pipe can be v1 data, never one of the (few) real versions.
    return int(digits) if len(digits) <= 3 else 1


def _v2_fields(value: bytes) -> tuple[int, bytes, bytes, bytes, bytes] | None:
    """Split a v2 value into key version, timestamp, name, value, signature; None if bad."""
    rest = value[2:]
    fields: list[bytes] = []
    for _ in range(4):
        length, colon, rest = rest.partition(b":")
        if not colon or not length.isdigit() or len(length) > _MAX_DIGITS:
            return None
        n = int(length)
        if rest[n : n + 1] != b"|":
            return None
        fields.append(rest[:n])
        rest = rest[n + 1 :]
    key_version, timestamp, name, payload = fields
    if not key_version.isdigit() or len(key_version) > _MAX_DIGITS:
        return None
    return int(key_version), timestamp, name, payload, rest


def decode_signed_value(
    secret: CookieSecret,
    name: str,
    value: str | bytes | None,
    max_age_days: float = 31,
    clock: Callable[[], float] | None = None,
    min_version: int | None = None,
) -> bytes | None:
    """The payload of a signed value, or None when it does not check out.

    None for: no value, a malformed value, a bad signature, another ``name``, a key version
    missing from a ``cookie_secret`` dict, a timestamp older than ``max_age_days``, a format
    older than ``min_version`` or newer than this squall reads.

    Args:
        secret: the ``cookie_secret`` (with a dict, the version inside the value picks it).
        name: the name the value must have been signed for.
        value: the signed value (a cookie's value; a quoted one is already unquoted).
        max_age_days: how old the signature may be.
        clock: returns the current time in seconds (``time.time`` by default).
        min_version: 1 (default: old v1 values accepted) or 2.

    Raises:
        ValueError: ``min_version`` is above the newest supported format.

    .. versionadded:: 0.2.0
    """
    if min_version is None:
        min_version = DEFAULT_SIGNED_VALUE_MIN_VERSION
    if min_version > MAX_SUPPORTED_SIGNED_VALUE_VERSION:
        raise ValueError(f"unsupported min_version {min_version!r}")
    if not value:
        return None
    try:
        data = _utf8(value)
    except UnicodeEncodeError:  # lone surrogates: not something we signed
        return None
    version = _version_of(data)
    if version < min_version:
        return None
    now = (clock or time.time)()
    if version == 1:
        return _decode_v1(secret, name, data, max_age_days, now)
    if version == 2:
        return _decode_v2(secret, name, data, max_age_days, now)
    return None


def _decode_v1(
    secret: CookieSecret, name: str, data: bytes, max_age_days: float, now: float
) -> bytes | None:
    if isinstance(secret, Mapping):
        return None  # v1 predates key rotation: no secret of a dict can have signed it
    parts = data.split(b"|")
    if len(parts) != 3:
        return None
    payload, timestamp, signature = parts
    expected = _hmac_sha1_hex(secret, _utf8(name), payload, timestamp)
    if not hmac.compare_digest(signature, expected):
        return None
    if not timestamp.isdigit() or timestamp.startswith(b"0"):
        return None
    stamp = int(timestamp)
    if stamp < now - max_age_days * _DAY or stamp > now + 31 * _DAY:
        return None
    try:
        return base64.b64decode(payload)
    except binascii.Error:
        return None


def _decode_v2(
    secret: CookieSecret, name: str, data: bytes, max_age_days: float, now: float
) -> bytes | None:
    fields = _v2_fields(data)
    if fields is None:
        return None
    key_version, timestamp, signed_name, payload, signature = fields
    if isinstance(secret, Mapping):
        try:
            secret = secret[key_version]
        except KeyError:
            return None
    expected = _hmac_sha256_hex(secret, data[: len(data) - len(signature)])
    if not hmac.compare_digest(signature, expected):
        return None
    if signed_name != _utf8(name):
        return None
    if not timestamp.isdigit() or int(timestamp) < now - max_age_days * _DAY:
        return None
    try:
        return base64.b64decode(payload)
    except binascii.Error:
        return None


def get_signature_key_version(value: str | bytes) -> int | None:
    """The key version written inside a v2 signed value; None for v1 or a malformed value.

    The signature is not checked: this says which secret *would* verify the value.

    .. versionadded:: 0.2.0
    """
    try:
        data = _utf8(value)
    except UnicodeEncodeError:
        return None
    if _version_of(data) < 2:
        return None
    fields = _v2_fields(data)
    return None if fields is None else fields[0]


# -- XSRF tokens ---------------------------------------------------------------------------

XSRF_TOKEN_BYTES = 16


def _xor(mask: bytes, data: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def new_xsrf_token() -> bytes:
    """A fresh random raw XSRF token."""
    return os.urandom(XSRF_TOKEN_BYTES)


def encode_xsrf_token(
    token: bytes, timestamp: float, version: int = 2, mask: bytes | None = None
) -> bytes:
    """The raw ``token`` as sent in pages and cookies: v2 masked (a fresh mask) or v1 hex.

    Raises:
        ValueError: ``version`` is neither 1 nor 2, or ``mask`` is not 4 bytes.
    """
    if version == 1:
        return binascii.hexlify(token)
    if version != 2:
        raise ValueError(f"unknown xsrf cookie version {version!r}: 1 or 2")
    if mask is None:
        mask = os.urandom(4)
    elif len(mask) != 4:
        raise ValueError("an XSRF mask is 4 bytes")
    return b"|".join(
        (b"2", binascii.hexlify(mask), binascii.hexlify(_xor(mask, token)), b"%d" % timestamp)
    )


def decode_xsrf_token(value: str | bytes) -> tuple[int, bytes, float] | None:
    """``(version, raw token, timestamp)`` of a token from a cookie, form or header; None if bad.

    A v1 token has no timestamp: 0.0 is given. Unknown versions and malformed v2 tokens
    give None (never an exception: the value comes from the client).
    """
    try:
        data = _utf8(value)
    except UnicodeEncodeError:
        return None
    m = _VERSION_PREFIX.match(data)
    if m is None:
        try:
            return 1, binascii.unhexlify(data), 0.0
        except (binascii.Error, ValueError):
            return 1, data, 0.0
    if m.group(1) != b"2":
        return None
    parts = data.split(b"|")
    if len(parts) != 4 or not parts[3].isdigit() or len(parts[3]) > _MAX_DIGITS:
        return None
    try:
        mask = binascii.unhexlify(parts[1])
        masked = binascii.unhexlify(parts[2])
    except (binascii.Error, ValueError):
        return None
    if len(mask) != 4:
        return None
    return 2, _xor(mask, masked), float(int(parts[3]))
