"""Output: write types, flush/chunked streaming, finish, redirect, ETag and 304."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from squall.web import Application, RequestHandler
from squall.web.testing import wait_until

errors: list[BaseException] = []


def raw(port: int, data: bytes, until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
            if not until_close and out.endswith(b"0\r\n\r\n"):
                return out


class Writes(RequestHandler):
    def get(self, kind: str) -> None:
        if kind == "bytes":
            self.write(b"\x00\xffraw")
        elif kind == "dict":
            self.write({"html": "</script><b>", "n": 1})
        elif kind == "str-typed":
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.write("plain")
        elif kind == "list":
            try:
                self.write([1, 2])  # type: ignore[arg-type]
            except TypeError as e:
                self.write(str(e))
        elif kind == "after-finish":
            self.finish("first")
            try:
                self.write("again")
            except RuntimeError as e:
                errors.append(e)
        elif kind == "finish-chunk":
            self.write("a")
            self.finish("b")
        elif kind == "finish-twice":
            self.finish()
            try:
                self.finish()
            except RuntimeError as e:
                errors.append(e)


class Streams(RequestHandler):
    async def get(self) -> None:
        self.write("part1,")
        await self.flush()
        await asyncio.sleep(0.01)
        self.write("part2,")
        await self.flush()
        self.finish("end")


class CountsFlushes(RequestHandler):
    # Tornado's override shape: the parameter passed on to the base flush.
    def flush(self, include_footers: bool = False) -> Awaitable[None]:
        return super().flush(include_footers)

    async def get(self, how: str) -> None:
        self.write("a,")
        await self.flush()
        if how == "footers":
            try:
                self.flush(include_footers=True)
            except ValueError as exc:
                self.write(f"refused: {exc}")
        self.finish("b")


class StreamsWithLength(RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Length", "10")
        self.write("01234")
        await self.flush()
        self.finish("56789")


class Redirects(RequestHandler):
    def get(self, kind: str) -> None:
        if kind == "permanent":
            self.redirect("/target", permanent=True)
        elif kind == "status":
            self.redirect("/target", status=307)
        elif kind == "unicode":
            self.redirect("/zoë/中文?name=Zoë")
        else:
            self.redirect("/target")


class Etagged(RequestHandler):
    def get(self) -> None:
        self.write("same body")

    def post(self) -> None:
        self.write("same body")


class OwnEtag(RequestHandler):
    def get(self) -> None:
        self.set_header("Etag", '"mine"')
        self.write("x")


class NoEtag(RequestHandler):
    def compute_etag(self) -> None:
        return None

    def get(self) -> None:
        self.write("x")


class EtagByBody(RequestHandler):
    def get(self, body: str) -> None:
        self.write(body)


class OwnEtagMethods(RequestHandler):
    """Overrides set_etag_header and check_etag_header (not compute_etag): both must run."""

    def set_etag_header(self) -> None:
        self.set_header("Etag", '"set-by-override"')

    def check_etag_header(self) -> bool:
        return self.request.headers.get("X-Pretend-Match") == "yes"

    def get(self) -> None:
        self.write("x")


class NoContent(RequestHandler):
    def delete(self) -> None:
        self.set_status(204)

    def post(self) -> None:
        self.set_status(int(self.get_argument("status")))
        self.write("a body this status cannot carry")


class DeclaresLength(RequestHandler):
    """Sets a Content-Length of its own, then writes a 5-byte body (or a matching one)."""

    def get(self, declared: str) -> None:
        self.set_header("Content-Length", declared)
        self.write("hello")


callbacks_seen: list[str] = []


class UsesFutureMethods(RequestHandler):
    """Code written for Tornado, whose flush() and finish() return Futures."""

    async def get(self) -> None:
        callbacks_seen.clear()
        loop = asyncio.get_running_loop()
        empty = self.flush()  # the headers only: nothing to wait for
        assert (empty.done(), empty.cancelled(), empty.result(), empty.exception()) == (  # type: ignore[attr-defined]
            True,
            False,
            None,
            None,
        )
        called: asyncio.Future[Any] = loop.create_future()
        empty.add_done_callback(called.set_result)  # type: ignore[attr-defined]
        assert await called is empty
        callbacks_seen.append("flush callback")
        # asyncio.wait takes only futures (it adds, then removes, a done callback)
        done, pending = await asyncio.wait([self.flush()], timeout=5)
        assert len(done) == 1 and not pending
        self.write("body")
        self.finish().add_done_callback(lambda _: callbacks_seen.append("finish callback"))  # type: ignore[attr-defined]


@pytest.fixture
def app() -> Application:
    return Application(
        [
            (r"/future-methods", UsesFutureMethods),
            (r"/write/(.+)", Writes),
            (r"/stream", Streams),
            (r"/stream-length", StreamsWithLength),
            (r"/flush-override/(.*)", CountsFlushes),
            (r"/redirect/(.*)", Redirects),
            (r"/etag", Etagged),
            (r"/own-etag", OwnEtag),
            (r"/no-etag", NoEtag),
            (r"/etag-of/(.*)", EtagByBody),
            (r"/own-etag-methods", OwnEtagMethods),
            (r"/nocontent", NoContent),
            (r"/declares-length/(.*)", DeclaresLength),
        ]
    )


def test_flush_and_finish_results_offer_the_future_methods_tornado_code_calls(
    squall_client: httpx.Client,
) -> None:
    r = squall_client.get("/future-methods")
    assert (r.status_code, r.text) == (200, "body")
    wait_until(lambda: len(callbacks_seen) == 2)
    assert callbacks_seen == ["flush callback", "finish callback"]


def test_write_bytes_as_is(squall_client: httpx.Client) -> None:
    r = squall_client.get("/write/bytes")
    assert r.content == b"\x00\xffraw"
    assert r.headers["content-type"] == "text/html; charset=UTF-8"


def test_write_dict_is_json_with_script_end_escaped(squall_client: httpx.Client) -> None:
    r = squall_client.get("/write/dict")
    assert r.headers["content-type"] == "application/json; charset=UTF-8"
    assert "<\\/script>" in r.text
    assert r.json() == {"html": "</script><b>", "n": 1}


def test_write_str_keeps_a_content_type_that_was_set(squall_client: httpx.Client) -> None:
    r = squall_client.get("/write/str-typed")
    assert r.headers["content-type"] == "text/plain; charset=UTF-8"


def test_write_list_is_a_clear_type_error(squall_client: httpx.Client) -> None:
    text = squall_client.get("/write/list").text
    assert "write() only accepts bytes, str and dict" in text
    assert "Lists are not accepted" in text


def test_write_after_finish_raises_runtime_error(squall_client: httpx.Client) -> None:
    errors.clear()
    assert squall_client.get("/write/after-finish").text == "first"
    wait_until(lambda: errors)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)


def test_finish_twice_raises_runtime_error(squall_client: httpx.Client) -> None:
    errors.clear()
    assert squall_client.get("/write/finish-twice").status_code == 200
    wait_until(lambda: errors)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)


def test_finish_with_a_chunk(squall_client: httpx.Client) -> None:
    assert squall_client.get("/write/finish-chunk").text == "ab"


def test_flush_streams_chunked(squall_server: Any) -> None:
    data = raw(squall_server.port, b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", until_close=False)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert b"Content-Length" not in head
    assert body == b"6\r\npart1,\r\n6\r\npart2,\r\n3\r\nend\r\n0\r\n\r\n"


def test_flush_streams_to_an_http10_client_until_close(squall_server: Any) -> None:
    data = raw(squall_server.port, b"GET /stream HTTP/1.0\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"chunked" not in head
    assert body == b"part1,part2,end"


def test_a_flush_override_passing_include_footers_on_works(squall_client: httpx.Client) -> None:
    r = squall_client.get("/flush-override/plain")
    assert r.status_code == 200 and r.text == "a,b"


def test_flush_with_include_footers_true_is_refused(squall_client: httpx.Client) -> None:
    r = squall_client.get("/flush-override/footers")
    assert r.text == "a,refused: flush(include_footers=True): end the response with finish()b"


def test_flush_with_content_length_is_not_chunked(squall_client: httpx.Client) -> None:
    r = squall_client.get("/stream-length")
    assert r.text == "0123456789"
    assert "transfer-encoding" not in r.headers


@pytest.mark.parametrize(("kind", "status"), [("temp", 302), ("permanent", 301), ("status", 307)])
def test_redirect(squall_client: httpx.Client, kind: str, status: int) -> None:
    r = squall_client.get(f"/redirect/{kind}")
    assert r.status_code == status
    assert r.headers["location"] == "/target"


def test_redirect_to_non_ascii_url_sends_utf8_location(squall_client: httpx.Client) -> None:
    r = squall_client.get("/redirect/unicode")
    assert r.status_code == 302
    assert r.headers.raw[[k.lower() for k, _ in r.headers.raw].index(b"location")][1] == (
        "/zoë/中文?name=Zoë".encode()
    )
    assert r.headers["location"] == "/zoë/中文?name=Zoë"


def test_etag_is_added_and_if_none_match_gives_304(squall_client: httpx.Client) -> None:
    first = squall_client.get("/etag")
    etag = first.headers["etag"]
    # The SHA-1 of the body, as Tornado's (stable across versions and processes).
    assert etag == f'"{hashlib.sha1(b"same body").hexdigest()}"'
    second = squall_client.get("/etag", headers={"If-None-Match": etag})
    assert second.status_code == 304
    assert second.content == b""
    assert "content-type" not in second.headers
    weak = squall_client.get("/etag", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    star = squall_client.get("/etag", headers={"If-None-Match": "*"})
    assert star.status_code == 304
    other = squall_client.get("/etag", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200


def test_etag_is_not_used_for_post(squall_client: httpx.Client) -> None:
    r = squall_client.post("/etag", headers={"If-None-Match": "*"})
    assert r.status_code == 200
    assert "etag" not in r.headers


def test_an_etag_set_by_the_handler_is_kept(squall_client: httpx.Client) -> None:
    assert squall_client.get("/own-etag").headers["etag"] == '"mine"'


def test_compute_etag_returning_none_sends_no_etag(squall_client: httpx.Client) -> None:
    assert "etag" not in squall_client.get("/no-etag").headers


def test_overridden_set_and_check_etag_header_are_called(squall_client: httpx.Client) -> None:
    r = squall_client.get("/own-etag-methods")
    assert r.status_code == 200
    assert r.headers["etag"] == '"set-by-override"'
    matched = squall_client.get("/own-etag-methods", headers={"X-Pretend-Match": "yes"})
    assert matched.status_code == 304


def test_each_body_gets_its_own_sha1_etag_also_when_seen_before(
    squall_client: httpx.Client,
) -> None:
    # Small bodies' ETags are remembered: asking again, and for more bodies than are kept,
    # still gives each body its own digest.
    for round_ in range(2):
        for i in range(300):
            body = f"body-{i}"
            r = squall_client.get(f"/etag-of/{body}")
            assert r.headers["etag"] == f'"{hashlib.sha1(body.encode()).hexdigest()}"', round_


def test_default_etag_of_bodies_large_small_and_in_pieces() -> None:
    from squall.web import _output

    for body in (b"", b"x", b"y" * _output._SMALL_BODY, b"z" * (_output._SMALL_BODY + 1)):
        assert _output._default_etag([body]) == f'"{hashlib.sha1(body).hexdigest()}"'
    pieces = [b"a" * 100, b"b" * 1000, b"c"]
    assert _output._default_etag(pieces) == f'"{hashlib.sha1(b"".join(pieces)).hexdigest()}"'
    for i in range(3 * _output._ETAGS_MAX):
        _output._default_etag([str(i).encode()])
    assert len(_output._etags) <= _output._ETAGS_MAX


def test_204_has_no_body_and_no_length(squall_server: Any) -> None:
    data = raw(
        squall_server.port, b"DELETE /nocontent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert b"Content-Length" not in head
    assert b"Content-Type" not in head
    assert body == b""


@pytest.mark.parametrize("status", [204, 304])
def test_a_body_written_for_a_status_without_body_is_a_500_not_dropped(
    squall_client: httpx.Client, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    response = squall_client.post(f"/nocontent?status={status}")
    assert response.status_code == 500
    assert f"Cannot send body with status code HTTP{status}" in caplog.text


def test_the_automatic_304_still_drops_the_body_it_replaces(squall_client: httpx.Client) -> None:
    etag = squall_client.get("/etag").headers["Etag"]
    response = squall_client.get("/etag", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.content == b""


@pytest.mark.parametrize("declared", ["3", "10"])
def test_a_content_length_the_body_does_not_have_is_a_500_and_the_connection_stays_in_step(
    squall_server: Any, caplog: pytest.LogCaptureFixture, declared: str
) -> None:
    data = raw(
        squall_server.port,
        f"GET /declares-length/{declared} HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /declares-length/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
    )
    first, _, rest = data.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 500 ")
    assert f"Content-Length {declared!r} given for a response body of 5 bytes" in caplog.text
    error_page, _, second = rest.partition(b"HTTP/1.1 ")
    assert b"hello" not in error_page
    # the next response on the connection is read whole, where it starts
    assert second.startswith(b"200 OK\r\n") and second.endswith(b"\r\n\r\nhello")
