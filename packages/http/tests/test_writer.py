"""Response serialisation: status lines, header blocks, chunks, the cached Date."""

from __future__ import annotations

import email.utils

import pytest

from squall.http import InvalidHeaderError, responses
from squall.http._writer import chunk, date_header, format_head, status_line


def test_status_line_uses_standard_reason_or_the_given_one() -> None:
    assert status_line("HTTP/1.1", 404) == "HTTP/1.1 404 Not Found\r\n"
    assert status_line("HTTP/1.1", 299) == "HTTP/1.1 299 Unknown\r\n"
    assert status_line("HTTP/1.1", 200, "Fine") == "HTTP/1.1 200 Fine\r\n"
    assert responses[418] == "I'm a Teapot"
    with pytest.raises(ValueError):
        status_line("HTTP/1.1", 42)
    with pytest.raises(InvalidHeaderError):
        status_line("HTTP/1.1", 200, "x\r\nInjected: 1")


def test_format_head_refuses_cr_lf_nul_and_non_latin1() -> None:
    assert format_head("HTTP/1.1", 200, None, [("A", "1")]) == b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\n"
    for bad in ([("A", "1\r\nB: 2")], [("A\r\n", "1")], [("A", "\n")], [("A", "\x00")],
                [("A", "\u2603")]):  # fmt: skip
        with pytest.raises(ValueError):
            format_head("HTTP/1.1", 200, None, bad)


def test_chunk_framing_and_date_header() -> None:
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"") == b""
    line = date_header()
    assert line.startswith("Date: ") and line.endswith(" GMT\r\n")
    assert email.utils.parsedate_to_datetime(line[6:-2]) is not None
    assert date_header() is date_header()  # cached within the second (almost always)
