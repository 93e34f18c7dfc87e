"""设置header: ``set_default_headers``, ``set_header`` overriding it, ``set_status(code, reason)``.

Statements checked: get and post both call ``set_default_headers()`` first (a1 1111 and a2
2222 on both); ``set_header`` replaces a header of the same name set there (a1 → a111, sent
once); ``set_status(222, "aaaaaa")`` sends ``HTTP/1.1 222 aaaaaa``; for standard codes the
reason phrase is filled in (301 302 400 401 403 405 500); a code with no standard phrase
gets "Unknown" when no reason is given (squall, where Tornado raises); a code outside
100-599 is refused.
"""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("headers.py") as srv:
        yield srv


def test_custom_status_and_reason_phrase_on_the_wire(server, raw):
    r = raw.request(server.port, "GET", "/")
    assert r.status_line == "HTTP/1.1 222 aaaaaa"
    assert json.loads(r.body) == {"name": "小明", "age": 24}


def test_set_header_overrides_the_default_and_is_sent_once(server, raw):
    r = raw.request(server.port, "GET", "/")
    assert r.header_list("a1") == ["a111"]
    assert r.header_list("a2") == ["2222"]
    assert r.header_list("Content-Type") == ["application/json; charset=UTF-8"]


def test_post_also_gets_the_default_headers(server, raw):
    r = raw.request(server.port, "POST", "/", body=b"x=1")
    assert r.status_line == "HTTP/1.1 200 OK"
    assert r.header_list("a1") == ["1111"]
    assert r.header_list("a2") == ["2222"]


def test_error_responses_get_the_default_headers_too(server, raw):
    # A method the handler does not define: 405, but set_default_headers still ran.
    r = raw.request(server.port, "DELETE", "/")
    assert r.status == 405
    assert r.header_list("a1") == ["1111"]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (301, "Moved Permanently"),
        (302, "Found"),
        (400, "Bad Request"),  # 请求参数错误
        (401, "Unauthorized"),  # 没授权
        (403, "Forbidden"),  # 禁止访问
        (405, "Method Not Allowed"),  # 请求方式有问题
        (500, "Internal Server Error"),  # 服务器错误
        (404, "Not Found"),
    ],
)
def test_standard_codes_get_their_reason_phrase(server, raw, code, reason):
    r = raw.request(server.port, "GET", f"/status/{code}")
    assert r.status_line == f"HTTP/1.1 {code} {reason}"
    assert r.body == f"status {code}".encode()


def test_unknown_code_without_reason_gets_unknown(server, raw):
    r = raw.request(server.port, "GET", "/status/299")
    assert r.status_line == "HTTP/1.1 299 Unknown"


def test_code_outside_range_is_refused(server, raw):
    r = raw.request(server.port, "GET", "/status/600")
    assert r.status == 500
