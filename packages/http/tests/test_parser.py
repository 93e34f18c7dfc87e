"""The sans-I/O parser: every vector fed whole, one byte at a time, and with trailing bytes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squall.http import HTTPLimits, RemoteProtocolError
from squall.http._parser import NEED_DATA, Data, EndOfMessage, Request, RequestParser


def _events(parser: RequestParser) -> list[Any]:
    out = []
    while True:
        ev = parser.next_event()
        if ev is NEED_DATA:
            return out
        out.append(ev)


def feed_whole(data: bytes, limits: HTTPLimits | None = None) -> list[Any]:
    p = RequestParser(limits)
    p.receive_data(data)
    return _events(p)


def feed_bytewise(data: bytes, limits: HTTPLimits | None = None) -> list[Any]:
    p = RequestParser(limits)
    out: list[Any] = []
    for i in range(len(data)):
        p.receive_data(data[i : i + 1])
        out += _events(p)
    return out


def feed_trailing(data: bytes, limits: HTTPLimits | None = None) -> list[Any]:
    # A pipelined next request follows: the vector's events come first, then its Request.
    p = RequestParser(limits)
    p.receive_data(data + b"GET /trailing HTTP/1.1\r\nHost: t\r\n\r\n")
    events = _events(p)
    last = events.pop()
    assert isinstance(last, Request) and last.target == "/trailing"
    return events


FEEDERS = [feed_whole, feed_bytewise, feed_trailing]


def summarize(events: list[Any]) -> list[Any]:
    """Merge Data events (their split depends on arrival) and keep comparable values."""
    out: list[Any] = []
    body = b""
    for ev in events:
        if isinstance(ev, Request):
            out.append(
                (
                    "req",
                    ev.method,
                    ev.target,
                    ev.version,
                    list(ev.headers.get_all()),
                    ev.keep_alive,
                    ev.expect_continue,
                )
            )
        elif isinstance(ev, Data):
            body += ev.data
        elif isinstance(ev, EndOfMessage):
            out.append(("body", body))
            out.append(("end", None if ev.trailers is None else list(ev.trailers.get_all())))
            body = b""
    assert body == b""
    return out


GOOD = [
    (
        "simple get",
        b"GET /a?b=1 HTTP/1.1\r\nHost: t\r\n\r\n",
        [("req", "GET", "/a?b=1", "HTTP/1.1", [("Host", "t")], True, False)],
    ),
    (
        "absolute-form becomes origin-form",
        b"GET http://t:8000/a/b?c=1 HTTP/1.1\r\nHost: t:8000\r\n\r\n",
        [("req", "GET", "/a/b?c=1", "HTTP/1.1", [("Host", "t:8000")], True, False)],
    ),
    (
        "absolute-form without a path",
        b"GET HTTPS://t?x HTTP/1.1\r\nHost: t\r\n\r\n",
        [("req", "GET", "/?x", "HTTP/1.1", [("Host", "t")], True, False)],
    ),
    (
        "asterisk-form for OPTIONS",
        b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n",
        [("req", "OPTIONS", "*", "HTTP/1.1", [("Host", "t")], True, False)],
    ),
    (
        "http/1.0 without host closes",
        b"GET / HTTP/1.0\r\n\r\n",
        [("req", "GET", "/", "HTTP/1.0", [], False, False)],
    ),
    (
        "http/1.0 keep-alive asked",
        b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        [("req", "GET", "/", "HTTP/1.0", [("Connection", "Keep-Alive")], True, False)],
    ),
    (
        "connection close",
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        [("req", "GET", "/", "HTTP/1.1", [("Host", "t"), ("Connection", "close")], False, False)],
    ),
    (
        "ows stripped and repeated headers kept",
        b"GET / HTTP/1.1\r\nHost: t\r\nX-A:  1 \t\r\nx-a:2\r\nX-Empty:\r\n\r\n",
        [
            (
                "req",
                "GET",
                "/",
                "HTTP/1.1",
                [("Host", "t"), ("X-A", "1"), ("X-A", "2"), ("X-Empty", "")],
                True,
                False,
            )
        ],
    ),
    (
        "content-length body",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
        [
            ("req", "POST", "/", "HTTP/1.1", [("Host", "t"), ("Content-Length", "5")], True, False),
            ("body", b"hello"),
            ("end", None),
        ],
    ),
    (
        "chunked with extensions and trailers",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n"
        b"3;name=val\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n",
        [
            (
                "req",
                "POST",
                "/",
                "HTTP/1.1",
                [("Host", "t"), ("Transfer-Encoding", "Chunked")],
                True,
                False,
            ),
            ("body", b"abc0123456789"),
            ("end", [("X-Trailer", "yes")]),
        ],
    ),
    (
        "expect 100-continue",
        b"PUT /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nz",
        [
            (
                "req",
                "PUT",
                "/x",
                "HTTP/1.1",
                [("Host", "t"), ("Expect", "100-continue"), ("Content-Length", "1")],
                True,
                True,
            ),
            ("body", b"z"),
            ("end", None),
        ],
    ),
    (
        "leading empty line ignored",
        b"\r\nGET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
        [("req", "GET", "/", "HTTP/1.1", [("Host", "[::1]:80")], True, False)],
    ),
    (
        # A bare LF is refused inside a head, but an empty line before the request line
        # carries nothing to misread (Tornado skips it too; netcat users send it).
        "leading empty lines ended by CRLF or a bare LF ignored",
        b"\n\r\n\nGET / HTTP/1.1\r\nHost: t\r\n\r\n",
        [("req", "GET", "/", "HTTP/1.1", [("Host", "t")], True, False)],
    ),
    (
        "latin-1 header value",
        b"GET / HTTP/1.1\r\nHost: t\r\nX-N: caf\xe9\r\n\r\n",
        [("req", "GET", "/", "HTTP/1.1", [("Host", "t"), ("X-N", "caf\xe9")], True, False)],
    ),
]


@pytest.mark.parametrize("feed", FEEDERS)
@pytest.mark.parametrize(("data", "expected"), [pytest.param(d, e, id=i) for i, d, e in GOOD])
def test_valid_request_parses_to_the_same_events_however_it_arrives(
    feed: Any, data: bytes, expected: list[Any]
) -> None:
    assert summarize(feed(data)) == expected


# CONNECT ends the parse (nothing after it is read): not repeatable on one connection
REPEATABLE = [pytest.param(d, e, id=i) for i, d, e in GOOD if e[0][1] != "CONNECT"]


@pytest.mark.parametrize("feed", FEEDERS)
@pytest.mark.parametrize(("data", "expected"), REPEATABLE)
def test_a_request_repeated_on_one_connection_parses_the_same_each_time(
    feed: Any, data: bytes, expected: list[Any]
) -> None:
    # A keep-alive client repeats its request byte for byte: the parser then reuses the
    # last head's parse; every event must be what a fresh parse gives.
    events = feed(data * 3)
    assert summarize(events) == expected * 3
    heads = [ev.headers for ev in events if isinstance(ev, Request)]
    assert len({id(h) for h in heads}) == 3  # each request has headers of its own


def test_headers_changed_by_one_request_do_not_show_in_the_next_identical_one() -> None:
    p = RequestParser()
    head = b"GET / HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n"
    for _ in range(3):
        p.receive_data(head)
        (request,) = _events(p)
        assert list(request.headers.get_all()) == [("Host", "t"), ("Accept", "*/*")]
        request.headers["Accept"] = "changed"
        request.headers.add("X-New", "1")


def test_a_head_differing_from_the_last_by_one_byte_is_parsed_anew() -> None:
    p = RequestParser()
    p.receive_data(b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
    p.receive_data(b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd")
    p.receive_data(b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\n\r\n" + b"x" * 40)
    assert [e for e in summarize(_events(p)) if e[0] == "body"] == [
        ("body", b"abc"),
        ("body", b"abcd"),
        ("body", b"x" * 40),
    ]
    with pytest.raises(RemoteProtocolError):
        p.receive_data(b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 4x\r\n\r\n")
        _events(p)


BAD = [
    ("garbage", b"HELLO WORLD\r\n\r\n", 400),
    ("target not a path", b"GET foo HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("asterisk for GET", b"GET * HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("scheme without //", b"GET http:foo HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("tls hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400),
    ("http/2.0", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
    ("no colon", b"GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: t\r\nA: b\r\n c\r\n\r\n", 400),
    ("bare cr", b"GET / HTTP/1.1\r\nHost: t\r\nA: b\rc\r\n\r\n", 400),
    ("nul", b"GET / HTTP/1.1\r\nHost: t\r\nA: \x00\r\n\r\n", 400),
    ("no host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
    ("host comma", b"GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400),
    (
        "cl and te",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
    ),
    ("te not chunked", b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    ("cl plus", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +1\r\n\r\n", 400),
    ("cl list", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\n", 400),
    ("cl unicode digit", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: \xb2\r\n\r\n", 400),
    (
        "two equal cl",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi",
        400,
    ),
    (
        "cl differ",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        400,
    ),
    (
        "chunk not hex",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
        400,
    ),
    (
        "chunk no crlf",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX",
        400,
    ),
    (
        "chunk overflow",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 17 + b"\r\n",
        400,
    ),
    (
        "bad trailer",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n",
        400,
    ),
    ("line too long", b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    ("head too large", b"GET / HTTP/1.1\r\nHost: t\r\nA: " + b"a" * 600 + b"\r\n\r\n", 431),
    (
        "chunked over max body",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfff\r\n",
        413,
    ),
]

SMALL = HTTPLimits(max_request_line_size=100, max_header_size=500, max_body_size=1000)


@pytest.mark.parametrize("feed", FEEDERS)
@pytest.mark.parametrize(("data", "status"), [pytest.param(d, s, id=i) for i, d, s in BAD])
def test_invalid_request_raises_remote_protocol_error_with_its_status(
    feed: Any, data: bytes, status: int
) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        feed(data, SMALL)
    assert info.value.status_hint == status


def test_parser_stays_broken_after_an_error() -> None:
    p = RequestParser()
    p.receive_data(b"BAD\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        p.next_event()
    p.receive_data(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        p.next_event()


def test_pipelined_requests_wait_in_the_buffer_until_pulled() -> None:
    p = RequestParser()
    p.receive_data(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n")
    first = p.next_event()
    assert isinstance(first, Request) and first.target == "/1"
    assert p.buffered > 0
    second = p.next_event()
    assert isinstance(second, Request) and second.target == "/2"
    assert p.next_event() is NEED_DATA and p.buffered == 0


def test_max_body_size_can_be_raised_per_request() -> None:
    p = RequestParser(HTTPLimits(max_body_size=10))
    p.receive_data(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert isinstance(p.next_event(), Request)
    p.max_body_size = 100
    p.receive_data(b"14\r\n" + b"x" * 20 + b"\r\n0\r\n\r\n")
    assert summarize(_events(p)) == [("body", b"x" * 20), ("end", None)]


@pytest.mark.parametrize("how", ["whole", "bytewise", "trailing"])
@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 23\r\n\r\n" + b"x" * 23,
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"d\r\n" + b"x" * 13 + b"\r\na\r\n" + b"x" * 10 + b"\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
def test_max_data_caps_each_data_event_and_resets_with_the_next_request(
    how: str, request_bytes: bytes
) -> None:
    p = RequestParser()
    tail = b"POST /next HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n" + b"y" * 9
    data = request_bytes + (tail if how == "trailing" else b"")
    pieces = [data] if how != "bytewise" else [data[i : i + 1] for i in range(len(data))]
    events: list[Any] = []
    for piece in pieces:
        p.receive_data(piece)
        while (ev := p.next_event()) is not NEED_DATA:
            events.append(ev)
            if isinstance(ev, Request) and ev.target == "/":
                p.max_data = 4
    first = [
        e for e in events[: events.index(next(e for e in events if isinstance(e, EndOfMessage)))]
    ]
    sizes = [len(e.data) for e in first if isinstance(e, Data)]
    assert sum(sizes) == 23 and max(sizes) <= 4
    if how == "whole":
        assert sizes in ([4, 4, 4, 4, 4, 3], [4, 4, 4, 1, 4, 4, 2])  # cut within each chunk
    if how == "trailing":
        second = [e for e in events if isinstance(e, Data)][len(sizes) :]
        assert [len(e.data) for e in second] == [9]  # the next request is not capped


def test_request_line_over_limit_is_refused_before_the_line_ends() -> None:
    p = RequestParser(HTTPLimits(max_request_line_size=50))
    for _ in range(60):
        p.receive_data(b"G")
        try:
            p.next_event()
        except RemoteProtocolError as exc:
            assert exc.status_hint == 414
            return
    raise AssertionError("no 414")


def test_body_pieces_are_passed_through_without_joining() -> None:
    p = RequestParser()
    p.receive_data(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 30\r\n\r\n")
    assert isinstance(p.next_event(), Request)
    piece = b"x" * 10
    p.receive_data(piece)
    ev = p.next_event()
    assert isinstance(ev, Data) and ev.data is piece  # no copy of a whole piece


# -- property tests ------------------------------------------------------------------------

_token = st.text(
    alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    min_size=1,
    max_size=12,
)
_value = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
_path = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~/%=&", max_size=30)
_reserved = {"host", "content-length", "transfer-encoding", "connection", "expect"}


@st.composite
def valid_requests(draw: Any) -> tuple[bytes, dict[str, Any]]:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "X-M"]))
    target = "/" + draw(_path)
    headers = [
        (n, v)
        for n, v in draw(st.lists(st.tuples(_token, _value), max_size=6))
        if n.lower() not in _reserved
    ]
    body = draw(st.binary(max_size=200))
    chunked = draw(st.booleans())
    head = [f"{method} {target} HTTP/1.1", "Host: example.com"]
    head += [f"{n}: {v}" for n, v in headers]
    if chunked:
        head.append("Transfer-Encoding: chunked")
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        wire = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(body)}")
        wire = body
    data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + wire
    return data, {"method": method, "target": target, "headers": headers, "body": body}


@settings(max_examples=150, deadline=None)
@given(valid_requests(), st.integers(1, 64))
def test_generated_valid_requests_round_trip(req: tuple[bytes, dict[str, Any]], step: int) -> None:
    data, want = req
    p = RequestParser()
    events: list[Any] = []
    for i in range(0, len(data), step):
        p.receive_data(data[i : i + step])
        events += _events(p)
    head = events[0]
    assert isinstance(head, Request)
    assert (head.method, head.target) == (want["method"], want["target"])
    got = [(n, v) for n, v in head.headers.get_all() if n.lower() not in _reserved]
    assert sorted((n.lower(), v.strip(" \t")) for n, v in got) == sorted(
        (n.lower(), v.strip(" \t")) for n, v in want["headers"]
    )
    body = b"".join(e.data for e in events if isinstance(e, Data))
    assert body == want["body"]
    assert head.has_body is False or isinstance(events[-1], EndOfMessage)


@settings(max_examples=300, deadline=None)
@given(valid_requests(), st.data())
def test_mutated_requests_only_ever_raise_remote_protocol_error(
    req: tuple[bytes, dict[str, Any]], data: Any
) -> None:
    raw = bytearray(req[0])
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == "insert":
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=4))
        elif raw:
            del raw[pos]
    p = RequestParser(HTTPLimits(max_body_size=1000))
    try:
        p.receive_data(bytes(raw))
        _events(p)
    except RemoteProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_remote_protocol_error(raw: bytes) -> None:
    p = RequestParser()
    try:
        p.receive_data(raw)
        _events(p)
    except RemoteProtocolError:
        pass
