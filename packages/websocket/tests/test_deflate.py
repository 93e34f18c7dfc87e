"""permessage-deflate negotiation (RFC 7692) and the handshake helpers, sans-I/O."""

from __future__ import annotations

import pytest

from squall.websocket._deflate import (
    accept_offer,
    check_options,
    client_offer,
    parse_extensions,
    parse_response,
)
from squall.websocket._errors import ProtocolError
from squall.websocket._handshake import accept_key, key_is_valid

DEFAULTS = check_options({})


def test_rfc_6455_accept_key_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert key_is_valid("dGhlIHNhbXBsZSBub25jZQ==")
    assert not key_is_valid("short") and not key_is_valid("é")


@pytest.mark.parametrize(
    ("offer", "answer"),
    [
        ("permessage-deflate", "permessage-deflate"),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate",
        ),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
        ),
        # the first offer is invalid (RFC 7692 §5.1: declined), the second is taken
        ("permessage-deflate; foo=1, permessage-deflate", "permessage-deflate"),
        ("x-webkit-deflate-frame, permessage-deflate", "permessage-deflate"),
    ],
)
def test_server_accepts_valid_offers(offer: str, answer: str) -> None:
    agreed = accept_offer(offer, DEFAULTS)
    assert agreed is not None and agreed[0] == answer


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; server_max_window_bits=8",  # zlib cannot compress with 256 B
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; unknown",
        "x-webkit-deflate-frame",
    ],
)
def test_server_declines_invalid_offers(offer: str) -> None:
    assert accept_offer(offer, DEFAULTS) is None


def test_server_options_ask_for_no_context_and_smaller_windows() -> None:
    opts = check_options(
        {
            "client_no_context_takeover": True,
            "server_max_window_bits": 11,
            "client_max_window_bits": 10,
        }
    )
    agreed = accept_offer("permessage-deflate; client_max_window_bits", opts)
    assert agreed is not None
    assert agreed[0] == (
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=11; "
        "client_max_window_bits=10"
    )
    # client_max_window_bits only when the client offered it (RFC 7692 §7.1.2.2)
    agreed = accept_offer("permessage-deflate", opts)
    assert agreed is not None and "client_max_window_bits" not in agreed[0]


def test_no_context_takeover_resets_the_compressor_between_messages() -> None:
    agreed = accept_offer("permessage-deflate; server_no_context_takeover", DEFAULTS)
    assert agreed is not None
    deflater = agreed[1]
    assert deflater.compress(b"abcabcabc" * 50) == deflater.compress(b"abcabcabc" * 50)
    kept = accept_offer("permessage-deflate", DEFAULTS)
    assert kept is not None
    first = kept[1].compress(b"abcabcabc" * 50)
    assert len(kept[1].compress(b"abcabcabc" * 50)) < len(first)  # uses the shared window


def test_options_are_checked_by_name() -> None:
    with pytest.raises(ValueError, match="mem_limit"):
        check_options({"mem_limit": 5})
    with pytest.raises(ValueError, match="compression_level"):
        check_options({"compression_level": 11})
    with pytest.raises(ValueError, match="server_max_window_bits"):
        check_options({"server_max_window_bits": 8})
    assert check_options({"mem_level": 4, "compression_level": 1})["mem_level"] == 4


def test_client_offer_and_server_answer() -> None:
    opts = check_options({"server_no_context_takeover": True})
    assert client_offer(opts) == (
        "permessage-deflate; server_no_context_takeover; client_max_window_bits"
    )
    parse_response("permessage-deflate; server_no_context_takeover", opts)
    with pytest.raises(ProtocolError):
        parse_response("permessage-deflate", opts)  # our demand was not accepted
    with pytest.raises(ProtocolError):
        parse_response("permessage-deflate; bogus", DEFAULTS)
    with pytest.raises(ProtocolError):
        parse_response("permessage-deflate, permessage-deflate", DEFAULTS)


def test_parse_extensions_unquotes_and_keeps_duplicates() -> None:
    assert parse_extensions('permessage-deflate; client_max_window_bits="10"; a; a, other') == [
        ("permessage-deflate", [("client_max_window_bits", "10"), ("a", None), ("a", None)]),
        ("other", []),
    ]
