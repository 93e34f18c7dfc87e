"""Every web-layer snippet of the Tornado tutorial notes squall was built to run, in squall
form, over a real server.

One test per snippet or Tornado behaviour the notes show (the notes are not part of this
repository: each test's name and body say what it checks); section names follow the notes.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import httpx
import pytest

import squall.web
from squall.web import Application, RequestHandler, url
from squall.web.testing import wait_until


def raw_request(port: int, data: bytes) -> bytes:
    """Send raw bytes, read until the server closes or a full response arrives."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            joined = b"".join(chunks)
            if b"\r\n\r\n" in joined:
                head, _, body = joined.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(body) >= int(line.split(b":")[1]):
                            return joined
        return b"".join(chunks)


# -- 过程 / httpserver -------------------------------------------------------------------


class IndexHandler(RequestHandler):
    def get(self) -> None:
        self.write("hello word")


def test_guocheng_hello_word_and_405_for_undefined_method(squall_live_server: Any) -> None:
    app = squall.web.Application([(r"/", IndexHandler)])
    server = squall_live_server(app)
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert r.text == "hello word"
    assert httpx.post(server.url + "/").status_code == 405


def test_httpserver_wraps_the_application(squall_live_server: Any) -> None:
    # HTTPServer(app) is what app.listen() does; the live server uses HTTPServer(app) too.
    app = Application([(r"/", IndexHandler)])
    assert callable(app.start_request)
    server = squall_live_server(app)
    assert httpx.get(server.url + "/").text == "hello word"


# -- debug --------------------------------------------------------------------------------


def test_debug_turns_on_its_four_settings() -> None:
    app = Application([], debug=True, autoreload=False)  # autoreload off: not in a test
    assert app.settings["debug"] is True
    assert app.settings["compiled_template_cache"] is False
    assert app.settings["static_hash_cache"] is False
    assert app.settings["serve_traceback"] is True
    assert app.settings["autoreload"] is False  # an explicit setting wins


def test_each_debug_setting_can_be_set_alone() -> None:
    app = Application([], serve_traceback=True)
    assert app.settings["debug"] is False
    assert app.settings["serve_traceback"] is True
    assert app.settings["compiled_template_cache"] is True


# -- 路由映射 -----------------------------------------------------------------------------


class Show(RequestHandler):
    def initialize(self, op: str) -> None:
        self.op = op

    def get(self) -> None:
        self.write(self.op)


class Change(RequestHandler):
    def get(self) -> None:
        python_url = self.reverse_url("python_url")
        self.write("%s" % python_url)  # noqa: UP031 - as in the notes


@pytest.fixture
def routes_app() -> Application:
    return Application(
        [
            (r"/", IndexHandler),
            (r"/show", Show, {"op": "这是一个字典"}),
            url(r"/cc", Change, name="python_url"),
        ],
        debug=True,
        autoreload=False,
    )


def test_luyou_initialize_receives_the_rule_dict(squall_live_server: Any, routes_app: Any) -> None:
    server = squall_live_server(routes_app)
    r = httpx.get(server.url + "/show")
    assert r.text == "这是一个字典"
    assert r.headers["content-type"] == "text/html; charset=UTF-8"


def test_luyou_reverse_url_by_name(squall_live_server: Any, routes_app: Any) -> None:
    server = squall_live_server(routes_app)
    assert httpx.get(server.url + "/cc").text == "/cc"
    assert routes_app.reverse_url("python_url") == "/cc"


# -- 获取请求参数 ---------------------------------------------------------------------------

seen: list[Any] = []


class ArgsShow(RequestHandler):
    def get(self) -> None:
        seen.append(self.get_query_argument("a"))
        seen.append(self.get_query_argument("b"))
        seen.append(self.get_query_arguments("b"))
        seen.append(self.get_query_argument("c", "33"))
        seen.append(self.request.host)

    def post(self) -> None:
        seen.append(self.get_body_argument("e"))
        seen.append(self.get_body_arguments("e"))
        seen.append(self.get_argument("f"))
        seen.append(self.get_arguments("f"))


def test_canshu_query_arguments_last_wins_and_default(squall_live_server: Any) -> None:
    seen.clear()
    server = squall_live_server(Application([(r"/show", ArgsShow)]))
    r = httpx.get(server.url + "/show?a=1&b=2&b=3")
    assert r.status_code == 200
    assert seen == ["1", "3", ["2", "3"], "33", f"127.0.0.1:{server.port}"]


