"""negotiate_encoding: Accept-Encoding by q-value, *, identity, server preference."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.web import negotiate_encoding
from squall.web._encoding import parse_accept_encoding

SERVER = ("zstd", "br", "gzip")


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        (None, None),  # no header: identity
        ("", None),
        ("gzip", "gzip"),
        ("gzip, br", "br"),  # a tie: the server's order
        ("gzip, deflate, br, zstd", "zstd"),
        ("br;q=0.9, gzip", "gzip"),  # q decides before the server's order
        ("gzip;q=1.0, br;q=1", "br"),
        ("gzip;q=0", None),  # refused
        ("gzip;q=0, br;q=0.001", "br"),
        ("*", "zstd"),
        ("*;q=0", None),
        ("*;q=0.2, br;q=0", "zstd"),
        ("*, zstd;q=0", "br"),
        ("identity", None),
        ("identity;q=0", None),  # nothing else acceptable: identity anyway (no 406)
        ("identity;q=0, gzip", "gzip"),
        ("gzip;q=0.5, identity", None),  # identity named with a higher q
        ("gzip;q=0.5, identity;q=0.4", "gzip"),
        ("gzip;q=0.1", "gzip"),  # identity not named: a listed coding wins
        ("*;q=0.5, gzip;q=0.3", "zstd"),
        ("x-gzip", "gzip"),
        ("GZip", "gzip"),
        (" gzip ; q = 0.5 ", "gzip"),
        ("deflate", None),
        ("gzip;q=2", None),  # a bad q drops the entry
        ("gzip;q=abc, br", "br"),
        ("gzip;q=nan", None),
        ("gzip;level=1", "gzip"),  # other parameters are ignored
        (",,gzip,,", "gzip"),
        ("br;q=0.5, br;q=0.9, gzip;q=0.8", "br"),  # a repeated coding keeps its best q
    ],
)
def test_negotiation(header: str | None, chosen: str | None) -> None:
    assert negotiate_encoding(header, SERVER) == chosen


def test_the_server_order_breaks_ties() -> None:
    assert negotiate_encoding("gzip, br, zstd", ("gzip", "br")) == "gzip"
    assert negotiate_encoding("gzip, br, zstd", ("br", "gzip")) == "br"
    assert negotiate_encoding("gzip", ()) is None


def test_the_cache_gives_the_same_answers_for_another_server_order() -> None:
    assert negotiate_encoding("gzip, br", ("gzip", "br")) == "gzip"
    assert negotiate_encoding("gzip, br", ("br", "gzip")) == "br"


def test_parse_keeps_codings_lower_case_with_their_q() -> None:
    assert parse_accept_encoding("GZIP;q=0.5, Br, *;q=0") == {"gzip": 0.5, "br": 1.0, "*": 0.0}


_codings = st.sampled_from(["gzip", "br", "zstd", "identity", "*", "deflate", "x-gzip"])
_q = st.one_of(st.none(), st.sampled_from(["0", "0.5", "1", "0.001", "1.0"]))


@given(st.lists(st.tuples(_codings, _q), max_size=6))
def test_the_choice_is_acceptable_and_best(entries: list[tuple[str, str | None]]) -> None:
    header = ", ".join(c if q is None else f"{c};q={q}" for c, q in entries)
    chosen = negotiate_encoding(header, SERVER)
    prefs = parse_accept_encoding(header)
    star = prefs.get("*")

    def q_of(coding: str) -> float:
        value = prefs.get(coding, star)
        return 0.0 if value is None else value

    if chosen is None:
        # nothing acceptable, or identity explicitly preferred
        best = max(q_of(c) for c in SERVER)
        identity = prefs.get("identity", star)
        assert best == 0.0 or (identity is not None and identity > best)
    else:
        assert q_of(chosen) > 0
        for other in SERVER:
            assert q_of(other) <= q_of(chosen)
            if q_of(other) == q_of(chosen):
                assert SERVER.index(chosen) <= SERVER.index(other)
