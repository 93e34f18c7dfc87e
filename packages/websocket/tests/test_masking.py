"""Masking (RFC 6455 §5.3): the C accelerator and the pure-Python code give the same bytes
for every length and alignment and every bytes-like input; which one runs, and the switch.

The suite runs twice in nox (the second time with ``SQUALL_WEBSOCKET_PURE=1``), so every
other test also passes on each implementation.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import squall.websocket
from squall.websocket._frames import PURE_ENV, mask_bytes, mask_bytes_pure

try:
    from squall.websocket import _speedups
except ImportError:  # built without a compiler: only the pure code is compared then
    _speedups = None  # type: ignore[assignment]

Masker = Callable[[bytes | bytearray, bytes | bytearray | memoryview], bytes]
IMPLEMENTATIONS: dict[str, Masker] = {"pure": mask_bytes_pure}
if _speedups is not None:
    IMPLEMENTATIONS["c"] = _speedups.mask_bytes
PURE_ASKED = os.environ.get(PURE_ENV, "") not in ("", "0")
KEYS = [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x01\x02\x03\x04", b"\x37\xfa\x21\x3d"]


def reference(key: bytes, data: bytes) -> bytes:
    """The definition, byte by byte: octet i XOR key[i mod 4]."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def as_kind(data: bytes, kind: str, offset: int) -> bytes | bytearray | memoryview:
    """``data`` as bytes, a bytearray, or a memoryview starting ``offset`` bytes into a
    larger buffer (so the payload is not aligned the way the buffer is)."""
    if kind == "bytes":
        return data
    if kind == "bytearray":
        return bytearray(data)
    return memoryview(b"\xaa" * offset + data + b"\x55" * 3)[offset : offset + len(data)]


def test_the_accelerator_is_used_unless_the_pure_code_is_asked_for() -> None:
    if PURE_ASKED:
        assert not squall.websocket.speedups_enabled()
        assert mask_bytes is mask_bytes_pure
    else:
        assert _speedups is not None, (
            "squall.websocket._speedups was not built (no C compiler?): "
            f"run the tests with {PURE_ENV}=1 on such a machine"
        )
        assert squall.websocket.speedups_enabled()
        assert mask_bytes is _speedups.mask_bytes


@pytest.mark.parametrize(("value", "pure"), [("1", True), ("yes", True), ("0", False)])
def test_the_environment_variable_chooses_at_import(value: str, pure: bool) -> None:
    code = "import squall.websocket as w; print(w.speedups_enabled())"
    env = {**os.environ, PURE_ENV: value}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(not pure and _speedups is not None)


@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview"])
def test_every_length_to_100_and_every_alignment(name: str, kind: str) -> None:
    fn = IMPLEMENTATIONS[name]
    for key in KEYS:
        for n in range(101):
            data = bytes((i * 7 + n) & 0xFF for i in range(n))
            for offset in range(8) if kind == "memoryview" else (0,):
                got = fn(key, as_kind(data, kind, offset))
                assert type(got) is bytes
                assert got == reference(key, data), (key, n, offset)


@pytest.mark.parametrize("name", sorted(IMPLEMENTATIONS))
def test_large_payloads_on_both_sides_of_the_crossovers(name: str) -> None:
    fn = IMPLEMENTATIONS[name]
    key = b"\x9a\x01\xfe\x42"
    blob = os.urandom(70_000)
    for n in (8191, 8192, 8193, 65535, 65536, 65537, 70_000):
        for offset in (0, 1, 3, 5):
            data = blob[offset : offset + n]
            want = reference(key, data)
            assert fn(key, data) == want
            assert fn(key, as_kind(data, "memoryview", offset)) == want


def _large_bytes(low: int, high: int) -> st.SearchStrategy[bytes]:
    """Payloads of ``low``-``high`` pseudo-random bytes drawn from a seed and a size.

    Drawing thousands of bytes one by one exceeds hypothesis's entropy budget (its
    data_too_large health check fails the run at random); a seed gives the same variety.
    """
    return st.builds(
        lambda seed, size: random.Random(seed).randbytes(size),
        st.integers(0, 2**32 - 1),
        st.integers(low, high),
    )


@given(
    data=st.one_of(st.binary(max_size=100), _large_bytes(8180, 8300)),
    key=st.binary(min_size=4, max_size=4),
    kind=st.sampled_from(["bytes", "bytearray", "memoryview"]),
    offset=st.integers(0, 7),
)
def test_c_and_pure_give_the_same_bytes(data: bytes, key: bytes, kind: str, offset: int) -> None:
    results = {name: fn(key, as_kind(data, kind, offset)) for name, fn in IMPLEMENTATIONS.items()}
    assert set(results.values()) == {reference(key, data)}
    # Its own inverse: unmasking the masked bytes gives the payload back.
    assert mask_bytes(key, results["pure"]) == data


def test_the_accelerator_refuses_a_bad_mask_or_a_non_buffer() -> None:
    fn = IMPLEMENTATIONS.get("c")
    if fn is None:  # not built: only allowed in the pure-only run (see the first test)
        assert PURE_ASKED
        return
    with pytest.raises(ValueError, match="4 bytes, not 3"):
        fn(b"abc", b"payload")
    with pytest.raises(TypeError):
        fn(b"abcd", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fn(b"abcd")  # type: ignore[call-arg]
    assert fn(bytearray(b"abcd"), b"") == b""