def test_canshu_body_arguments_and_both(squall_live_server: Any) -> None:
    seen.clear()
    server = squall_live_server(Application([(r"/show", ArgsShow)]))
    r = httpx.post(server.url + "/show?f=q", data={"e": ["x", " y "], "f": "b"})
    assert r.status_code == 200
    assert seen == ["y", ["x", "y"], "b", ["q", "b"]]


def test_canshu_missing_argument_is_400_naming_it(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/show", ArgsShow)]))
    r = httpx.get(server.url + "/show?b=2")
    assert r.status_code == 400
    assert "Missing argument a" in r.text


class Files(RequestHandler):
    def post(self) -> None:
        file_dic = self.request.files
        image1 = file_dic["image1"][0]
        self.write(
            {
                "filename": image1["filename"],
                "content_type": image1["content_type"],
                "size": len(image1["body"]),
                "names": sorted(file_dic),
            }
        )


class JsonDate(RequestHandler):
    def post(self) -> None:
        json_d = json.loads(self.request.body)
        self.write(json_d)


class RequestInfo(RequestHandler):
    def get(self) -> None:
        r = self.request
        self.write(
            {
                "method": r.method,
                "host": r.host,
                "uri": r.uri,
                "path": r.path,
                "query": r.query,
                "version": r.version,
                "ua": r.headers["User-Agent"],
                "remote_ip": r.remote_ip,
            }
        )


def test_canshu_request_attributes(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/info", RequestInfo)]))
    r = httpx.get(server.url + "/info?x=1", headers={"User-Agent": "notes"})
    assert r.json() == {
        "method": "GET",
        "host": f"127.0.0.1:{server.port}",
        "uri": "/info?x=1",
        "path": "/info",
        "query": "x=1",
        "version": "HTTP/1.1",
        "ua": "notes",
        "remote_ip": "127.0.0.1",
    }


def test_canshu_uploaded_files(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/show", Files)]))
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    r = httpx.post(
        server.url + "/show",
        files={"image1": ("1.png", png, "image/png"), "image2": ("2.png", b"x", "image/png")},
    )
    assert r.json() == {
        "filename": "1.png",
        "content_type": "image/png",
        "size": len(png),
        "names": ["image1", "image2"],
    }


def test_canshu_json_body_echoed_as_json(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/jsondate", JsonDate)]))
    r = httpx.post(server.url + "/jsondate", content=json.dumps({"name": "小明", "age": 24}))
    assert r.headers["content-type"] == "application/json; charset=UTF-8"
    assert r.json() == {"name": "小明", "age": 24}


# -- 正则提取url --------------------------------------------------------------------------

got: list[Any] = []


class NamedShow(RequestHandler):
    def get(self, name1: str, name2: str) -> None:
        got.append((name1, name2))


class Check(RequestHandler):
    def get(self, op1: str, op2: str) -> None:
        got.append((op1, op2))


def test_zhengze_named_and_unnamed_groups(squall_live_server: Any) -> None:
    got.clear()
    app = Application(
        [(r"/show/(?P<name1>.+)/(?P<name2>[a-z]+)", NamedShow), (r"/check/(.+)/([a-z]+)", Check)],
        debug=True,
        autoreload=False,
    )
    server = squall_live_server(app)
    assert httpx.get(server.url + "/show/%E5%B0%8F/abc").status_code == 200
    assert httpx.get(server.url + "/check/a%20b/xyz").status_code == 200
    assert httpx.get(server.url + "/check/a/XYZ").status_code == 404
    assert got == [("小", "abc"), ("a b", "xyz")]


# -- write --------------------------------------------------------------------------------


class ThreeWrites(RequestHandler):
    def get(self) -> None:
        self.write("hello itcast 1!")
        self.write("hello itcast 2!")
        self.write("hello itcast 3!")


class JsonOne(RequestHandler):
    def get(self) -> None:
        self.write(dict(name="小明", age=24))


class JsonTwo(RequestHandler):
    def get(self) -> None:
        self.write(json.dumps(dict(name="小明", age=24)))


def test_write_buffers_and_sends_once(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/", ThreeWrites)]))
    raw = raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert body == b"hello itcast 1!hello itcast 2!hello itcast 3!"
    assert b"Content-Length: 45" in head
    assert b"Transfer-Encoding" not in head


def test_write_dict_vs_json_string_content_types(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/jsonone", JsonOne), (r"/jsontwo", JsonTwo)]))
    one = httpx.get(server.url + "/jsonone")
    two = httpx.get(server.url + "/jsontwo")
    assert one.headers["content-type"] == "application/json; charset=UTF-8"
    assert two.headers["content-type"] == "text/html; charset=UTF-8"
    assert one.json() == two.json() == {"name": "小明", "age": 24}


# -- 设置header ---------------------------------------------------------------------------


class HeaderJson(RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("a1", "1111")
        self.set_header("a2", "2222")

    def get(self) -> None:
        self.write(dict(name="小明", age=24))
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("a1", "a111")
        self.set_status(222, "aaaaaa")


def test_header_set_header_overrides_defaults_and_custom_status(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/", HeaderJson)]))
    raw = raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = raw.partition(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 222 aaaaaa\r\n")
    lines = head.split("\r\n")
    assert "A1: a111" in lines
    assert "A2: 2222" in lines
    assert sum(1 for line in lines if line.lower().startswith("a1:")) == 1
    r = httpx.get(server.url + "/")
    assert r.status_code == 222
    assert r.json()["age"] == 24


# -- 重定向 -------------------------------------------------------------------------------


class ChongDingXiang(RequestHandler):
    def get(self) -> None:
        self.redirect("/")


def test_redirect_to_root(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/", IndexHandler), (r"/old", ChongDingXiang)]))
    r = httpx.get(server.url + "/old")
    assert r.status_code == 302
    assert r.headers["location"] == "/"
    followed = httpx.get(server.url + "/old", follow_redirects=True)
    assert followed.text == "hello word"


# -- 抛出异常 -----------------------------------------------------------------------------

printed: list[str] = []


class ErrorShow(RequestHandler):
    def get(self) -> None:
        self.write("1")
        self.write("2")
        error_dic = dict(error_title="ccc", error_content="eee")
        self.send_error(444, **error_dic)
        printed.append("3")
        self.write("4")

    def write_error(self, status: int, **kargs: Any) -> None:
        self.write(kargs.get("error_title"))  # type: ignore[arg-type]
        self.write(kargs.get("error_content"))  # type: ignore[arg-type]


def test_send_error_444_then_write_raises_and_is_logged(
    squall_live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    printed.clear()
    server = squall_live_server(Application([(r"/show", ErrorShow)], debug=True, autoreload=False))
    with caplog.at_level(logging.ERROR, logger="squall.application"):
        raw = raw_request(server.port, b"GET /show HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: any(r.name == "squall.application" for r in caplog.records))
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 444 Unknown\r\n")
    assert body == b"ccceee"
    assert printed == ["3"]
    errors = [r for r in caplog.records if r.name == "squall.application"]
    assert errors[0].exc_info is not None
    assert errors[0].exc_info[0] is RuntimeError


# -- 接口调用顺序 ---------------------------------------------------------------------------

order: list[str] = []


class OrderHandler(RequestHandler):
    def initialize(self) -> None:
        order.append("initialize")

    def prepare(self) -> None:
        order.append("prepare")

    def set_default_headers(self) -> None:
        order.append("set_default_headers")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        order.append("write_error")

    def get(self) -> None:
        order.append("get")

    def post(self) -> None:
        order.append("post")
        self.send_error(200)

    def on_finish(self) -> None:
        order.append("on_finish")


def test_call_order_without_error(squall_live_server: Any) -> None:
    order.clear()
    server = squall_live_server(Application([(r"/", OrderHandler)]))
    assert httpx.get(server.url + "/").status_code == 200
    wait_until(lambda: "on_finish" in order)
    assert order == ["set_default_headers", "initialize", "prepare", "get", "on_finish"]


def test_call_order_with_error(squall_live_server: Any) -> None:
    order.clear()
    server = squall_live_server(Application([(r"/", OrderHandler)]))
    assert httpx.post(server.url + "/").status_code == 200
    wait_until(lambda: "on_finish" in order)
    assert order == [
        "set_default_headers",
        "initialize",
        "prepare",
        "post",
        "set_default_headers",
        "write_error",
        "on_finish",
    ]
