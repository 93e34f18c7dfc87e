"""RFC 9112 framing rules, one table: valid and invalid examples of each, and squall's verdict.

Every rule that decides where a request starts and ends (request line, header field,
Content-Length, Transfer-Encoding, chunk line, trailers) has examples that must parse and
examples that must fail with a status. Each example is fed whole, one byte at a time, and
followed by a pipelined request (which must come out intact after a valid example).

Where h11 or httptools (llhttp) decide otherwise, the comment above the example says so.
Those verdicts were computed, not guessed: ``python packages/http/tests/conformance_others.py``
prints them again for the installed versions (h11 0.16.0, httptools 0.9.0 when written).
"h11: accepts" means h11 parsed a complete request without error; only accept/refuse
differences are noted (not a 501 where squall answers 400).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squall.http import RemoteProtocolError
from squall.http._parser import NEED_DATA, Data, EndOfMessage, Request, RequestParser


class Ok(NamedTuple):
    """A valid example: what the request must parse to."""

    method: str
    target: str
    headers: int  # number of header lines in the head
    body: bytes = b""
    trailers: int = 0
    keep_alive: bool = True


class Case(NamedTuple):
    rule: str
    name: str
    data: bytes
    want: Ok | int  # an Ok, or the status_hint of the RemoteProtocolError


def get(*fields: bytes, line: bytes = b"GET / HTTP/1.1") -> bytes:
    return line + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n"


def post(*fields: bytes, body: bytes = b"") -> bytes:
    return get(b"Host: t", *fields, line=b"POST / HTTP/1.1") + body


def chunked(wire: bytes) -> bytes:
    return post(b"Transfer-Encoding: chunked", body=wire)


H = b"Host: t"
CHUNKED_OK = Ok("POST", "/", 2, b"hello")

CASES = [
    # -- request-line = method SP request-target SP HTTP-version CRLF (§3) -----------------
    Case("request-line", "origin-form", get(H), Ok("GET", "/", 1)),
    Case("request-line", "query", get(H, line=b"GET /a?b=c HTTP/1.1"), Ok("GET", "/a?b=c", 1)),
    Case(
        "request-line", "http/1.0", get(line=b"GET / HTTP/1.0"), Ok("GET", "/", 0, keep_alive=False)
    ),
    # httptools: rejects (Invalid method encountered)
    Case("request-line", "extension method", get(H, line=b"X-M / HTTP/1.1"), Ok("X-M", "/", 1)),
    # httptools: rejects (Invalid method encountered)
    Case(
        "request-line",
        "methods are case-sensitive tokens",
        get(H, line=b"get / HTTP/1.1"),
        Ok("get", "/", 1),
    ),
    Case(
        "request-line", "absolute-form", get(H, line=b"GET http://t/a HTTP/1.1"), Ok("GET", "/a", 1)
    ),
    Case(
        "request-line", "asterisk-form", get(H, line=b"OPTIONS * HTTP/1.1"), Ok("OPTIONS", "*", 1)
    ),
    # h11: rejects (400: no request line received)
    Case("request-line", "empty line before it", b"\r\n" + get(H), Ok("GET", "/", 1)),
    # h11: rejects (400: illegal request line); httptools: rejects (Invalid char in url path)
    Case(
        "request-line",
        "obs-text in target",
        get(H, line=b"GET /\xe9 HTTP/1.1"),
        Ok("GET", "/\xe9", 1),
    ),
    # httptools: accepts
    Case("request-line", "two spaces", get(H, line=b"GET  / HTTP/1.1"), 400),
    Case("request-line", "tab as separator", get(H, line=b"GET\t/ HTTP/1.1"), 400),
    Case("request-line", "space at the end", get(H, line=b"GET / HTTP/1.1 "), 400),
    # httptools: accepts (then refuses the pipelined request: Data after `Connection: close`)
    Case("request-line", "no version", get(H, line=b"GET /"), 400),
    Case("request-line", "lower-case version", get(H, line=b"GET / http/1.1"), 400),
    Case("request-line", "DEL in target", get(H, line=b"GET /a\x7f HTTP/1.1"), 400),
    # h11: accepts
    Case("request-line", "target not a path", get(H, line=b"GET a HTTP/1.1"), 400),
    # h11: accepts; httptools: accepts
    Case("request-line", "asterisk-form for GET", get(H, line=b"GET * HTTP/1.1"), 400),
    # h11: accepts
    # httptools: accepts (then refuses the pipelined request: Data after `Connection: close`)
    Case("request-line", "HTTP/2.0", get(H, line=b"GET / HTTP/2.0"), 505),
    # the version is judged first, however the line arrives (found by the differential fuzz)
    # h11: accepts
    Case("request-line", "HTTP/1.2 and no path", get(H, line=b"GET h:443 HTTP/1.2"), 505),
    # h11: accepts
    Case("request-line", "HTTP/1.2", get(H, line=b"GET / HTTP/1.2"), 505),
    # h11: accepts
    Case("request-line", "HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    # h11: accepts
    Case("request-line", "PRI over HTTP/1.0", get(line=b"PRI /a HTTP/1.0"), 400),
    # h11: accepts
    Case("request-line", "PRI * over HTTP/1.1", get(H, line=b"PRI * HTTP/1.1"), 400),
    Case("request-line", "binary before it", b"\x16\x03\x01" + get(H), 400),
    # -- field-line = field-name ":" OWS field-value OWS (§5) ----------------------------
    Case("field-line", "no OWS", get(H, b"X-A:b"), Ok("GET", "/", 2)),
    Case("field-line", "OWS of tabs and spaces", get(H, b"X-A:\t b \t"), Ok("GET", "/", 2)),
    Case("field-line", "empty value", get(H, b"X-A:"), Ok("GET", "/", 2)),
    Case("field-line", "obs-text in value", get(H, b"X-A: caf\xe9"), Ok("GET", "/", 2)),
    Case("field-line", "repeated name", get(H, b"X-A: 1", b"x-a: 2"), Ok("GET", "/", 3)),
    Case("field-line", "space before colon", get(H, b"X-A : b"), 400),
    # h11: accepts
    Case("field-line", "obs-fold", get(H, b"X-A: b", b" c"), 400),
    Case("field-line", "no colon", get(H, b"X-A"), 400),
    Case("field-line", "empty name", get(H, b": b"), 400),
    Case("field-line", "name not a token", get(H, b"X@A: b"), 400),
    Case("field-line", "NUL in value", get(H, b"X-A: a\x00b"), 400),
    Case("field-line", "bare CR in value", get(H, b"X-A: a\rb"), 400),
    # h11: accepts
    Case("field-line", "bare LF as line end", get(H, b"X-A: a\nX-B: c"), 400),
    # No CRLF ever comes, so a parser waiting for one would hold the connection until its
    # header timeout (a 408 after 30 s) instead of answering the bad line at once.
    # h11: accepts
    Case("request-line", "bare LF ends every line", b"GET / HTTP/1.1\nHost: t\n\n", 400),
    # h11: accepts
    Case("field-line", "bare LF ends the head", b"GET / HTTP/1.1\r\nHost: t\n\n", 400),
    # h11: accepts
    Case("field-line", "bare LF before the last CRLF", b"GET / HTTP/1.1\r\nHost: t\n\r\n", 400),
    # h11: accepts
    Case("field-line", "DEL in value", get(H, b"X-A: a\x7fb"), 400),
    # h11: accepts
    Case("field-line", "control char in value", get(H, b"X-A: a\x01b"), 400),
    # httptools: accepts
    Case("field-line", "HTTP/1.1 without Host", get(), 400),
    # httptools: accepts
    Case("field-line", "two Host fields", get(H, b"Host: u"), 400),
    # h11: accepts; httptools: accepts
    Case("field-line", "Host with a space", get(b"Host: a b"), 400),
    # -- Content-Length = 1*DIGIT (§6.2, §6.3) ------------------------------------------
    Case(
        "content-length",
        "body",
        post(b"Content-Length: 5", body=b"hello"),
        Ok("POST", "/", 2, b"hello"),
    ),
    Case("content-length", "zero", post(b"Content-Length: 0"), Ok("POST", "/", 2)),
    Case(
        "content-length",
        "leading zeros",
        post(b"Content-Length: 005", body=b"hello"),
        Ok("POST", "/", 2, b"hello"),
    ),
    Case(
        "content-length",
        "OWS around",
        post(b"Content-Length:  5 ", body=b"hello"),
        Ok("POST", "/", 2, b"hello"),
    ),
    # h11: accepts
    Case(
        "content-length",
        "two equal fields",
        post(b"Content-Length: 5", b"Content-Length: 5", body=b"hello"),
        400,
    ),
    # h11: accepts
    Case(
        "content-length",
        "equal values as a list",
        post(b"Content-Length: 5, 5", body=b"hello"),
        400,
    ),
    Case(
        "content-length",
        "two different fields",
        post(b"Content-Length: 5", b"Content-Length: 6", body=b"hello!"),
        400,
    ),
    Case("content-length", "plus sign", post(b"Content-Length: +5", body=b"hello"), 400),
    Case("content-length", "negative", post(b"Content-Length: -1"), 400),
    Case("content-length", "hexadecimal", post(b"Content-Length: 0x5", body=b"hello"), 400),
    Case("content-length", "exponent", post(b"Content-Length: 1e1", body=b"hello"), 400),
    Case("content-length", "two numbers", post(b"Content-Length: 5 5", body=b"hello"), 400),
    Case("content-length", "empty", post(b"Content-Length:"), 400),
    Case("content-length", "over 18 digits", post(b"Content-Length: " + b"9" * 19), 400),
    # h11: accepts
    Case(
        "content-length",
        "with Transfer-Encoding",
        post(b"Content-Length: 5", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
        400,
    ),
    # -- Transfer-Encoding (§6.1, §7) ----------------------------------------------------
    Case("transfer-encoding", "chunked", chunked(b"5\r\nhello\r\n0\r\n\r\n"), CHUNKED_OK),
    Case(
        "transfer-encoding",
        "case-insensitive",
        post(b"Transfer-Encoding: ChUnKeD", body=b"5\r\nhello\r\n0\r\n\r\n"),
        CHUNKED_OK,
    ),
    Case(
        "transfer-encoding",
        "HTTP/1.0 with chunked closes after it",
        get(b"Transfer-Encoding: chunked", line=b"POST / HTTP/1.0") + b"5\r\nhello\r\n0\r\n\r\n",
        Ok("POST", "/", 1, b"hello", keep_alive=False),
    ),
    Case("transfer-encoding", "gzip", post(b"Transfer-Encoding: gzip"), 400),
    # httptools: accepts
    Case(
        "transfer-encoding",
        "gzip, chunked",
        post(b"Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"),
        400,
    ),
    Case(
        "transfer-encoding",
        "chunked twice in one field",
        post(b"Transfer-Encoding: chunked, chunked", body=b"0\r\n\r\n"),
        400,
    ),
    Case(
        "transfer-encoding",
        "two fields",
        post(b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
        400,
    ),
    Case(
        "transfer-encoding",
        "xchunked",
        post(b"Transfer-Encoding: xchunked", body=b"0\r\n\r\n"),
        400,
    ),
    Case(
        "transfer-encoding",
        "chunked with a parameter",
        post(b"Transfer-Encoding: chunked;q=1", body=b"0\r\n\r\n"),
        400,
    ),
    # -- chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (§7.1) ---------------------
    Case(
        "chunk-line",
        "lower-case hex",
        chunked(b"a\r\n0123456789\r\n0\r\n\r\n"),
        Ok("POST", "/", 2, b"0123456789"),
    ),
    Case("chunk-line", "leading zeros", chunked(b"0005\r\nhello\r\n0\r\n\r\n"), CHUNKED_OK),
    Case("chunk-line", "several chunks", chunked(b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"), CHUNKED_OK),
    Case("chunk-line", "extension name", chunked(b"5;a\r\nhello\r\n0\r\n\r\n"), CHUNKED_OK),
    Case(
        "chunk-line", "extension token value", chunked(b"5;a=b\r\nhello\r\n0\r\n\r\n"), CHUNKED_OK
    ),
    Case(
        "chunk-line",
        "quoted value with ; and escaped quote",
        chunked(b'5;a="b;\\"c"\r\nhello\r\n0\r\n\r\n'),
        CHUNKED_OK,
    ),
    Case(
        "chunk-line",
        "several extensions",
        chunked(b'5;a;b=c;d="e"\r\nhello\r\n0\r\n\r\n'),
        CHUNKED_OK,
    ),
    # h11: rejects (400: illegal chunk header); httptools: rejects (Invalid character in chunk size)
    Case(
        "chunk-line", "BWS around ; and =", chunked(b"5 ; a = b\r\nhello\r\n0\r\n\r\n"), CHUNKED_OK
    ),
    Case(
        "chunk-line",
        "extension on the last chunk",
        chunked(b"5\r\nhello\r\n0;a=b\r\n\r\n"),
        CHUNKED_OK,
    ),
    # h11: accepts
    Case("chunk-line", "space after the size", chunked(b"5 \r\nhello\r\n0\r\n\r\n"), 400),
    # h11: accepts
    Case("chunk-line", "tab after the size", chunked(b"5\t\r\nhello\r\n0\r\n\r\n"), 400),
    # h11: accepts
    Case("chunk-line", "empty extension", chunked(b"5;\r\nhello\r\n0\r\n\r\n"), 400),
    # h11: accepts; httptools: accepts
    Case(
        "chunk-line", "empty extension between two", chunked(b"5;a;;b\r\nhello\r\n0\r\n\r\n"), 400
    ),
    # h11: accepts; httptools: accepts
    Case("chunk-line", "extension without a name", chunked(b"5;=b\r\nhello\r\n0\r\n\r\n"), 400),
    # h11: accepts; httptools: accepts
    Case("chunk-line", "= without a value", chunked(b"5;a=\r\nhello\r\n0\r\n\r\n"), 400),
    # h11: accepts
    Case("chunk-line", "unbalanced quote", chunked(b'5;a="b\r\nhello\r\n0\r\n\r\n'), 400),
    # h11: accepts
    Case(
        "chunk-line", "whitespace after an extension", chunked(b"5;a=b \r\nhello\r\n0\r\n\r\n"), 400
    ),
    Case("chunk-line", "space before the size", chunked(b" 5\r\nhello\r\n0\r\n\r\n"), 400),
    Case("chunk-line", "not hexadecimal", chunked(b"g\r\nhello\r\n0\r\n\r\n"), 400),
    Case("chunk-line", "0x prefix", chunked(b"0x5\r\nhello\r\n0\r\n\r\n"), 400),
    Case("chunk-line", "negative", chunked(b"-5\r\nhello\r\n0\r\n\r\n"), 400),
    Case("chunk-line", "empty size", chunked(b"\r\nhello\r\n0\r\n\r\n"), 400),
    # h11: accepts
    Case("chunk-line", "bare CR in an extension", chunked(b"5;a\rb\r\nhello\r\n0\r\n\r\n"), 400),
    Case("chunk-line", "size overflows 16 hex digits", chunked(b"1" + b"0" * 16 + b"\r\n"), 400),
    Case("chunk-line", "data longer than the size", chunked(b"3\r\nhello\r\n0\r\n\r\n"), 400),
    # -- trailer-section = *( field-line CRLF ) (§7.1.2; RFC 9110 §6.5.1) ------------------
    Case(
        "trailers",
        "one trailer",
        chunked(b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"),
        Ok("POST", "/", 2, b"hello", 1),
    ),
    Case(
        "trailers",
        "two trailers",
        chunked(b"5\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"),
        Ok("POST", "/", 2, b"hello", 2),
    ),
    # h11: accepts
    Case("trailers", "Content-Length", chunked(b"0\r\nContent-Length: 5\r\n\r\n"), 400),
    # refused at once, not after the body timeout: no CRLF CRLF may ever come
    # h11: accepts
    Case("trailers", "bare LF line ends", chunked(b"0\r\nX-A: b\n\n"), 400),
    Case("trailers", "empty Content-Length", chunked(b"0\r\nContent-Length:\r\n\r\n"), 400),
    Case("trailers", "Transfer-Encoding", chunked(b"0\r\nTransfer-Encoding: c\r\n\r\n"), 400),
    # h11: accepts
    # httptools: accepts (then refuses the pipelined request: Data after `Connection: close`)
    Case("trailers", "Connection: close", chunked(b"0\r\nConnection: close\r\n\r\n"), 400),
    # h11: accepts; httptools: accepts
    Case("trailers", "Host", chunked(b"0\r\nHost: u\r\n\r\n"), 400),
    # h11: accepts; httptools: accepts
    Case("trailers", "TE", chunked(b"0\r\nTE: trailers\r\n\r\n"), 400),
    # h11: accepts; httptools: accepts
    Case("trailers", "Trailer", chunked(b"0\r\nTrailer: X-T\r\n\r\n"), 400),
    # h11: accepts; httptools: accepts
    Case("trailers", "lower-case host", chunked(b"0\r\nhost: u\r\n\r\n"), 400),
    # h11: accepts
    Case("trailers", "obs-fold", chunked(b"0\r\nX-T: 1\r\n 2\r\n\r\n"), 400),
    Case("trailers", "no colon", chunked(b"0\r\nX-T\r\n\r\n"), 400),
    Case("trailers", "NUL", chunked(b"0\r\nX-T: \x00\r\n\r\n"), 400),
]


def _events(parser: RequestParser) -> list[Any]:
    out = []
    while (ev := parser.next_event()) is not NEED_DATA:
        out.append(ev)
    return out


def whole(data: bytes) -> list[Any]:
    p = RequestParser()
    p.receive_data(data)
    return _events(p)


def byte_by_byte(data: bytes) -> list[Any]:
    p = RequestParser()
    out: list[Any] = []
    for i in range(len(data)):
        p.receive_data(data[i : i + 1])
        out += _events(p)
    return out


NEXT = b"GET /next HTTP/1.1\r\nHost: t\r\n\r\n"


def with_trailing_bytes(data: bytes) -> list[Any]:
    events = whole(data + NEXT)
    last = events.pop()
    assert isinstance(last, Request) and last.target == "/next", last
    return events


FEEDERS = [whole, byte_by_byte, with_trailing_bytes]


def verdict(events: list[Any]) -> Ok:
    """The parse of exactly one complete request, as an Ok."""
    head = events[0]
    assert isinstance(head, Request)
    body = b"".join(e.data for e in events if isinstance(e, Data))
    trailers = 0
    if head.has_body:
        end = events[-1]
        assert isinstance(end, EndOfMessage)
        trailers = 0 if end.trailers is None else len(list(end.trailers.get_all()))
        assert len(events) == 2 + sum(isinstance(e, Data) for e in events)
    else:
        assert len(events) == 1
    count = len(list(head.headers.get_all()))
    return Ok(head.method, head.target, count, body, trailers, head.keep_alive)


def _params(valid: bool) -> list[Any]:
    return [
        pytest.param(c.data, c.want, id=f"{c.rule}: {c.name}")
        for c in CASES
        if isinstance(c.want, Ok) is valid
    ]


@pytest.mark.parametrize("feed", FEEDERS)
@pytest.mark.parametrize(("data", "want"), _params(True))
def test_valid_example_parses_to_one_request_however_it_arrives(
    feed: Any, data: bytes, want: Ok
) -> None:
    assert verdict(feed(data)) == want


@pytest.mark.parametrize("feed", FEEDERS)
@pytest.mark.parametrize(("data", "status"), _params(False))
def test_invalid_example_is_refused_with_its_status_however_it_arrives(
    feed: Any, data: bytes, status: int
) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        feed(data)
    assert info.value.status_hint == status


def test_every_rule_has_valid_and_invalid_examples() -> None:
    rules = {c.rule for c in CASES}
    assert rules == {
        "request-line",
        "field-line",
        "content-length",
        "transfer-encoding",
        "chunk-line",
        "trailers",
    }
    for rule in rules:
        kinds = {isinstance(c.want, Ok) for c in CASES if c.rule == rule}
        assert kinds == {True, False}, rule


@pytest.mark.parametrize("feed", [whole, byte_by_byte])
def test_connect_reads_no_body_and_stops_parsing(feed: Any) -> None:
    # RFC 9110 §9.3.6: CONNECT has no content. Its Content-Length frames nothing, and the
    # bytes after its head (here a would-be body and a would-be request) are never parsed.
    # h11 reads the 5 bytes as a body and then waits for the protocol switch; httptools
    # stops at the head (HttpParserUpgrade), as squall does.
    data = b"CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\nContent-Length: 5\r\n\r\nhello" + NEXT
    events = feed(data)
    assert len(events) == 1
    head = events[0]
    assert isinstance(head, Request)
    assert (head.method, head.target, head.has_body, head.keep_alive) == (
        "CONNECT",
        "t:443",
        False,
        False,
    )


# -- chunk lines against a reference reading of the ABNF ------------------------------------

_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def chunk_ext_ok(ext: bytes) -> bool:
    """``*( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] )`` read one byte at a time.

    An independent reading of RFC 9112 §7.1.1 (no regex) to check ``CHUNK_LINE_RE`` by.
    """
    i, n = 0, len(ext)

    def ows(i: int) -> int:
        while i < n and ext[i] in b" \t":
            i += 1
        return i

    def token(i: int) -> int:
        j = i
        while j < n and ext[j] in _TCHAR:
            j += 1
        return j

    while i < n:
        i = ows(i)
        if i >= n or ext[i] != 0x3B:  # ";"
            return False
        j = token(ows(i + 1))
        if j == ows(i + 1):
            return False  # no ext-name
        i = j
        k = ows(i)
        if k < n and ext[k] == 0x3D:  # "="
            k = ows(k + 1)
            if k < n and ext[k] == 0x22:  # quoted-string
                k += 1
                while k < n and ext[k] != 0x22:
                    if ext[k] == 0x5C:  # quoted-pair
                        if k + 1 >= n or not (ext[k + 1] in b"\t " or 0x21 <= ext[k + 1] != 0x7F):
                            return False
                        k += 2
                    elif ext[k] in b"\t " or 0x21 <= ext[k] != 0x7F:
                        k += 1
                    else:
                        return False
                if k >= n:
                    return False  # unbalanced quote
                i = k + 1
            else:
                j = token(k)
                if j == k:
                    return False  # "=" without a value
                i = j
    return True


# Whole extensions (so that many lines are valid) and single bytes that may break them.
_EXT_PIECES = [b";k", b";k=Z9", b';k="a ;\\"b"', b" ; k = Z9", b'\t;k=""'] * 3 + [
    b" ",
    b"\t",
    b";",
    b"=",
    b'"',
    b"\\",
    b"k",
    b"\x7f",
    b",",
]


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 40),
    st.lists(st.sampled_from(_EXT_PIECES), max_size=8),
)
def test_chunk_line_is_accepted_exactly_when_the_abnf_says_so(
    size: int, parts: list[bytes]
) -> None:
    ext = b"".join(parts)
    wire = chunked(b"%x%b\r\n%b\r\n0\r\n\r\n" % (size, ext, b"x" * size))
    try:
        events = whole(wire)
    except RemoteProtocolError as exc:
        assert not chunk_ext_ok(ext), (ext, exc)
        assert exc.status_hint == 400
    else:
        assert chunk_ext_ok(ext), ext
        assert verdict(events).body == b"x" * size
