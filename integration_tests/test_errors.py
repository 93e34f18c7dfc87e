"""抛出异常: ``send_error`` ends the response; ``write_error`` writes the error page.

Statements checked: after ``send_error`` what was written before is dropped and later
writes are not sent (write()就不执行了); ``send_error(444, **error_dic)`` passes its keyword
arguments to ``write_error``, whose output is the body (ccceee); the status line is
``444 Unknown``; the method goes on after send_error (print '3'); the default error page
(no write_error) is ``<title>404: Not Found</title>``.
"""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("errors.py") as srv:
        yield srv


def test_send_error_sends_write_error_output(server, raw):
    r = raw.request(server.port, "GET", "/show")
    assert r.status_line == "HTTP/1.1 444 Unknown"
    assert r.body == b"ccceee"  # no '1', '2' (cleared) and no '4' (after finish)


def test_the_method_goes_on_after_send_error(server, raw):
    mark = server.mark()
    raw.request(server.port, "GET", "/show")
    out = server.wait_stdout("3", mark)
    assert out.splitlines()[0] == "3"
    # self.write('4') after the response was sent is an error (logged), never sent.
    server.wait_stderr("RuntimeError", mark)


def test_keyword_form_of_send_error(server, raw):
    r = raw.request(server.port, "GET", "/show2")
    assert r.status_line == "HTTP/1.1 444 Unknown"
    assert r.body == b"aaabbbb"


def test_default_error_page(server):
    r = httpx.get(server.url + "/nowhere")
    assert r.status_code == 404
    assert "<title>404: Not Found</title>" in r.text


def test_connection_stays_usable_after_send_error(server):
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/show").status_code == 444
        assert client.get("/show2").text == "aaabbbb"
