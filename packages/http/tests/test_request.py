"""HTTPServerRequest built directly (as tests of the web layer do)."""

from __future__ import annotations

import tempfile

from squall.http import HTTPHeaders, HTTPServerRequest, split_host_and_port


def test_constructor_defaults_and_derived_attributes() -> None:
    r = HTTPServerRequest(
        method="POST", uri="/a/b?x=1&y=2&x=3", version="HTTP/1.1",
        headers=HTTPHeaders({"Host": "Example.org:81", "Cookie": "a=1; b=2"}), body=b"data",
    )  # fmt: skip
    assert (r.path, r.query, r.host, r.host_name) == ("/a/b", "x=1&y=2&x=3", "Example.org:81",
                                                      "example.org")  # fmt: skip
    assert r.query_arguments == {"x": [b"1", b"3"], "y": [b"2"]}
    assert r.arguments == r.query_arguments and r.body == b"data"
    assert r.cookies["b"].value == "2"
    assert r.full_url() == "http://Example.org:81/a/b?x=1&y=2&x=3"
    assert r.files == {} and r.body_arguments == {}
    assert "POST" in repr(r) and "/a/b?x=1&y=2&x=3" in repr(r) and "remote_ip" in repr(r)


def test_body_arguments_are_merged_after_query_arguments() -> None:
    r = HTTPServerRequest(uri="/?a=1")
    r.body_arguments = {"a": [b"2"], "b": [b"3"]}
    assert r.arguments == {"a": [b"1", b"2"], "b": [b"3"]}


def test_spooled_body_is_read_lazily_from_its_file() -> None:
    r = HTTPServerRequest(method="PUT")
    with tempfile.TemporaryFile() as f:
        f.write(b"x" * 1000)
        f.seek(0)
        r._set_spooled_body(f, None)
        assert r.body_file is f
        assert r.body == b"x" * 1000
        assert f.tell() == 0


def test_request_time_stops_when_finished() -> None:
    r = HTTPServerRequest()
    r._mark_finished()
    assert r.request_time() == r.request_time() >= 0


def test_split_host_and_port() -> None:
    assert split_host_and_port("a.b:80") == ("a.b", 80)
    assert split_host_and_port("a.b") == ("a.b", None)
    assert split_host_and_port("[::1]:8080") == ("::1", 8080)
    assert split_host_and_port("[::1]") == ("::1", None)
