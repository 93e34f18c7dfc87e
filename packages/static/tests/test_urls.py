"""``static_url()`` on handlers and ``make_static_url()`` for templates, over a real server."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import squall.static
from squall.static import StaticFileHandler, _hashing
from squall.static._hashing import SYNC_HASH_LIMIT, hash_bytes
from squall.web import Application, RequestHandler

Serve = Callable[[Application], str]


class UrlHandler(RequestHandler):
    def get(self) -> None:
        host = self.get_argument("host", None)
        self.write(self.static_url(self.get_argument("p"), include_host=bool(host) or None))


def _url_of(client: httpx.Client, base: str, path: str, **params: str) -> str:
    r = client.get(base + "/url", params={"p": path, **params})
    assert r.status_code == 200, r.text
    return r.text


def test_static_url_carries_the_content_hash(site: Path, serve: Serve) -> None:
    url = serve(Application([(r"/url", UrlHandler)], static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        got = _url_of(client, url, "css/a.css")
        assert got == "/static/css/a.css?v=" + hash_bytes(b"body { color: red }")
        # the URL it gives is served, with the immutable cache policy
        r = client.get(url + got)
        assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
        assert r.headers["etag"] == '"' + got.split("v=")[1] + '"'


def test_static_url_with_host(site: Path, serve: Serve) -> None:
    url = serve(Application([(r"/url", UrlHandler)], static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        got = _url_of(client, url, "css/a.css", host="1")
    assert got.startswith(
        url.replace("http://127.0.0.1", "http://127.0.0.1") + "/static/css/a.css?v="
    )


def test_static_url_follows_the_prefix(site: Path, serve: Serve) -> None:
    app = Application([(r"/url", UrlHandler)], static_path=str(site), static_url_prefix="/assets/")
    url = serve(app)
    with httpx.Client(timeout=10) as client:
        assert _url_of(client, url, "css/a.css").startswith("/assets/css/a.css?v=")


def test_missing_file_gives_an_unversioned_url_and_a_warning(
    site: Path, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    url = serve(Application([(r"/url", UrlHandler)], static_path=str(site)))
    with caplog.at_level(logging.WARNING, logger="squall.general"):
        with httpx.Client(timeout=10) as client:
            assert _url_of(client, url, "css/missing.css") == "/static/css/missing.css"
    assert any(
        r.name == "squall.general" and "missing.css" in r.getMessage() for r in caplog.records
    )


def test_edited_file_gets_a_new_url_without_restart_under_debug(site: Path, serve: Serve) -> None:
    url = serve(Application([(r"/url", UrlHandler)], static_path=str(site), debug=True))
    with httpx.Client(timeout=10) as client:
        first = _url_of(client, url, "css/a.css")
        (site / "css" / "a.css").write_text("body { color: blue }")
        second = _url_of(client, url, "css/a.css")
    assert first != second
    assert second.endswith(hash_bytes(b"body { color: blue }"))


def test_hash_is_cached_unless_static_hash_cache_is_false(
    site: Path, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = _hashing.hash_file

    def counting(path: str) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(_hashing, "hash_file", counting)
    (site / "css" / "b.css").write_text("b")
    (site / "css" / "c.css").write_text("c")
    cached = serve(Application([(r"/url", UrlHandler)], static_path=str(site)))
    uncached = serve(
        Application([(r"/url", UrlHandler)], static_path=str(site), static_hash_cache=False)
    )
    with httpx.Client(timeout=10) as client:
        for _ in range(3):
            _url_of(client, cached, "css/b.css")
        assert len(calls) == 1
        for _ in range(3):
            _url_of(client, uncached, "css/c.css")
        assert len(calls) == 4


def test_large_file_is_hashed_off_the_loop_then_versioned(site: Path, serve: Serve) -> None:
    data = (site / "big.bin").read_bytes()
    assert len(data) > SYNC_HASH_LIMIT
    url = serve(Application([(r"/url", UrlHandler)], static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        got = _url_of(client, url, "big.bin")  # may be unversioned while the executor works
        deadline = time.monotonic() + 20
        while "?v=" not in got and time.monotonic() < deadline:
            time.sleep(0.05)
            got = _url_of(client, url, "big.bin")
    assert got == "/static/big.bin?v=" + hash_bytes(data)


def test_make_static_url_works_without_a_handler(site: Path) -> None:
    app = Application(static_path=str(site))
    assert squall.static.make_static_url(app.settings, "css/a.css") == (
        "/static/css/a.css?v=" + hash_bytes(b"body { color: red }")
    )
    assert StaticFileHandler.make_static_url(app.settings, "css/a.css", include_version=False) == (
        "/static/css/a.css"
    )
    assert squall.static.make_static_url(app.settings, "/a b.css", include_version=False) == (
        "/static/a%20b.css"
    )


def test_static_url_uses_the_configured_handler_class(site: Path, serve: Serve) -> None:
    class Versioned(StaticFileHandler):
        @classmethod
        def get_version(cls, settings: Any, path: str) -> str | None:
            return "fixed"

    app = Application(
        [(r"/url", UrlHandler)], static_path=str(site), static_handler_class=Versioned
    )
    url = serve(app)
    with httpx.Client(timeout=10) as client:
        assert _url_of(client, url, "css/a.css") == "/static/css/a.css?v=fixed"


def test_static_url_without_static_path_gives_the_url_without_version(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    # The handler class is imported on this first call (not at construction): same answer.
    url = serve(Application([(r"/url", UrlHandler)]))
    with caplog.at_level(logging.WARNING, logger="squall.general"), httpx.Client(timeout=10) as c:
        assert _url_of(c, url, "css/a.css") == "/static/css/a.css"
    assert "no static_path setting" in caplog.text


def test_static_url_without_static_path_uses_the_configured_handler_class(serve: Serve) -> None:
    class Versioned(StaticFileHandler):
        @classmethod
        def get_version(cls, settings: Any, path: str) -> str | None:
            return "fixed"

    url = serve(Application([(r"/url", UrlHandler)], static_handler_class=Versioned))
    with httpx.Client(timeout=10) as client:
        assert _url_of(client, url, "css/a.css") == "/static/css/a.css?v=fixed"


def test_without_debug_an_edited_file_keeps_its_url(site: Path, serve: Serve) -> None:
    # The notes: the hash cache is what debug turns off; with it on, the URL is kept.
    url = serve(Application([(r"/url", UrlHandler)], static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        first = _url_of(client, url, "css/a.css")
        (site / "css" / "a.css").write_text("body { color: green }")
        assert _url_of(client, url, "css/a.css") == first


def test_reset_forgets_the_versions_given_so_edited_files_get_new_ones(
    site: Path, serve: Serve
) -> None:
    # Tornado's StaticFileHandler.reset(): clears the cache of static_url versions.
    url = serve(Application([(r"/url", UrlHandler)], static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        first = _url_of(client, url, "css/a.css")
        (site / "css" / "a.css").write_text("body { color: blue }")
        StaticFileHandler.reset()
        assert _url_of(client, url, "css/a.css") == "/static/css/a.css?v=" + hash_bytes(
            b"body { color: blue }"
        )
        assert first != "/static/css/a.css?v=" + hash_bytes(b"body { color: blue }")


def test_leading_slash_in_the_path_is_ignored(site: Path) -> None:
    app = Application(static_path=str(site))
    assert squall.static.make_static_url(app.settings, "/css/a.css") == (
        squall.static.make_static_url(app.settings, "css/a.css")
    )
    assert "?v=" in squall.static.make_static_url(app.settings, "/css/a.css")


class Minified(StaticFileHandler):
    """Serves ``x.js`` from ``x.min.js``: its get_absolute_path maps the names."""

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        return super().get_absolute_path(root, path.replace(".js", ".min.js"))


def test_static_url_versions_the_file_an_overridden_get_absolute_path_names(
    tmp_path: Path, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "app.min.js").write_bytes(b"var minified;")
    url = serve(
        Application(
            [(r"/url", UrlHandler)], static_path=str(tmp_path), static_handler_class=Minified
        )
    )
    with httpx.Client(timeout=10) as client:
        got = _url_of(client, url, "app.js")
        assert got == "/static/app.js?v=" + hash_bytes(b"var minified;")
        r = client.get(url + got)
        assert (r.status_code, r.content) == (200, b"var minified;")
    # the plain class does not map names: its app.js does not exist
    with caplog.at_level(logging.WARNING, logger="squall.general"):
        assert StaticFileHandler.make_static_url({"static_path": str(tmp_path)}, "app.js") == (
            "/static/app.js"
        )
    # what the override names is still checked to be under the root
    assert Minified.make_static_url({"static_path": str(tmp_path)}, "../x.js") == "/static/../x.js"
    assert "static_url('../x.js'): could not find the file" in caplog.text
