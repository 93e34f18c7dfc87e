"""Compressed responses over real HTTP: what is compressed, how, and what is left alone."""

from __future__ import annotations

import asyncio
import os
import threading
import zlib
from typing import Any

import brotli
import httpx
import pytest
import zstandard

from squall.web import Application, RequestHandler

PAGE = "".join(f"<p>paragraph {i}: the same words again and again</p>\n" for i in range(60))
assert len(PAGE) > 2048
SMALL = "<p>short</p>"
RANDOM = os.urandom(4096)


class Page(RequestHandler):
    def get(self) -> None:
        self.write(PAGE)


class Small(RequestHandler):
    def get(self) -> None:
        self.write(SMALL)


class Medium(RequestHandler):
    def get(self) -> None:
        self.write("<p>abc</p>" * 20)  # 200 bytes: below Tornado's 1024, shrinks well


class Json(RequestHandler):
    def get(self) -> None:
        self.write({"items": [{"id": i, "name": f"item {i}"} for i in range(200)]})


class Png(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "image/png")
        self.write(PAGE)


class Noise(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write(RANDOM)


class Encoded(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Encoding", "gzip")
        self.write(zlib.compress(PAGE.encode(), 6, 31))


class Partial(RequestHandler):
    def get(self) -> None:
        self.set_status(206)
        self.set_header("Content-Range", f"bytes 0-1999/{len(PAGE)}")
        self.write(PAGE[:2000])


class WithVary(RequestHandler):
    def get(self) -> None:
        self.set_header("Vary", "Cookie")
        self.write(PAGE)


class Error(RequestHandler):
    def get(self) -> None:
        self.send_error(404)


GATE = threading.Event()
GATE2 = threading.Event()


class Stream(RequestHandler):
    async def get(self) -> None:
        self.write("first part ")
        await self.flush()
        # the client proves it decoded the first part before the rest is sent
        ok = await asyncio.get_running_loop().run_in_executor(None, GATE.wait, 10)
        self.write("second part " + ("gate" if ok else "timeout"))
        await self.flush()
        # and the second flush too (every flush() sync-flushes, not only the first)
        ok = await asyncio.get_running_loop().run_in_executor(None, GATE2.wait, 10)
        self.finish(" end" if ok else " timeout")


class StreamWithLength(RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Length", str(len(PAGE)))
        self.write(PAGE[:100])
        await self.flush()
        self.finish(PAGE[100:])


RULES: list[Any] = [
    (r"/page", Page),
    (r"/small", Small),
    (r"/medium", Medium),
    (r"/json", Json),
    (r"/png", Png),
    (r"/noise", Noise),
    (r"/encoded", Encoded),
    (r"/partial", Partial),
    (r"/vary", WithVary),
    (r"/error", Error),
    (r"/stream", Stream),
    (r"/stream-length", StreamWithLength),
]


def raw_get(url: str, accept: str | None, method: str = "GET", **headers: str) -> httpx.Response:
    """A request whose body is NOT decoded by httpx (what went over the wire)."""
    if accept is not None:
        headers["Accept-Encoding"] = accept
    with httpx.Client(timeout=10) as client:
        request = client.build_request(method, url, headers=headers)
        if accept is None:
            del request.headers["Accept-Encoding"]
        response = client.send(request, stream=True)
        response.read_raw = b"".join(response.iter_raw())  # type: ignore[attr-defined]
        response.close()
        return response


def wire(response: httpx.Response) -> bytes:
    data: bytes = response.read_raw  # type: ignore[attr-defined]
    return data


@pytest.fixture
def url(squall_live_server: Any) -> str:
    app = Application(RULES, compress_response=True)
    server_url: str = squall_live_server(app).url
    return server_url


def decode(encoding: str, data: bytes) -> bytes:
    if encoding == "gzip":
        return zlib.decompress(data, 31)
    if encoding == "br":
        return bytes(brotli.decompress(data))
    assert encoding == "zstd"
    return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(data))


# -- what gets compressed ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_a_page_is_compressed_with_the_accepted_encoding(url: str, encoding: str) -> None:
    r = raw_get(url + "/page", encoding)
    assert r.headers["Content-Encoding"] == encoding
    assert r.headers["Vary"] == "Accept-Encoding"
    assert int(r.headers["Content-Length"]) == len(wire(r)) < len(PAGE) // 4
    assert decode(encoding, wire(r)) == PAGE.encode()


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_httpx_reads_every_encoding(url: str, encoding: str) -> None:
    r = httpx.get(url + "/json", headers={"Accept-Encoding": encoding}, timeout=10)
    assert r.headers["Content-Encoding"] == encoding
    assert r.json()["items"][199] == {"id": 199, "name": "item 199"}


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("gzip, deflate, br, zstd", "zstd"),  # Chrome's: the server's preference decides
        ("gzip, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("zstd;q=0, br;q=0, gzip;q=0.1", "gzip"),
        ("*", "zstd"),
        ("*;q=0.5, zstd;q=0", "br"),
        ("x-gzip", "gzip"),
        ("GZIP", "gzip"),
    ],
)
def test_the_encoding_is_negotiated_by_q_value_then_server_preference(
    url: str, accept: str, chosen: str
) -> None:
    r = raw_get(url + "/page", accept)
    assert r.headers["Content-Encoding"] == chosen
    assert decode(chosen, wire(r)) == PAGE.encode()


@pytest.mark.parametrize(
    "accept", [None, "", "identity", "gzip;q=0", "deflate", "gzip;q=0.5, identity"]
)
def test_no_acceptable_encoding_sends_the_page_as_is(url: str, accept: str | None) -> None:
    r = raw_get(url + "/page", accept)
    assert "Content-Encoding" not in r.headers
    assert r.headers["Vary"] == "Accept-Encoding"
    assert wire(r) == PAGE.encode()


@pytest.mark.parametrize(
    "path", ["/small", "/medium", "/png", "/noise", "/encoded", "/partial", "/error"]
)
def test_what_is_left_alone_still_varies_on_accept_encoding(url: str, path: str) -> None:
    direct = raw_get(url + path, None)
    r = raw_get(url + path, "gzip, br, zstd")
    assert r.headers["Vary"] == "Accept-Encoding"
    assert r.headers.get("Content-Encoding") == direct.headers.get("Content-Encoding")
    assert wire(r) == wire(direct)  # byte for byte what an identity client gets
    assert r.status_code == direct.status_code


def test_head_is_left_alone(url: str) -> None:
    r = raw_get(url + "/page", "gzip", method="HEAD")
    assert "Content-Encoding" not in r.headers
    assert r.headers["Content-Length"] == str(len(PAGE))
    assert r.headers["Vary"] == "Accept-Encoding"


def test_an_existing_vary_gets_accept_encoding_appended(url: str) -> None:
    r = raw_get(url + "/vary", "gzip")
    assert r.headers["Vary"] == "Cookie, Accept-Encoding"
    assert r.headers["Content-Encoding"] == "gzip"


def test_the_etag_is_weak_and_still_answers_if_none_match(url: str) -> None:
    plain = raw_get(url + "/page", None)
    r = raw_get(url + "/page", "gzip")
    strong = plain.headers["Etag"]
    assert not strong.startswith("W/")
    assert r.headers["Etag"] == "W/" + strong
    again = raw_get(url + "/page", "gzip", **{"If-None-Match": r.headers["Etag"]})
    assert again.status_code == 304
    assert "Content-Encoding" not in again.headers
    assert again.headers["Vary"] == "Accept-Encoding"
    assert wire(again) == b""


def test_a_not_modified_answer_carries_the_etag_its_200_carried(url: str) -> None:
    # RFC 9110 15.4.5: a 304 sends the ETag a 200 would have sent, so a cache that stored
    # the compressed page (weak tag) and one that stored it as is (strong tag) each get
    # back the tag they hold.
    compressed = raw_get(url + "/page", "gzip").headers["Etag"]
    plain = raw_get(url + "/page", None).headers["Etag"]
    assert compressed == "W/" + plain
    for accept, held in (("gzip", compressed), (None, plain)):
        again = raw_get(url + "/page", accept, **{"If-None-Match": held})
        assert again.status_code == 304
        assert again.headers["Etag"] == held


# -- streamed responses --------------------------------------------------------------------


def incremental_decoder(encoding: str) -> Any:
    """A function decoding the next piece of a stream, as a client does on arrival."""
    if encoding == "gzip":
        return zlib.decompressobj(31).decompress
    if encoding == "br":
        return brotli.Decompressor().process
    return zstandard.ZstdDecompressor().decompressobj().decompress


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_a_streamed_response_is_compressed_from_its_first_flush_and_each_flush_arrives(
    url: str, encoding: str
) -> None:
    GATE.clear()
    GATE2.clear()
    decode_more = incremental_decoder(encoding)
    seen = b""
    with httpx.Client(timeout=10) as client:
        headers = {"Accept-Encoding": encoding}
        request = client.build_request("GET", url + "/stream", headers=headers)
        response = client.send(request, stream=True)
        try:
            assert response.headers["Content-Encoding"] == encoding
            assert "Content-Length" not in response.headers
            assert response.headers["Vary"] == "Accept-Encoding"
            for raw in response.iter_raw():
                seen += bytes(decode_more(raw))
                # only a decodable flush opens its gate: the server waits for each
                if seen == b"first part ":
                    GATE.set()
                if seen == b"first part second part gate":
                    GATE2.set()
        finally:
            response.close()
            GATE.set()
            GATE2.set()
    assert seen == b"first part second part gate end"


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_a_streamed_response_in_br_and_zstd_decodes(url: str, encoding: str) -> None:
    GATE.set()
    GATE2.set()
    r = httpx.get(url + "/stream", headers={"Accept-Encoding": encoding}, timeout=10)
    assert r.headers["Content-Encoding"] == encoding
    assert r.text == "first part second part gate end"


def test_a_streamed_response_with_a_content_length_is_left_alone(url: str) -> None:
    r = raw_get(url + "/stream-length", "gzip")
    assert "Content-Encoding" not in r.headers
    assert wire(r) == PAGE.encode()


# -- settings ------------------------------------------------------------------------------


def test_tornados_old_gzip_setting_turns_it_on(squall_live_server: Any) -> None:
    server = squall_live_server(Application(RULES, gzip=True))
    r = raw_get(server.url + "/page", "gzip")
    assert r.headers["Content-Encoding"] == "gzip"


def test_compression_off_sends_no_vary_and_adds_no_transform(squall_live_server: Any) -> None:
    app = Application(RULES)
    assert app._transforms == ()
    r = raw_get(squall_live_server(app).url + "/page", "gzip")
    assert "Content-Encoding" not in r.headers
    assert "Vary" not in r.headers


def test_levels_and_preference_order_are_settings(squall_live_server: Any) -> None:
    app = Application(
        RULES,
        compress_response=True,
        compress_encodings=["gzip", "br"],
        compress_levels={"gzip": 1, "br": 11},
    )
    url = squall_live_server(app).url
    r = raw_get(url + "/page", "gzip, br, zstd")
    assert r.headers["Content-Encoding"] == "gzip"  # zstd not offered, gzip preferred
    assert wire(r) == zlib.compress(PAGE.encode(), 1, 31)
    r = raw_get(url + "/page", "br")
    assert wire(r) == brotli.compress(PAGE.encode(), quality=11)


def test_the_minimum_length_and_extra_types_are_settings(squall_live_server: Any) -> None:
    app = Application(
        RULES, compress_response=True, compress_min_length=5, compress_types=["image/png"]
    )
    url = squall_live_server(app).url
    assert raw_get(url + "/medium", "gzip").headers.get("Content-Encoding") == "gzip"
    assert raw_get(url + "/png", "gzip").headers.get("Content-Encoding") == "gzip"
    # above the minimum but larger once compressed: sent as is
    assert "Content-Encoding" not in raw_get(url + "/small", "gzip").headers
