"""Compressed responses read by real clients: httpx and a headless Chromium.

Statements checked: with ``compress_response=True`` (squall-compress) a page, a JSON body
and a page streamed in three flushes reach the client compressed (gzip, br or zstd, as the
client accepts and the server prefers) and read back exactly; a browser shows the page.
"""

from __future__ import annotations

import shutil
import subprocess
import zlib

import brotli
import httpx
import pytest
import zstandard

from squall.web import negotiate_encoding

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def dump_dom(url: str, profile: str) -> str:
    """The DOM Chromium built from ``url``, serialised (the page as the browser read it)."""
    assert CHROMIUM is not None, "chromium is needed: apt-get install -y chromium (.ci/run does)"
    done = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module", params=["zstd", "br", "gzip"])
def server(request, launcher):
    # one coding offered per server: the browser must decode each of them
    with launcher.running_example("compressed.py", ["--encodings", request.param]) as srv:
        srv.encoding = request.param
        yield srv


def test_httpx_reads_the_compressed_page_and_json(server):
    r = httpx.get(server.url + "/", headers={"Accept-Encoding": server.encoding}, timeout=10)
    assert r.headers["Content-Encoding"] == server.encoding
    assert r.headers["Vary"] == "Accept-Encoding"
    assert "end of the compressed page" in r.text
    assert int(r.headers["Content-Length"]) < len(r.content) // 4  # really compressed
    data = httpx.get(server.url + "/data", headers={"Accept-Encoding": server.encoding})
    assert data.headers["Content-Encoding"] == server.encoding
    assert data.json()["rows"][1999] == {"id": 1999, "name": "row 1999"}


def streaming_decoder(encoding):
    """``feed(bytes) -> bytes``: what a client decodes from the bytes arrived so far."""
    if encoding == "gzip":
        return zlib.decompressobj(31).decompress
    if encoding == "br":
        return brotli.Decompressor().process
    return zstandard.ZstdDecompressor().decompressobj().decompress


def test_the_stream_arrives_compressed_flush_by_flush(server):
    feed = streaming_decoder(server.encoding)
    parts = []
    headers = {"Accept-Encoding": server.encoding}
    with httpx.stream("GET", server.url + "/stream", headers=headers) as r:
        assert r.headers["Content-Encoding"] == server.encoding
        for raw in r.iter_raw():
            parts.append(bytes(feed(raw)))
    text = b"".join(parts).decode()
    assert text.endswith("<p id='three'>last part</p></body></html>")
    # whatever a read brought (one flush, or several if the client was slow), it decodes
    # whole: the text so far always ends at the end of a flushed part
    decoded = ""
    for part in parts:
        decoded += part.decode()
        if part:
            assert decoded.endswith(("</p>", "</html>")), decoded


def test_chromium_reads_the_compressed_page(server, tmp_path):
    mark = server.mark()
    dom = dump_dom(server.url + "/", str(tmp_path / "profile"))
    assert "compressed page</h1>" in dom
    assert "<td>row 399 of the compressed page</td>" in dom
    assert "end of the compressed page" in dom
    # what Chromium asked for selects the coding under test
    line = server.wait_stdout("accept-encoding / ", mark)
    accept = line.split("accept-encoding / ", 1)[1].splitlines()[0]
    assert negotiate_encoding(accept, (server.encoding,)) == server.encoding


def test_chromium_reads_the_streamed_page(server, tmp_path):
    dom = dump_dom(server.url + "/stream", str(tmp_path / "profile"))
    for text in ("first part", "second part", "last part"):
        assert text in dom
