"""Status, headers and cookies of responses."""

from __future__ import annotations

import datetime
import socket
from typing import Any

import httpx
import pytest

from squall.web import Application, RequestHandler
from squall.web._headers import convert_header_value


def raw_head(port: int, path: str) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")


class Headers(RequestHandler):
    def get(self, kind: str) -> None:
        if kind == "set":
            self.set_header("X-One", "1")
            self.set_header("x-one", "2")
            self.set_header("X-Int", 42)
            self.set_header("X-Date", datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC))
        elif kind == "add":
            self.add_header("X-Multi", "a")
            self.add_header("X-Multi", "b")
        elif kind == "add-then-set":
            self.add_header("X-Multi", "a")
            self.add_header("X-Multi", "b")
            self.set_header("X-Multi", "c")
        elif kind == "clear":
            self.set_header("X-Gone", "1")
            self.clear_header("X-Gone")
            self.clear_header("Server")
        elif kind == "crlf":
            for value in ("a\r\nInjected: 1", "a\nb", "a\rb", "a\x00b"):
                try:
                    self.set_header("X-Bad", value)
                except ValueError:
                    self.write("refused;")
            try:
                self.add_header("X-Bad", "a\r\nb")
            except ValueError:
                self.write("refused-add;")
        elif kind == "beyond-latin1":
            for value in ("中文", 'attachment; filename="报告.pdf"'):
                try:
                    self.set_header("X-Name", value)
                except ValueError as exc:
                    self.write(f"refused: {exc};")
            try:
                self.add_header("X-Name", "😀")
            except ValueError:
                self.write("refused-add;")
            self.set_header("X-Latin", "café")
            self.set_header("X-Bytes", "中文".encode())
        elif kind == "status":
            self.write(str(self.get_status()))
            self.set_status(201)
            self.write(str(self.get_status()))
        elif kind == "bad-status":
            for code in (99, 600, 1000):
                try:
                    self.set_status(code)
                except ValueError:
                    self.write("bad;")
        elif kind == "unknown-status":
            self.set_status(444)
        elif kind == "custom-reason":
            self.set_status(222, "aaaaaa")
        elif kind == "own-reason-for-known":
            self.set_status(404, "Nope")


