"""Bad input over a real server and raw sockets: the bytes sent → the status expected.

Each case must be answered with its status (or a close where no answer is possible), be
logged once at warning level on ``squall.http`` with the peer address, and leave the
server serving other connections.
"""

from __future__ import annotations

import gzip
import logging
import time
from typing import Any

import pytest

H = b"Host: t"


def _get(*lines: bytes, line: bytes = b"GET / HTTP/1.1") -> bytes:
    return line + b"\r\n" + b"".join(x + b"\r\n" for x in lines) + b"\r\n"


def _post(*lines: bytes, body: bytes = b"") -> bytes:
    return b"POST / HTTP/1.1\r\nHost: t\r\n" + b"".join(x + b"\r\n" for x in lines) + b"\r\n" + body


def _multipart(parts: int, *, final: bool = True, part_header: bytes = b"") -> bytes:
    body = b"".join(
        b'--XX\r\nContent-Disposition: form-data; name="f%d"\r\n%b\r\nv\r\n' % (i, part_header)
        for i in range(parts)
    )
    if final:
        body += b"--XX--\r\n"
    return _post(
        b"Content-Type: multipart/form-data; boundary=XX",
        b"Content-Length: %d" % len(body),
        body=body,
    )


BOMB = gzip.compress(b"\0" * (2 * 1024 * 1024))

