"""Precompressed siblings (app.js.br / .zst / .gz): negotiated, fresh, with their own ETag and
ranges, Vary on every representation; a file without siblings answers exactly as before."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from squall.static import StaticFileHandler
from squall.static import _handler as handler_module
from squall.web import Application

Serve = Callable[..., str]

JS = b"function hello() { return 'hello'; }\n" * 200
GZ = gzip.compress(JS, mtime=0)
BR = b"not really brotli, but the server does not decode it"  # only relayed
ZST = b"not really zstd either"


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    root = tmp_path / "assets"
    root.mkdir()
    (root / "app.js").write_bytes(JS)
    (root / "app.js.gz").write_bytes(GZ)
    (root / "app.js.br").write_bytes(BR)
    (root / "app.js.zst").write_bytes(ZST)
    (root / "plain.css").write_bytes(b"body { color: red }\n" * 50)
    # the siblings are not older than the file; all aged past the cache's racy window
    t = os.stat(root / "app.js").st_mtime_ns - 10 * 10**9
    for name in ("app.js", "app.js.gz", "app.js.br", "app.js.zst", "plain.css"):
        os.utime(root / name, ns=(t, t))
    return root


def make_app(root: Path, handler: type[StaticFileHandler] = StaticFileHandler) -> Application:
    return Application([(r"/(.*)", handler, {"path": str(root)})])


def get(url: str, accept: str | None, method: str = "GET", **headers: str) -> httpx.Response:
    """A response whose body is what went over the wire (httpx does not decode it)."""
    with httpx.Client(timeout=10) as client:
        request = client.build_request(method, url, headers=headers)
        if accept is None:
            del request.headers["Accept-Encoding"]
        else:
            request.headers["Accept-Encoding"] = accept
        response = client.send(request, stream=True)
        body = b"".join(response.iter_raw())
        response.close()
        response._content = body
        return response


@pytest.mark.parametrize(
    ("accept", "encoding", "body"),
    [
        ("gzip", "gzip", GZ),
        ("br", "br", BR),
        ("zstd", "zstd", ZST),
        ("gzip, deflate, br, zstd", "br", BR),  # a tie: the handler's order (br first)
        ("gzip, br;q=0.5", "gzip", GZ),
        ("br;q=0, zstd;q=0.2, gzip;q=0.1", "zstd", ZST),
        ("*", "br", BR),
    ],
)
def test_the_accepted_sibling_is_sent_as_the_file_encoded(
    assets: Path, serve: Serve, accept: str, encoding: str, body: bytes
) -> None:
    url = serve(make_app(assets)) + "/app.js"
    r = get(url, accept)
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == encoding
    assert r.headers["Content-Type"] == get(url, None).headers["Content-Type"]
    assert r.headers["Vary"] == "Accept-Encoding"
    assert r.headers["Content-Length"] == str(len(body))
    assert r.content == body


@pytest.mark.parametrize("accept", [None, "identity", "deflate", "gzip;q=0, br;q=0, zstd;q=0"])
def test_without_an_accepted_sibling_the_file_itself_still_varies(
    assets: Path, serve: Serve, accept: str | None
) -> None:
    r = get(serve(make_app(assets)) + "/app.js", accept)
    assert "Content-Encoding" not in r.headers
    assert r.headers["Vary"] == "Accept-Encoding"
    assert r.content == JS


def test_httpx_decodes_the_gzip_sibling(assets: Path, serve: Serve) -> None:
    r = httpx.get(serve(make_app(assets)) + "/app.js", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.content == JS


def test_each_representation_has_its_own_etag(assets: Path, serve: Serve) -> None:
    url = serve(make_app(assets)) + "/app.js"
    identity = get(url, None).headers["Etag"]
    gz = get(url, "gzip").headers["Etag"]
    br = get(url, "br").headers["Etag"]
    assert len({identity, gz, br}) == 3
    not_modified = get(url, "gzip", **{"If-None-Match": gz})
    assert not_modified.status_code == 304
    assert not_modified.headers["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in not_modified.headers
    # the identity tag does not validate the gzip representation
    assert get(url, "gzip", **{"If-None-Match": identity}).status_code == 200
    assert get(url, None, **{"If-None-Match": identity}).status_code == 304


def test_a_range_counts_bytes_of_the_encoded_representation(assets: Path, serve: Serve) -> None:
    url = serve(make_app(assets)) + "/app.js"
    r = get(url, "gzip", Range="bytes=0-9")
    assert r.status_code == 206
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Content-Range"] == f"bytes 0-9/{len(GZ)}"
    assert r.content == GZ[:10]
    # If-Range with the gzip representation's tag keeps the range; the identity's does not
    gz_tag = get(url, "gzip").headers["Etag"]
    assert get(url, "gzip", Range="bytes=5-", **{"If-Range": gz_tag}).content == GZ[5:]
    identity_tag = get(url, None).headers["Etag"]
    whole = get(url, "gzip", Range="bytes=5-", **{"If-Range": identity_tag})
    assert whole.status_code == 200
    assert whole.content == GZ


def test_head_announces_the_encoded_length(assets: Path, serve: Serve) -> None:
    r = get(serve(make_app(assets)) + "/app.js", "gzip", method="HEAD")
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Content-Length"] == str(len(GZ))
    assert r.content == b""


def test_a_sibling_older_than_the_file_is_ignored(assets: Path, serve: Serve) -> None:
    t = os.stat(assets / "app.js").st_mtime_ns
    os.utime(assets / "app.js.gz", ns=(t - 10**9, t - 10**9))
    r = get(serve(make_app(assets)) + "/app.js", "gzip")
    assert "Content-Encoding" not in r.headers
    assert r.content == JS


def test_a_symlinked_sibling_is_ignored(assets: Path, serve: Serve, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.gz"
    outside.write_bytes(b"outside the root")
    (assets / "app.js.gz").unlink()
    (assets / "app.js.gz").symlink_to(outside)
    r = get(serve(make_app(assets)) + "/app.js", "gzip")
    assert "Content-Encoding" not in r.headers
    assert r.content == JS


def test_siblings_follow_the_disk(assets: Path, serve: Serve) -> None:
    class Quick(StaticFileHandler):
        CACHE_TTL = 0.0  # every request looks at the disk again

    url = serve(make_app(assets, Quick)) + "/app.js"
    assert get(url, "gzip").content == GZ
    # an edited sibling is served at once (it has its own freshness)
    newer = gzip.compress(JS, compresslevel=1, mtime=0)
    (assets / "app.js.gz").write_bytes(newer)
    assert get(url, "gzip").content == newer
    # a removed sibling: the file itself, still varying
    (assets / "app.js.gz").unlink()
    r = get(url, "gzip")
    assert "Content-Encoding" not in r.headers
    assert r.content == JS
    # a new sibling is found
    (assets / "plain.css.gz").write_bytes(gzip.compress(b"x"))
    assert get(url.replace("app.js", "plain.css"), "gzip").headers["Content-Encoding"] == "gzip"


def test_turned_off_siblings_are_not_served(assets: Path, serve: Serve) -> None:
    class NoSiblings(StaticFileHandler):
        PRECOMPRESSED = ()

    r = get(serve(make_app(assets, NoSiblings)) + "/app.js", "gzip, br, zstd")
    assert "Content-Encoding" not in r.headers
    assert "Vary" not in r.headers
    assert r.content == JS


def test_a_file_without_siblings_answers_as_before(assets: Path, serve: Serve) -> None:
    r = get(serve(make_app(assets)) + "/plain.css", "gzip, br")
    assert "Content-Encoding" not in r.headers
    assert "Vary" not in r.headers


def test_a_large_sibling_is_streamed_from_disk(assets: Path, serve: Serve) -> None:
    big = os.urandom(300 * 1024)  # incompressible: the .gz stays above the in-memory limit
    (assets / "big.js").write_bytes(big)
    (assets / "big.js.gz").write_bytes(gzip.compress(big, mtime=0))
    r = get(serve(make_app(assets)) + "/big.js", "gzip")
    assert r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.content) == big
    r = get(serve(make_app(assets)) + "/big.js", "gzip", Range="bytes=10-19")
    assert r.content == gzip.compress(big, mtime=0)[10:20]


def test_a_cached_hit_looks_for_no_sibling(
    assets: Path, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    class KeepEntries(StaticFileHandler):
        # Entries stay fresh for the whole test: with the default 1 s, a busy machine can
        # take longer than that between warming and checking, and a stale entry is a miss
        # that rightly scans the siblings again.
        CACHE_TTL = 3600.0

    url = serve(make_app(assets, KeepEntries))
    for path in ("/app.js", "/plain.css"):
        get(url + path, "gzip")  # warm the cache (siblings scanned on this miss)
    looked: list[str] = []
    real_lstat = os.lstat

    def counting_lstat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        looked.append(os.fspath(path))
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(handler_module.os, "lstat", counting_lstat)
    for accept in (None, "gzip"):
        assert get(url + "/plain.css", accept).status_code == 200
        assert get(url + "/app.js", accept).status_code == 200
    assert [p for p in looked if p.endswith((".gz", ".br", ".zst"))] == []