class Defaults(RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("X-Default", "d")
        self.set_header("Server", "Mine")

    def get(self) -> None:
        self.write("x")


class Cookies(RequestHandler):
    def get(self, kind: str) -> None:
        if kind == "set":
            self.set_cookie("a", "1")
            self.set_cookie("b", "2", httponly=True, secure=True, samesite="Lax", max_age=60)
            self.set_cookie("c", "3", expires_days=1, domain="example.com", path="/p")
        elif kind == "get":
            self.write({"a": self.get_cookie("a"), "z": self.get_cookie("z", "default")})
        elif kind == "clear":
            self.clear_cookie("a")
        elif kind == "bad":
            try:
                self.set_cookie("a", "x;y z")
            except ValueError:
                self.write("refused")


@pytest.fixture
def app() -> Application:
    return Application(
        [(r"/h/(.+)", Headers), (r"/defaults", Defaults), (r"/cookie/(.+)", Cookies)]
    )


def test_default_headers(squall_server: Any) -> None:
    lines = raw_head(squall_server.port, "/h/none")
    assert lines[0] == "HTTP/1.1 200 OK"
    names = [line.split(":", 1)[0] for line in lines[1:]]
    assert "Server" in names and "Date" in names and "Content-Type" in names
    assert "Content-Length" in names


def test_set_header_replaces_any_casing_and_converts(squall_client: httpx.Client) -> None:
    r = squall_client.get("/h/set")
    assert r.headers.get_list("x-one") == ["2"]
    assert r.headers["x-int"] == "42"
    assert r.headers["x-date"] == "Thu, 02 Jan 2020 03:04:05 GMT"


def test_add_header_keeps_every_value(squall_client: httpx.Client) -> None:
    assert squall_client.get("/h/add").headers.get_list("x-multi") == ["a", "b"]


def test_set_header_after_add_header_replaces_all(squall_client: httpx.Client) -> None:
    assert squall_client.get("/h/add-then-set").headers.get_list("x-multi") == ["c"]


def test_clear_header_removes_it(squall_client: httpx.Client) -> None:
    r = squall_client.get("/h/clear")
    assert "x-gone" not in r.headers
    assert "server" not in r.headers


def test_header_values_with_cr_lf_nul_are_refused(squall_client: httpx.Client) -> None:
    r = squall_client.get("/h/crlf")
    assert r.text == "refused;" * 4 + "refused-add;"
    assert "injected" not in r.headers
    assert "x-bad" not in r.headers


def test_header_values_beyond_latin1_are_refused_where_set(squall_client: httpx.Client) -> None:
    # As Tornado: a ValueError at set_header, not a 500 when the response is sent.
    r = squall_client.get("/h/beyond-latin1")
    assert r.status_code == 200
    assert r.text.count("refused: ") == 2 and r.text.endswith("refused-add;")
    assert "is not ISO-8859-1: encode it first" in r.text
    assert "x-name" not in r.headers
    assert r.headers["x-latin"].encode("latin-1") == "café".encode("latin-1")
    assert r.headers["x-bytes"].encode("latin-1") == "中文".encode()  # bytes go as they are


@pytest.mark.parametrize(
    ("char", "refused"),
    [
        ("\x00", "control"),
        ("\x08", "control"),
        ("\t", None),
        ("\n", "control"),
        ("\x1f", "control"),
        (" ", None),
        ("~", None),
        ("\x7f", "control"),
        ("\x80", None),
        ("\xff", None),
        ("\u0100", "latin"),
        ("\ud800", "latin"),
        ("\U0010ffff", "latin"),
    ],
)
def test_header_value_characters_at_each_boundary(char: str, refused: str | None) -> None:
    value = f"a{char}b"
    if refused is None:
        assert convert_header_value(value) == value
    else:
        message = "control characters" if refused == "control" else "is not ISO-8859-1"
        with pytest.raises(ValueError, match=message):
            convert_header_value(value)


def test_get_status_and_set_status(squall_client: httpx.Client) -> None:
    r = squall_client.get("/h/status")
    assert (r.status_code, r.text) == (201, "200201")


def test_status_outside_100_599_is_a_value_error(squall_client: httpx.Client) -> None:
    assert squall_client.get("/h/bad-status").text == "bad;bad;bad;"


def test_unknown_status_without_reason_is_unknown(squall_server: Any) -> None:
    assert raw_head(squall_server.port, "/h/unknown-status")[0] == "HTTP/1.1 444 Unknown"


def test_given_reason_is_sent_as_is(squall_server: Any) -> None:
    assert raw_head(squall_server.port, "/h/custom-reason")[0] == "HTTP/1.1 222 aaaaaa"
    assert raw_head(squall_server.port, "/h/own-reason-for-known")[0] == "HTTP/1.1 404 Nope"


def test_set_default_headers_can_override_web_defaults(squall_client: httpx.Client) -> None:
    r = squall_client.get("/defaults")
    assert r.headers["x-default"] == "d"
    assert r.headers.get_list("server") == ["Mine"]


def test_set_cookie_writes_one_header_per_cookie(squall_client: httpx.Client) -> None:
    r = squall_client.get("/cookie/set")
    cookies = r.headers.get_list("set-cookie")
    assert len(cookies) == 3
    assert cookies[0] == "a=1; Path=/"
    b = cookies[1]
    assert b.startswith("b=2") and "HttpOnly" in b and "Secure" in b
    assert "SameSite=Lax" in b and "Max-Age=60" in b
    c = cookies[2]
    assert "Domain=example.com" in c and "Path=/p" in c and "expires=" in c.lower()


def test_get_cookie_reads_the_request(squall_client: httpx.Client) -> None:
    r = squall_client.get("/cookie/get", headers={"Cookie": "a=hello; b=2"})
    assert r.json() == {"a": "hello", "z": "default"}


def test_clear_cookie_expires_it(squall_client: httpx.Client) -> None:
    header = squall_client.get("/cookie/clear").headers["set-cookie"]
    assert header.startswith('a=""') and "Max-Age=0" in header


def test_bad_cookie_value_is_refused(squall_client: httpx.Client) -> None:
    assert squall_client.get("/cookie/bad").text == "refused"


class Unencodable(RequestHandler):
    def get(self) -> None:
        self.set_header("X-Mark", "Café ✓")  # ✓ is not ISO-8859-1: http refuses the header


def test_a_header_http_cannot_encode_becomes_a_500(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/", Unencodable)]))
    r = httpx.get(server.url + "/")
    assert r.status_code == 500


class NonLatin1Reasons(RequestHandler):
    def get(self, kind: str) -> None:
        if kind == "status":
            self.set_status(222, "成功 ✓")
            self.write("body")
        elif kind == "missing":
            self.get_argument("名字")
        else:
            self.send_error(444, reason="错误")


def raw_response(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_a_non_latin1_reason_is_sent_as_utf8_not_a_500(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/(\w+)", NonLatin1Reasons)]))
    status = raw_response(server.port, "/status")
    assert status.startswith("HTTP/1.1 222 成功 ✓\r\n".encode())
    assert status.endswith(b"\r\n\r\nbody")
    sent = raw_response(server.port, "/send")
    assert sent.startswith("HTTP/1.1 444 错误\r\n".encode())
    assert "<title>444: 错误</title>".encode() in sent


def test_missing_argument_with_a_chinese_name_is_a_400_naming_it(
    squall_live_server: Any,
) -> None:
    server = squall_live_server(Application([(r"/(\w+)", NonLatin1Reasons)]))
    r = httpx.get(server.url + "/missing")
    assert r.status_code == 400
    assert "Missing argument 名字" in r.text


class BadNames(RequestHandler):
    def get(self) -> None:
        for name in ("X Bad", "X:Bad", "", "X\r\nY"):
            try:
                self.set_header(name, "v")
            except ValueError:
                self.write("refused;")


def test_header_names_that_are_not_tokens_are_refused(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/", BadNames)]))
    assert httpx.get(server.url + "/").text == "refused;" * 4


@pytest.mark.parametrize("value", ["foo\r\nX-Bar: baz", "a\x00b", "a\x7fb", "a\x1bb", "中文"])
def test_unsafe_header_value_message_reads_as_tornados(value: str) -> None:
    # Handlers ported from Tornado tell a refused value from other ValueErrors by this text.
    with pytest.raises(ValueError, match="^Unsafe header value "):
        convert_header_value(value)
