"""write: buffered output, and what ``write`` does with a dict versus a JSON string.

Statements checked: several ``write`` calls are buffered and sent together at the end
(one response with a Content-Length, no chunks); ``write(dict)`` sends JSON with
``Content-Type: application/json; charset=UTF-8``; ``write(json.dumps(dict))`` sends the
same text as ``text/html; charset=UTF-8``; the example serves through ``bind`` + ``start()``.
"""

from __future__ import annotations

import json

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("write.py") as srv:
        yield srv


def test_writes_are_buffered_into_one_response(server, raw):
    r = raw.request(server.port, "GET", "/")
    expected = b"hello itcast 1!hello itcast 2!hello itcast 3!"
    assert r.status == 200
    assert r.body == expected
    assert r.header("Content-Length") == str(len(expected))
    assert r.header("Transfer-Encoding") is None


def test_write_dict_sends_json(server):
    r = httpx.get(server.url + "/jsonone")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=UTF-8"
    assert r.json() == {"name": "小明", "age": 24}


def test_write_json_string_is_text_html(server):
    r = httpx.get(server.url + "/jsontwo")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=UTF-8"
    assert r.text == json.dumps({"name": "小明", "age": 24})
    assert json.loads(r.text) == {"name": "小明", "age": 24}


def test_bind_and_start_serve_from_one_process(server, procs):
    # http_server.start() with no argument: num_processes=1, no fork.
    assert procs.children(server.pid) == []