# (id, bytes sent, expected status, extra HTTPServer kwargs)
CASES: list[tuple[str, bytes, int, dict[str, Any]]] = [
    ("garbage request line", b"HELLO\r\n\r\n", 400, {}),
    ("binary noise", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, {}),
    ("request line without version", b"GET /\r\nHost: t\r\n\r\n", 400, {}),
    ("request target that is not a path", _get(H, line=b"GET foo HTTP/1.1"), 400, {}),
    ("unsupported version 2.0", _get(H, line=b"GET / HTTP/2.0"), 505, {}),
    ("unsupported version 1.2", _get(H, line=b"GET / HTTP/1.2"), 505, {}),
    ("unsupported version 0.9", _get(H, line=b"GET / HTTP/0.9"), 505, {}),
    ("header without colon", _get(H, b"NoColonHere"), 400, {}),
    ("obs-fold", _get(H, b"X-A: a", b" folded"), 400, {}),
    ("bare CR in header", _get(H, b"X-A: a\rb"), 400, {}),
    ("bare LF in header", _get(H, b"X-A: a\nb"), 400, {}),
    ("NUL in header", _get(H, b"X-A: a\x00b"), 400, {}),
    ("header name not a token", _get(H, b"X@A: b"), 400, {}),
    ("space in header name", _get(H, b"X A: b"), 400, {}),
    ("space before colon", _get(H, b"X-A : b"), 400, {}),
    ("header block over max", _get(H, b"X-A: " + b"a" * 2000), 431, {"max_header_size": 1024}),
    ("too many headers", _get(H, *[b"X-%d: 1" % i for i in range(20)]), 431, {"max_headers": 10}),
    ("request line over max", _get(H, line=b"GET /" + b"a" * 9000 + b" HTTP/1.1"), 414, {}),
    (
        "body over max_body_size",
        _post(b"Content-Length: 5000", body=b"x" * 10),
        413,
        {"max_body_size": 1000},
    ),
    (
        "chunked body over max",
        _post(b"Transfer-Encoding: chunked", body=b"800\r\n" + b"x" * 2048),
        413,
        {"max_body_size": 1000},
    ),
    (
        "CL and TE together",
        _post(b"Content-Length: 3", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
        400,
        {},
    ),
    ("TE gzip", _post(b"Transfer-Encoding: gzip", body=b"abc"), 400, {}),
    (
        "TE chunked, chunked",
        _post(b"Transfer-Encoding: chunked, chunked", body=b"0\r\n\r\n"),
        400,
        {},
    ),
    (
        "two TE headers",
        _post(b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
        400,
        {},
    ),
    ("TE gzip, chunked", _post(b"Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"), 400, {}),
    ("TE xchunked", _post(b"Transfer-Encoding: xchunked", body=b"0\r\n\r\n"), 400, {}),
    ("TE vertical tab", _post(b"Transfer-Encoding: \x0bchunked", body=b"0\r\n\r\n"), 400, {}),
    ("CL +1", _post(b"Content-Length: +1", body=b"a"), 400, {}),
    ("CL 1e3", _post(b"Content-Length: 1e3", body=b"a"), 400, {}),
    ("CL 12, 12", _post(b"Content-Length: 12, 12", body=b"a" * 12), 400, {}),
    ("CL -1", _post(b"Content-Length: -1", body=b"a"), 400, {}),
    ("CL hex", _post(b"Content-Length: 0x10", body=b"a"), 400, {}),
    ("two differing CL", _post(b"Content-Length: 3", b"Content-Length: 4", body=b"abcd"), 400, {}),
    (
        "chunk size not hex",
        _post(b"Transfer-Encoding: chunked", body=b"zz\r\nab\r\n0\r\n\r\n"),
        400,
        {},
    ),
    (
        "chunk size overflow",
        _post(b"Transfer-Encoding: chunked", body=b"1" * 40 + b"\r\n"),
        400,
        {},
    ),
    (
        "chunk ext bare CR",
        _post(b"Transfer-Encoding: chunked", body=b"3;a=\rb\r\nabc\r\n0\r\n\r\n"),
        400,
        {},
    ),
    (
        "chunk ext bare LF",
        _post(b"Transfer-Encoding: chunked", body=b"3;a\nb\r\nabc\r\n0\r\n\r\n"),
        400,
        {},
    ),
    (
        "chunk missing CRLF",
        _post(b"Transfer-Encoding: chunked", body=b"3\r\nabcX0\r\n\r\n"),
        400,
        {},
    ),
    ("HTTP/1.1 without Host", b"GET / HTTP/1.1\r\n\r\n", 400, {}),
    ("two Host headers", _get(H, b"Host: u"), 400, {}),
    ("Host with comma", _get(b"Host: a,b"), 400, {}),
    ("Host with space", _get(b"Host: a b"), 400, {}),
    (
        "too many query fields",
        _get(H, line=b"GET /?" + b"&".join(b"a%d=1" % i for i in range(1001)) + b" HTTP/1.1"),
        400,
        {"max_request_line_size": 64 * 1024},
    ),
    (
        "too many form fields",
        _post(
            b"Content-Type: application/x-www-form-urlencoded",
            b"Content-Length: %d" % len(b"&".join([b"a=1"] * 1001)),
            body=b"&".join([b"a=1"] * 1001),
        ),
        400,
        {},
    ),
    ("too many multipart parts", _multipart(30), 413, {"max_multipart_parts": 10}),
    (
        "multipart part header over max",
        _multipart(1, part_header=b"X-P: " + b"p" * 3000 + b"\r\n"),
        400,
        {"max_part_header_size": 1024},
    ),
    ("multipart missing final boundary", _multipart(2, final=False), 400, {}),
    (
        "gzip bomb with decompress_request",
        _post(b"Content-Encoding: gzip", b"Content-Length: %d" % len(BOMB), body=BOMB),
        413,
        {"decompress_request": True, "max_body_size": 64 * 1024},
    ),
]


@pytest.mark.parametrize(
    ("data", "status", "kwargs"),
    [pytest.param(d, s, k, id=i) for i, d, s, k in CASES],
)
def test_bad_input_gets_its_status_one_warning_and_the_server_survives(
    serve: Any, caplog: pytest.LogCaptureFixture, data: bytes, status: int, kwargs: dict[str, Any]
) -> None:
    st = serve(**kwargs)
    with caplog.at_level(logging.WARNING, logger="squall.http"):
        raw = st.send_raw(data)
        # the warning is logged by the server thread just before it closes: wait for it
        deadline = time.monotonic() + 2
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    assert raw.startswith(b"HTTP/1.1 %d " % status), raw[:200]
    assert b"Traceback" not in raw
    warnings = [r for r in caplog.records if r.name == "squall.http"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING
    assert "127.0.0.1" in warnings[0].getMessage()
    # the body names the problem the warning names, on one line, as plain text
    problem = warnings[0].getMessage().split("): ", 1)[1]
    head, _, body = raw.partition(b"\r\n\r\n")
    assert body.endswith(b": " + problem.encode() + b"\n"), (body, problem)
    assert body.startswith(b"%d " % status) and body.count(b"\n") == 1
    assert b"\r\nX-Content-Type-Options: nosniff\r\n" in head
    # other connections are unharmed
    assert st.first_status(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n") == 200


LINE_CASES = [
    ("request line over max", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    ("garbage", b"\x00\x01\x02garbage\r\n\r\n", 400),
    ("obs-fold", _get(H, b"X-A: a", b" folded"), 400),
    ("chunk size overflow", _post(b"Transfer-Encoding: chunked", body=b"1" * 40 + b"\r\n"), 400),
]


@pytest.mark.parametrize(("data", "status"), [pytest.param(d, s, id=i) for i, d, s in LINE_CASES])
def test_bad_input_sent_one_byte_at_a_time_gets_the_same_status(
    serve: Any, data: bytes, status: int
) -> None:
    st = serve()
    assert st.first_status(data, one_byte_at_a_time=True) == status


def test_trailers_are_consumed_and_never_parsed_as_a_new_request(serve: Any) -> None:
    st = serve()
    data = (
        _post(b"Transfer-Encoding: chunked", body=b"3\r\nabc\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n")
        + b"GET /next HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    raw = st.send_raw(data)
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    assert raw.endswith(b"GET /next 0 0 0")


def test_client_stalling_mid_headers_is_timed_out(serve: Any, caplog: Any) -> None:
    st = serve(header_timeout=0.3)
    with caplog.at_level(logging.WARNING, logger="squall.http"), st.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow")
        raw = st.read_until_close(sock)
    assert raw.startswith(b"HTTP/1.1 408 ")
    assert any("timed out" in r.getMessage() for r in caplog.records)


def test_client_trickling_headers_is_timed_out_all_the_same(serve: Any) -> None:
    st = serve(header_timeout=0.4)
    with st.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        start = time.monotonic()
        closed = False
        while time.monotonic() - start < 5:
            try:
                sock.sendall(b"X: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.05)
        assert closed


def test_client_stalling_mid_body_is_timed_out(serve: Any) -> None:
    st = serve(body_timeout=0.3)
    with st.connect() as sock:
        sock.sendall(_post(b"Content-Length: 100", body=b"abc"))
        raw = st.read_until_close(sock)
    assert raw.startswith(b"HTTP/1.1 408 ")


def test_client_disconnecting_mid_request_is_logged_once(serve: Any, caplog: Any) -> None:
    st = serve()
    with caplog.at_level(logging.WARNING, logger="squall.http"):
        with st.connect() as sock:
            sock.sendall(_post(b"Content-Length: 100", body=b"abc"))
            time.sleep(0.1)
        deadline = time.monotonic() + 2
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    msgs = [r.getMessage() for r in caplog.records if r.name == "squall.http"]
    assert len(msgs) == 1 and "disconnected" in msgs[0]
    assert st.first_status(b"GET / HTTP/1.0\r\n\r\n") == 200


def test_idle_keep_alive_connection_is_closed_after_idle_timeout(serve: Any) -> None:
    st = serve(idle_connection_timeout=0.3)
    with st.connect() as sock:
        buf = bytearray()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert st.read_response(sock, buf).status == 200
        assert st.read_until_close(sock) == b""  # closed by the server, no 408


def test_random_mutations_over_the_wire_never_cause_an_error_log(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import random

    rng = random.Random(1234)
    base = [d for _, d, _, _ in CASES if len(d) < 2000] + [
        _post(b"Transfer-Encoding: chunked", body=b"3\r\nabc\r\n0\r\nX: y\r\n\r\n"),
        _post(b"Content-Length: 3", body=b"abc"),
    ]
    st = serve(header_timeout=0.2, body_timeout=0.2, idle_connection_timeout=0.2)
    with caplog.at_level(logging.DEBUG):
        for _ in range(60):
            data = bytearray(rng.choice(base))
            for _ in range(rng.randint(1, 4)):
                pos = rng.randrange(len(data))
                op = rng.random()
                if op < 0.4:
                    data[pos] = rng.randrange(256)
                elif op < 0.7:
                    data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3)))
                else:
                    del data[pos]
            st.send_raw(bytes(data))
        time.sleep(0.1)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert st.first_status(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n") == 200
