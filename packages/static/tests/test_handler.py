"""StaticFileHandler over a real server: the notes' two forms, conditional and partial requests."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from squall.static import StaticFileHandler
from squall.static._hashing import hash_bytes
from squall.web import Application

Serve = Callable[[Application], str]
OLD_DATE = "Mon, 01 Jan 1990 00:00:00 GMT"


def _site_rule(root: Path, default: str | None = "index.html") -> list[Any]:
    return [(r"/(.*)", StaticFileHandler, {"path": str(root), "default_filename": default})]


def _get(url: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(timeout=10) as client:
        return client.get(url, **kwargs)


# ---------------------------------------------------------------- the notes' two forms


def test_static_path_serves_the_notes_url(site: Path, serve: Serve) -> None:
    # app = Application(debug=True, static_path=os.path.join(os.path.dirname(__file__), "statics"))
    url = serve(Application(debug=True, static_path=str(site)))
    r = _get(url + "/static/html/index.html")
    assert r.status_code == 200
    assert r.text == "<h1>index</h1>"
    assert r.headers["content-type"] == "text/html; charset=utf-8"


def test_favicon_and_robots_come_from_static_path(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    r = _get(url + "/favicon.ico")
    assert r.status_code == 200 and r.content == b"\x00\x00\x01\x00icon"
    assert r.headers["content-type"] == "image/x-icon"
    r = _get(url + "/robots.txt")
    assert r.status_code == 200 and r.text == "User-agent: *\n"


def test_static_url_prefix_moves_the_route(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site), static_url_prefix="/assets/"))
    assert _get(url + "/assets/css/a.css").text == "body { color: red }"
    assert _get(url + "/static/css/a.css").status_code == 404


def test_static_handler_class_and_args_are_used(site: Path, serve: Serve) -> None:
    class Marked(StaticFileHandler):
        def set_extra_headers(self, path: str) -> None:
            self.set_header("X-Static", path)

    app = Application(
        static_path=str(site),
        static_handler_class=Marked,
        static_handler_args={"default_filename": "index.html"},
    )
    url = serve(app)
    r = _get(url + "/static/html/")
    assert r.text == "<h1>index</h1>"
    assert r.headers["x-static"] == "html/"


def test_catch_all_rule_with_default_filename_as_in_the_notes(site: Path, serve: Serve) -> None:
    # Application([(r'/(.*)', StaticFileHandler, dict(path=..., default_filename='index.html'))],
    #             debug=True, static_path=...)
    app = Application(
        [
            (
                r"/(.*)",
                StaticFileHandler,
                {"path": str(site / "html"), "default_filename": "index.html"},
            )
        ],
        debug=True,
        static_path=str(site),
    )
    url = serve(app)
    assert _get(url + "/").text == "<h1>index</h1>"
    assert _get(url + "/page.html").text == "<p>page</p>"
    assert _get(url + "/sub/").text == "<h1>sub</h1>"
    # /static/... still wins over the catch-all (plugin routes come first)
    assert _get(url + "/static/css/a.css").text == "body { color: red }"


def test_directory_without_slash_redirects_to_it(site: Path, serve: Serve) -> None:
    app = Application(
        [
            (
                r"/(.*)",
                StaticFileHandler,
                {"path": str(site / "html"), "default_filename": "index.html"},
            )
        ]
    )
    url = serve(app)
    r = _get(url + "/sub")
    assert r.status_code == 301
    assert r.headers["location"] == "/sub/"
    assert _get(url + "/sub", follow_redirects=True).text == "<h1>sub</h1>"


@pytest.mark.parametrize("default", ["index.html", None])
def test_directory_without_default_file_is_refused_never_listed(
    site: Path, serve: Serve, default: str | None
) -> None:
    app = Application(
        [(r"/(.*)", StaticFileHandler, {"path": str(site), "default_filename": default})]
    )
    url = serve(app)
    for target in ("/html/empty/", "/css/"):
        r = _get(url + target)
        assert r.status_code in (403, 404)
        assert "a.css" not in r.text


# ---------------------------------------------------------------- headers


def test_etag_last_modified_and_validators(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    r = _get(url + "/static/css/a.css")
    digest = hash_bytes(b"body { color: red }")
    assert r.headers["etag"] == f'"{digest}"'
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-length"] == str(len(b"body { color: red }"))
    mtime = int(os.stat(site / "css" / "a.css").st_mtime)
    from email.utils import parsedate_to_datetime

    assert int(parsedate_to_datetime(r.headers["last-modified"]).timestamp()) == mtime


def test_unversioned_url_must_revalidate_versioned_is_immutable(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    plain = _get(url + "/static/css/a.css").headers["cache-control"]
    assert "immutable" not in plain and "max-age=31536000" not in plain
    versioned = _get(url + "/static/css/a.css?v=abc").headers["cache-control"]
    assert versioned == "max-age=31536000, immutable"


def test_headers_from_set_extra_headers_win_over_the_handlers_own(site: Path, serve: Serve) -> None:
    # Tornado runs set_extra_headers after its own headers: a subclass's Cache-Control or
    # Content-Type is what goes out (a common override: a week of caching, JSON charset).
    class Extra(StaticFileHandler):
        def set_extra_headers(self, path: str) -> None:
            self.set_header("Cache-Control", "public, max-age=604800")
            self.set_header("Content-Type", "text/css; charset=latin-1")

    url = serve(Application([(r"/f/(.*)", Extra, {"path": str(site)})]))
    for _ in range(2):  # the second answer comes from the cache: the override still wins
        r = _get(url + "/f/css/a.css")
        assert r.headers["cache-control"] == "public, max-age=604800"
        assert r.headers["content-type"] == "text/css; charset=latin-1"
    r = _get(url + "/f/css/a.css", headers={"If-None-Match": r.headers["etag"]})
    assert r.status_code == 304
    assert r.headers["cache-control"] == "public, max-age=604800"
    assert "content-type" not in r.headers


def test_an_async_get_override_may_await_the_parent_for_an_spa_fallback(
    site: Path, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    # Tornado's get() is a coroutine: single-page apps serve index.html for unknown paths
    # with `async def get(...): try: await super().get(path) except HTTPError: ...`.
    from squall.web import HTTPError

    class SinglePage(StaticFileHandler):
        async def get(self, path: str, include_body: bool = True) -> None:
            try:
                await super().get(path, include_body)
            except HTTPError as e:
                if e.status_code != 404:
                    raise
                await super().get("html/index.html", include_body)

    past = os.stat(site / "css" / "a.css").st_mtime - 3600
    for name in ("css/a.css", "html/index.html"):  # out of the racy window: cacheable
        os.utime(site / name, (past, past))
    url = serve(Application([(r"/app/(.*)", SinglePage, {"path": str(site)})]))
    for _ in range(2):  # a miss first, then the same files from the cache
        r = _get(url + "/app/css/a.css")
        assert (r.status_code, r.text) == (200, "body { color: red }")
        r = _get(url + "/app/some/client/route")
        assert (r.status_code, r.text) == (200, "<h1>index</h1>")
    with httpx.Client(timeout=10) as client:
        r = client.head(url + "/app/other/route")
    assert (r.status_code, r.headers["content-length"]) == (200, str(len("<h1>index</h1>")))
    # a cached file is answered at once: awaiting that answer must not fail afterwards
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_should_return_304_override_is_honoured(site: Path, serve: Serve) -> None:
    class AlwaysFull(StaticFileHandler):
        def should_return_304(self) -> bool:
            return False

    url = serve(Application([(r"/f/(.*)", AlwaysFull, {"path": str(site)})]))
    etag = _get(url + "/f/css/a.css").headers["etag"]
    r = _get(url + "/f/css/a.css", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.text == "body { color: red }"


def test_compute_etag_override_is_sent_and_compared(site: Path, serve: Serve) -> None:
    class NoEtag(StaticFileHandler):
        def compute_etag(self) -> str | None:
            return None

    class Fixed(StaticFileHandler):
        def compute_etag(self) -> str | None:
            return '"fixed"'

    url = serve(
        Application(
            [
                (r"/none/(.*)", NoEtag, {"path": str(site)}),
                (r"/fixed/(.*)", Fixed, {"path": str(site)}),
            ]
        )
    )
    r = _get(url + "/none/css/a.css")
    assert r.status_code == 200 and "etag" not in r.headers
    assert _get(url + "/fixed/css/a.css").headers["etag"] == '"fixed"'
    assert _get(url + "/fixed/css/a.css", headers={"If-None-Match": '"fixed"'}).status_code == 304


def test_parse_url_path_override_maps_urls_to_files(site: Path, serve: Serve) -> None:
    class Pretty(StaticFileHandler):
        def parse_url_path(self, url_path: str) -> str:
            return "css/" + url_path + ".css"

    url = serve(Application([(r"/styles/(.*)", Pretty, {"path": str(site)})]))
    for _ in range(2):  # the second answer comes from the cache: the mapping still applies
        assert _get(url + "/styles/a").text == "body { color: red }"
    assert httpx.head(url + "/styles/a", timeout=10).headers["content-length"] == "19"
    assert _get(url + "/styles/css/a.css").status_code == 404


@pytest.mark.parametrize(
    "hook", ["get_content", "get_content_size", "get_content_version", "get_modified_time"]
)
def test_overriding_a_tornado_hook_that_is_never_called_is_refused_by_name(hook: str) -> None:
    # Silently ignored, such an override would serve other content than the program means.
    with pytest.raises(TypeError, match=rf"Sub\.{hook}: squall.static.StaticFileHandler does not"):
        type("Sub", (StaticFileHandler,), {hook: lambda *a: None})


def test_cache_time_and_content_type_are_overridable(site: Path, serve: Serve) -> None:
    class Custom(StaticFileHandler):
        def get_cache_time(self, path: str, modified: Any, mime_type: str) -> int:
            return 60

        def get_content_type(self) -> str:
            return "text/x-custom"

    url = serve(Application([(r"/f/(.*)", Custom, {"path": str(site)})]))
    for _ in range(2):  # the second answer comes from the cache: overrides still apply
        r = _get(url + "/f/css/a.css")
        assert r.headers["cache-control"] == "max-age=60"
        assert r.headers["content-type"] == "text/x-custom"


def test_if_none_match_gives_304_without_body(site: Path, serve: Serve, raw: Any) -> None:
    url = serve(Application(static_path=str(site)))
    etag = _get(url + "/static/css/a.css").headers["etag"]
    for value in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        status, headers, body = raw.parse(
            raw.get(url, "/static/css/a.css", extra=f"If-None-Match: {value}\r\n")
        )
        assert status == 304, value
        assert body == b""
        assert headers["etag"] == etag
    r = _get(url + "/static/css/a.css", headers={"If-None-Match": '"other"'})
    assert r.status_code == 200


def test_if_modified_since_gives_304(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    last = _get(url + "/static/css/a.css").headers["last-modified"]
    r = _get(url + "/static/css/a.css", headers={"If-Modified-Since": last})
    assert r.status_code == 304 and r.content == b""
    r = _get(
        url + "/static/css/a.css", headers={"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}
    )
    assert r.status_code == 200
    # If-None-Match wins over If-Modified-Since when both are sent
    r = _get(url + "/static/css/a.css", headers={"If-Modified-Since": last, "If-None-Match": '"x"'})
    assert r.status_code == 200


def test_head_sends_the_same_headers_and_no_body(site: Path, serve: Serve, raw: Any) -> None:
    url = serve(Application(static_path=str(site)))
    for target in ("/static/css/a.css", "/static/big.bin"):
        g_status, g_headers, g_body = raw.parse(raw.get(url, target))
        h_status, h_headers, h_body = raw.parse(raw.get(url, target, method="HEAD"))
        assert g_status == h_status == 200
        assert h_body == b"" and len(g_body) == int(g_headers["content-length"])
        for name in ("content-type", "content-length", "etag", "last-modified", "accept-ranges"):
            assert h_headers[name] == g_headers[name], name


# ---------------------------------------------------------------- ranges


@pytest.mark.parametrize("name", ["data.bin", "big.bin"])  # in memory / from disk
@pytest.mark.parametrize(
    ("spec", "pick"),
    [
        ("bytes=0-99", lambda b: b[0:100]),
        ("bytes=-500", lambda b: b[-500:]),
        ("bytes=100-", lambda b: b[100:]),
        ("bytes=10-10", lambda b: b[10:11]),
        ("bytes=4000-99999999", lambda b: b[4000:]),
        ("bytes=0-", lambda b: b),  # the whole file, as media players ask: still 206
        ("bytes=-99999999", lambda b: b),
    ],
)
def test_range_gives_206_with_content_range(
    site: Path, serve: Serve, name: str, spec: str, pick: Callable[[bytes], bytes]
) -> None:
    url = serve(Application(static_path=str(site)))
    data = (site / name).read_bytes()
    r = _get(url + f"/static/{name}", headers={"Range": spec})
    assert r.status_code == 206
    expected = pick(data)
    assert r.content == expected
    start = len(data) - len(expected) if spec.startswith("bytes=-") else int(spec[6:].split("-")[0])
    assert r.headers["content-range"] == f"bytes {start}-{start + len(expected) - 1}/{len(data)}"
    assert r.headers["content-length"] == str(len(expected))


@pytest.mark.parametrize("spec", ["bytes=-0", "bytes=4096-", "bytes=9000-9999", "bytes=50-10"])
def test_unsatisfiable_range_is_416_with_the_size(site: Path, serve: Serve, spec: str) -> None:
    url = serve(Application(static_path=str(site)))
    r = _get(url + "/static/data.bin", headers={"Range": spec})
    assert r.status_code == 416
    assert r.headers["content-range"] == "bytes */4096"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["accept-ranges"] == "bytes"
    # The file's validators, as on its 200 (Tornado sends them on a 416 too).
    whole = _get(url + "/static/data.bin")
    assert r.headers["etag"] == whole.headers["etag"]
    assert r.headers["last-modified"] == whole.headers["last-modified"]


@pytest.mark.parametrize(
    "spec", ["bytes=0-1,5-9", "bytes=" + ",".join(["0-0"] * 5000), "bytes=x-y", "lines=1-2"]
)
def test_several_or_malformed_ranges_get_the_whole_file(
    site: Path, serve: Serve, spec: str
) -> None:
    url = serve(Application(static_path=str(site)))
    r = _get(url + "/static/data.bin", headers={"Range": spec})
    assert r.status_code == 200
    assert r.content == (site / "data.bin").read_bytes()


def test_if_range_is_honoured(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    first = _get(url + "/static/data.bin")
    etag, last = first.headers["etag"], first.headers["last-modified"]
    for validator in (etag, last):
        r = _get(url + "/static/data.bin", headers={"Range": "bytes=0-9", "If-Range": validator})
        assert r.status_code == 206 and len(r.content) == 10
    for stale in ('"old"', OLD_DATE):
        r = _get(url + "/static/data.bin", headers={"Range": "bytes=0-9", "If-Range": stale})
        assert r.status_code == 200 and len(r.content) == 4096


# ---------------------------------------------------------------- large files


def test_large_file_is_sent_whole_and_exact(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    data = (site / "big.bin").read_bytes()
    r = _get(url + "/static/big.bin")
    assert r.status_code == 200 and r.content == data
    assert r.headers["etag"] == f'"{hash_bytes(data)}"'
    assert r.headers["content-type"] == "application/octet-stream"


def test_large_file_without_connection_sendfile_streams_in_chunks(site: Path, serve: Serve) -> None:
    class NoSendfile(StaticFileHandler):
        def _connection_sendfile(self) -> None:
            return None

    url = serve(Application([(r"/f/(.*)", NoSendfile, {"path": str(site)})]))
    data = (site / "big.bin").read_bytes()
    r = _get(url + "/f/big.bin")
    assert r.status_code == 200 and r.content == data
    r = _get(url + "/f/big.bin", headers={"Range": "bytes=1000-300000"})
    assert r.status_code == 206 and r.content == data[1000:300001]


def test_edited_large_file_is_served_with_its_new_content(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    _get(url + "/static/big.bin")
    new = os.urandom(200_000)
    (site / "big.bin").write_bytes(new)
    r = _get(url + "/static/big.bin")  # the open file's stat differs from the entry: rebuilt
    assert r.content == new and r.headers["etag"] == f'"{hash_bytes(new)}"'


def test_edited_small_file_is_served_with_its_new_content_at_once(site: Path, serve: Serve) -> None:
    # Same length, rewritten in place right away: no restart, no wait, no stale bytes.
    url = serve(Application(static_path=str(site)))
    f = site / "css" / "a.css"
    for body in (b"p { color: red  }", b"p { color: blue }", b"p { color: cyan }"):
        f.write_bytes(body)
        r = _get(url + "/static/css/a.css")
        assert r.content == body and r.headers["etag"] == f'"{hash_bytes(body)}"'


def test_deleted_small_file_is_404_at_once(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    f = site / "css" / "a.css"
    past = os.stat(f).st_mtime - 60
    os.utime(f, (past, past))  # an old file: its entry is cached and reused
    assert _get(url + "/static/css/a.css").status_code == 200
    assert _get(url + "/static/css/a.css").status_code == 200
    f.unlink()
    assert _get(url + "/static/css/a.css").status_code == 404


def test_small_file_moved_away_is_404_at_once(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    f = site / "css" / "a.css"
    past = os.stat(f).st_mtime - 60
    os.utime(f, (past, past))  # cached and reused
    assert _get(url + "/static/css/a.css").status_code == 200
    assert _get(url + "/static/css/a.css").status_code == 200
    f.rename(site / "css" / "moved.css")
    assert _get(url + "/static/css/a.css").status_code == 404
    assert _get(url + "/static/css/moved.css").status_code == 200


def test_small_file_replaced_with_same_size_and_mtime_is_served_new_at_once(
    site: Path, serve: Serve
) -> None:
    # An atomic deploy (write aside, rename over) that even keeps the size and the mtime.
    url = serve(Application(static_path=str(site)))
    f = site / "css" / "a.css"
    past = os.stat(f).st_mtime - 60
    os.utime(f, (past, past))
    old = f.read_bytes()
    assert _get(url + "/static/css/a.css").content == old
    assert _get(url + "/static/css/a.css").content == old
    new = bytes(reversed(old))
    aside = site / "css" / "a.css.tmp"
    aside.write_bytes(new)
    os.utime(aside, (past, past))
    os.replace(aside, f)
    r = _get(url + "/static/css/a.css")
    assert r.content == new and r.headers["etag"] == f'"{hash_bytes(new)}"'


@pytest.mark.parametrize(
    ("target", "method", "extra", "length"),
    [
        ("/static/data.bin", "GET", "", 4096),
        ("/static/data.bin", "HEAD", "", 4096),
        ("/static/data.bin", "GET", "Range: bytes=10-19\r\n", 10),
        ("/static/data.bin", "HEAD", "Range: bytes=10-19\r\n", 10),
        ("/static/big.bin", "GET", "", None),
        ("/static/big.bin", "HEAD", "", None),
        ("/static/big.bin", "GET", "Range: bytes=10-19\r\n", 10),
    ],
)
def test_every_answer_has_exactly_one_right_content_length(
    site: Path, serve: Serve, raw: Any, target: str, method: str, extra: str, length: int | None
) -> None:
    url = serve(Application(static_path=str(site)))
    for _ in range(2):  # the miss, then the cached hit
        response = raw.get(url, target, method=method, extra=extra)
        head = response.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
        lines = [ln for ln in head.split("\r\n") if ln.startswith("content-length:")]
        expected = length if length is not None else os.path.getsize(site / target[8:])
        assert lines == [f"content-length: {expected}"]


def test_tornado_style_overrides_keep_working(site: Path, serve: Serve) -> None:
    class Legacy(StaticFileHandler):
        def validate_absolute_path(self, root: str, absolute_path: str) -> str:  # type: ignore[override]
            return absolute_path  # Tornado's overrides return a plain path

        def set_extra_headers(self, path: str) -> None:
            self.set_header("X-File", os.path.basename(self.absolute_path))

    url = serve(Application([(r"/f/(.*)", Legacy, {"path": str(site)})]))
    r = _get(url + "/f/css/a.css")
    assert r.status_code == 200 and r.headers["x-file"] == "a.css"
    assert _get(url + "/f/css/nope.css").status_code == 404


def test_url_prefix_without_trailing_slash(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site), static_url_prefix="/assets"))
    assert _get(url + "/assets/css/a.css").text == "body { color: red }"
    assert _get(url + "/assetscss/a.css").status_code == 404


def test_file_named_as_a_directory_is_404(site: Path, serve: Serve) -> None:
    url = serve(Application(_site_rule(site / "html")))
    assert _get(url + "/page.html").status_code == 200
    assert _get(url + "/page.html/").status_code == 404


def test_large_files_go_through_connection_sendfile(site: Path, serve: Serve) -> None:
    calls: list[tuple[int, int]] = []

    class Recording(StaticFileHandler):
        def _connection_sendfile(self) -> Any:
            real = super()._connection_sendfile()
            assert real is not None, "squall.http's connection offers sendfile"

            async def recorded(f: Any, offset: int, count: int) -> None:
                calls.append((offset, count))
                await real(f, offset, count)

            return recorded

    url = serve(Application([(r"/f/(.*)", Recording, {"path": str(site)})]))
    data = (site / "big.bin").read_bytes()
    assert _get(url + "/f/big.bin").content == data
    assert _get(url + "/f/big.bin", headers={"Range": "bytes=-10"}).content == data[-10:]
    assert _get(url + "/f/css/a.css").status_code == 200  # small: from memory, no sendfile
    assert calls == [(0, len(data)), (len(data) - 10, 10)]


def test_override_serving_another_file_than_the_url_names_is_cached_and_fresh(
    site: Path, serve: Serve
) -> None:
    # A Tornado-style override maps every name to "<name>.txt": hits must stat that file.
    (site / "note.txt").write_text("first")
    past = os.stat(site / "note.txt").st_mtime - 60
    os.utime(site / "note.txt", (past, past))

    class Mapped(StaticFileHandler):
        def validate_absolute_path(self, root: str, absolute_path: str) -> str:  # type: ignore[override]
            return absolute_path + ".txt"

    app = Application([(r"/m/(.*)", Mapped, {"path": str(site)})])
    url = serve(app)
    assert _get(url + "/m/note").text == "first"
    assert _get(url + "/m/note").text == "first"
    from squall.static._handler import _STORES

    ((_root, _follow, store),) = app.stash[_STORES].values()
    assert store.entries["note"].stat_path == str(site / "note.txt")  # hits can be hits
    (site / "note.txt").write_text("second")
    assert _get(url + "/m/note").text == "second"
    (site / "note.txt").unlink()
    assert _get(url + "/m/note").status_code == 404


# ---------------------------------------------------------------- own initialize()


class SearchPath(StaticFileHandler):
    """Searches several folders, as Jupyter's FileFindHandler: its initialize sets root
    (a tuple) without calling StaticFileHandler.initialize."""

    def initialize(self, path: list[str]) -> None:  # type: ignore[override]
        self.root = tuple(os.path.abspath(p) + os.sep for p in path)  # type: ignore[assignment]

    @classmethod
    def get_absolute_path(cls, root: Any, path: str) -> str:
        for folder in root:
            candidate = os.path.abspath(os.path.join(folder, path))
            if os.path.exists(candidate):
                return candidate
        return os.path.abspath(os.path.join(root[0], path))

    def validate_absolute_path(self, root: Any, absolute_path: str) -> Any:
        for folder in self.root:
            if (absolute_path + os.sep).startswith(folder):
                root = folder
                break
        return super().validate_absolute_path(root, absolute_path)


def test_subclass_whose_initialize_sets_root_itself_serves_from_it(
    tmp_path: Path, serve: Serve
) -> None:
    one, two, outside = tmp_path / "one", tmp_path / "two", tmp_path / "outside"
    for folder in (one, two, outside):
        folder.mkdir()
    (one / "a.txt").write_text("from one")
    (two / "b.txt").write_text("from two")
    (outside / "secret.txt").write_text("secret")
    (one / "escape.txt").symlink_to(outside / "secret.txt")
    url = serve(Application([(r"/s/(.*)", SearchPath, {"path": [str(one), str(two)]})]))
    for _ in range(2):  # a miss, then a hit from the cache
        r = _get(url + "/s/a.txt")
        assert (r.status_code, r.text) == (200, "from one")
        r = _get(url + "/s/b.txt")
        assert (r.status_code, r.text) == (200, "from two")
    assert _get(url + "/s/escape.txt").status_code == 403
    assert _get(url + "/s/missing.txt").status_code == 404
    assert _get(url + "/s/").status_code == 403  # a folder, and no default_filename


def test_subclass_initialize_without_root_is_a_clear_error(
    site: Path, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    class Forgetful(StaticFileHandler):
        def initialize(self) -> None:  # type: ignore[override]
            pass

    url = serve(Application([(r"/f/(.*)", Forgetful)]))
    with caplog.at_level(logging.ERROR, logger="squall.application"):
        assert _get(url + "/f/css/a.css").status_code == 500
    assert "Forgetful.initialize() must call super().initialize(path) or set self.root" in (
        caplog.text
    )
