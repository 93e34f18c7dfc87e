"""接口调用顺序: the order in which a handler's methods run, without and with an error.

Statements checked: without an error — set_default_headers, initialize, prepare, the HTTP
method, on_finish; with an error (post calls ``send_error(200)``) — set_default_headers,
initialize, prepare, post, set_default_headers, write_error, on_finish; prepare runs
whatever the HTTP method (不论以何种HTTP方式请求); on_finish runs after the response.
"""

from __future__ import annotations

import time

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("call_order.py") as srv:
        yield srv


def _calls(srv, mark) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        out = srv.stdout_since(mark)
        if "调用了on_finish()" in out:
            return [line for line in out.splitlines() if line.startswith("调用了")]
        time.sleep(0.02)
    raise AssertionError(srv.describe("on_finish() never printed"))


def test_order_without_error(server):
    mark = server.mark()
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert _calls(server, mark) == [
        "调用了set_default_headers()",
        "调用了initialize()",
        "调用了prepare()",
        "调用了get()",
        "调用了on_finish()",
    ]


def test_order_with_send_error(server, raw):
    mark = server.mark()
    r = raw.request(server.port, "POST", "/", body=b"x=1")
    assert r.status_line == "HTTP/1.1 200 OK"
    assert r.body == b""  # write_error wrote nothing
    assert _calls(server, mark) == [
        "调用了set_default_headers()",
        "调用了initialize()",
        "调用了prepare()",
        "调用了post()",
        "调用了set_default_headers()",
        "调用了write_error()",
        "调用了on_finish()",
    ]


def test_prepare_runs_whatever_the_method(server, raw):
    # PUT is not defined by the handler: prepare() still runs, then the 405 is an error
    # (set_default_headers again, write_error, on_finish).
    mark = server.mark()
    r = raw.request(server.port, "PUT", "/", body=b"x=1")
    assert r.status == 405
    assert _calls(server, mark) == [
        "调用了set_default_headers()",
        "调用了initialize()",
        "调用了prepare()",
        "调用了set_default_headers()",
        "调用了write_error()",
        "调用了on_finish()",
    ]


def test_each_request_gets_a_new_handler(server):
    mark = server.mark()
    with httpx.Client(base_url=server.url) as client:
        client.get("/")
        _calls(server, mark)
        mark2 = server.mark()
        client.get("/")
        assert _calls(server, mark2)[:2] == ["调用了set_default_headers()", "调用了initialize()"]
