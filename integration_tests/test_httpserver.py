"""httpserver: ``HTTPServer(app).listen(port)`` — what ``app.listen(port)`` abbreviates.

Statements checked: the explicit HTTPServer serves the same hello world as ``app.listen``
(相当于简写), over HTTP/1.1 keep-alive, HTTP/1.0 and HEAD, in one process.
"""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("httpserver.py") as srv:
        yield srv


def test_httpserver_serves_hello_word(server):
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert r.text == "hello word"


def test_same_answer_as_app_listen(server, launcher, raw):
    # app.listen(8000) 相当于简写: both forms give the same response (but for Date).
    with launcher.running_example("hello.py") as hello:
        a = raw.request(server.port, "GET", "/")
        b = raw.request(hello.port, "GET", "/")
    assert (a.status_line, a.body) == (b.status_line, b.body)
    skip = {"date"}
    assert sorted((k.lower(), v) for k, v in a.headers if k.lower() not in skip) == sorted(
        (k.lower(), v) for k, v in b.headers if k.lower() not in skip
    )


def test_keep_alive_serves_many_requests_on_one_connection(server):
    with httpx.Client(base_url=server.url) as client:
        responses = [client.get("/") for _ in range(10)]
    assert {r.text for r in responses} == {"hello word"}
    assert all(r.http_version == "HTTP/1.1" for r in responses)


def test_http_1_0_request_is_answered_and_closed(server, raw):
    r = raw.exchange(server.port, b"GET / HTTP/1.0\r\n\r\n")
    assert r.startswith(b"HTTP/1.")
    assert b" 200 OK\r\n" in r.split(b"\r\n", 1)[0] + b"\r\n"
    assert r.endswith(b"hello word")


def test_head_has_the_headers_and_no_body(server, raw):
    r = raw.request(server.port, "HEAD", "/")
    assert r.status == 200
    assert r.header("Content-Length") == str(len("hello word"))
    assert r.body == b""


def test_server_runs_in_one_process(server, procs):
    assert procs.children(server.pid) == []
