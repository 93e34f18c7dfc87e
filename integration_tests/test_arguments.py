"""获取请求参数: query and body arguments, the request object, uploaded files, JSON bodies.

Statements checked: ``get_query_argument`` returns the last of several values, the default
when absent, and a missing one without default is ``MissingArgumentError`` (400);
``strip`` removes surrounding blanks by default; ``get_query_arguments`` gives a list (``[]``
when absent); ``get_body_argument(s)`` read urlencoded and multipart bodies but not JSON;
``get_argument(s)`` see query and body together; values are text (str); the request
attributes (method host uri path query version headers body remote_ip files); two uploaded
images are saved byte-identical; a JSON body is parsed and written back as JSON.
"""

from __future__ import annotations

import json
import os
import re
import time

import httpx
import pytest


@pytest.fixture(scope="module")
def upload_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="module")
def server(launcher, upload_dir):
    with launcher.running_example("arguments.py", [f"--upload_dir={upload_dir}"]) as srv:
        yield srv


def _printed(srv, mark, n: int) -> list[str]:
    """The next `n` lines printed after `mark` (waits for them)."""

    def ready() -> list[str] | None:
        lines = srv.stdout_since(mark).splitlines()
        return lines if len(lines) >= n else None

    deadline = time.monotonic() + 10
    lines = ready()
    while lines is None and time.monotonic() < deadline:
        time.sleep(0.02)
        lines = ready()
    assert lines is not None, srv.describe(f"expected {n} printed lines")
    return lines[:n]


def test_query_arguments(server):
    mark = server.mark()
    r = httpx.get(server.url + "/show?a=1&b=2&b=3")
    assert r.status_code == 200
    assert _printed(server, mark, 5) == [
        "1",  # get_query_argument('a')
        "3",  # get_query_argument('b'): the last of several
        "['2', '3']",  # get_query_arguments('b'): all, as str
        "33",  # get_query_argument('c', "33"): the default
        f"127.0.0.1:{server.port}",  # request.host
    ]


def test_query_argument_strip_and_unicode(server):
    mark = server.mark()
    r = httpx.get(server.url + "/show", params={"a": "  你好  ", "b": " x ", "c": "  c "})
    assert r.status_code == 200
    assert _printed(server, mark, 4) == ["你好", "x", "['x']", "c"]


def test_missing_query_argument_is_400_naming_it(server):
    r = httpx.get(server.url + "/show?b=1")
    assert r.status_code == 400
    r2 = httpx.get(server.url + "/show?a=1")  # b missing
    assert r2.status_code == 400
    # The error page names the missing argument (MissingArgumentError).
    assert re.search(r"argument\W+a\b", r.text, re.I), r.text
    assert re.search(r"argument\W+b\b", r2.text, re.I), r2.text


def test_body_arguments_urlencoded_and_both_together(server):
    mark = server.mark()
    r = httpx.post(
        server.url + "/show?f=fromquery",
        content=b"e=5&e=6&f=frombody",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200
    assert _printed(server, mark, 4) == [
        "6",  # get_body_argument('e'): the last
        "['5', '6']",  # get_body_arguments('e')
        "frombody",  # get_argument('f'): query and body, the last wins
        "['fromquery', 'frombody']",  # get_arguments('f'): both, query first
    ]


def test_body_arguments_multipart(server):
    mark = server.mark()
    r = httpx.post(server.url + "/show", data={"e": "multi", "f": "part"}, files={"x": b"ignored"})
    assert r.status_code == 200
    assert _printed(server, mark, 4) == ["multi", "['multi']", "part", "['part']"]


def test_json_body_is_not_a_body_argument(server):
    # json或xml无法通过这两个方法获取: a JSON body gives no body arguments → 400 for 'e'.
    r = httpx.post(server.url + "/show", json={"e": "5", "f": "6"})
    assert r.status_code == 400


def test_request_attributes_are_printed(server):
    mark = server.mark()
    r = httpx.get(
        server.url + "/request?x=1&y=2", headers={"User-Agent": "squall-test/1", "X-Thing": "t"}
    )
    assert r.status_code == 200
    out = server.wait_stdout("user-agent squall-test/1", mark)
    lines = out.splitlines()
    # print(self.request): a readable repr naming the method and the uri.
    assert "GET" in lines[0] and "/request?x=1&y=2" in lines[0], lines[0]
    assert lines[1] == "GET"
    assert lines[2] == f"127.0.0.1:{server.port}"
    assert "X-Thing" in out or "x-thing" in out  # print(self.request.headers)
    assert "uri /request?x=1&y=2" in lines
    assert "path /request" in lines
    assert "query x=1&y=2" in lines
    assert "version HTTP/1.1" in lines
    assert "body b''" in lines
    assert "remote_ip 127.0.0.1" in lines


def test_two_uploaded_images_are_saved_byte_identical(server, upload_dir):
    image1 = b"\x89PNG\r\n\x1a\n" + os.urandom(3000) + b"\r\n--not-a-boundary\r\n\x00"
    image2 = b"\x89PNG\r\n\x1a\n" + os.urandom(70_000)
    mark = server.mark()
    r = httpx.post(
        server.url + "/request",
        files={
            "image1": ("2.png", image1, "image/png"),
            "image2": ("1.png", image2, "image/png"),
        },
    )
    assert r.status_code == 200
    out = server.wait_stdout("saved", mark)
    # request.files: {'image1': [HTTPFile(filename='2.png', content_type='image/png')], ...}
    assert "('2.png', 'image/png')" in out and "('1.png', 'image/png')" in out
    assert "saved 2.png 1.png" in out
    assert (upload_dir / "image1").read_bytes() == image1
    assert (upload_dir / "image2").read_bytes() == image2


def test_json_body_is_echoed_as_json(server):
    doc = {"name": "小明", "age": 24, "tags": ["a", "b"], "nested": {"x": None}}
    r = httpx.post(server.url + "/jsondate", content=json.dumps(doc).encode())
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=UTF-8"
    assert r.json() == doc
