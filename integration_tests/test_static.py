"""静态文件: ``static_path`` (``/static/…``) and ``StaticFileHandler(path, default_filename)``.

Statements checked: a URL path starting with ``/static/`` is served from ``static_path``
(``http://127.0.0.1:9000/static/html/index.html``); ``r'/(.*)'`` with StaticFileHandler
looks the captured name up in ``path``, and a directory (``/`` included) serves
``default_filename``; bytes are served unchanged with a Content-Type from the file name;
conditional requests (304) and ranges (206) work; nothing outside the folder is served.
"""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("static.py") as srv:
        yield srv


def test_static_path_serves_static_prefix(server, examples_dir):
    r = httpx.get(server.url + "/static/html/index.html")
    assert r.status_code == 200
    assert r.content == (examples_dir / "statics/html/index.html").read_bytes()
    assert r.headers["content-type"].startswith("text/html")


def test_static_path_serves_css_js_and_binary(server, examples_dir):
    for rel, ctype in (
        ("css/style.css", "text/css"),
        ("js/app.js", "javascript"),
        ("pixel.png", "image/png"),
    ):
        r = httpx.get(server.url + "/static/" + rel)
        assert r.status_code == 200, rel
        assert r.content == (examples_dir / "statics" / rel).read_bytes(), rel
        assert ctype in r.headers["content-type"], (rel, r.headers["content-type"])


def test_robots_txt_from_static_path(server, examples_dir):
    r = httpx.get(server.url + "/robots.txt")
    assert r.status_code == 200
    assert r.content == (examples_dir / "statics/robots.txt").read_bytes()


def test_root_serves_the_default_filename(server, examples_dir):
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert r.content == (examples_dir / "statics/html/index.html").read_bytes()


def test_named_file_under_path(server, examples_dir):
    for path in ("/index.html", "/about.html"):
        r = httpx.get(server.url + path)
        assert r.status_code == 200, path
        assert r.content == (examples_dir / "statics/html" / path[1:]).read_bytes()


def test_subdirectory_serves_its_default_file(server, examples_dir):
    r = httpx.get(server.url + "/sub/")
    assert r.status_code == 200
    assert r.content == (examples_dir / "statics/html/sub/index.html").read_bytes()
    r = httpx.get(server.url + "/sub")
    assert r.status_code in (301, 302)
    assert r.headers["location"].endswith("/sub/")


def test_missing_file_is_404(server):
    assert httpx.get(server.url + "/nothing-here.html").status_code == 404
    assert httpx.get(server.url + "/static/nothing-here.css").status_code == 404


def test_a_handler_rule_before_the_catch_all(server):
    mark = server.mark()
    assert httpx.get(server.url + "/show").status_code == 200
    assert server.wait_stdout("1111", mark).splitlines()[0] == "1111"


def test_etag_and_not_modified(server):
    r = httpx.get(server.url + "/static/css/style.css")
    etag = r.headers["etag"]
    r2 = httpx.get(server.url + "/static/css/style.css", headers={"If-None-Match": etag})
    assert r2.status_code == 304
    assert r2.content == b""
    r3 = httpx.get(
        server.url + "/static/css/style.css",
        headers={"If-Modified-Since": r.headers["last-modified"]},
    )
    assert r3.status_code == 304


def test_range_request(server, examples_dir):
    data = (examples_dir / "statics/css/style.css").read_bytes()
    r = httpx.get(server.url + "/static/css/style.css", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    assert r.content == data[:10]
    assert r.headers["content-range"] == f"bytes 0-9/{len(data)}"
    r = httpx.get(
        server.url + "/static/css/style.css", headers={"Range": f"bytes={len(data) + 5}-"}
    )
    assert r.status_code == 416


@pytest.mark.parametrize(
    "target",
    [
        "/static/../static.py",
        "/static/..%2fstatic.py",
        "/static/%2e%2e/static.py",
        "/../static.py",
        "/..%2f..%2fstatic.py",
        "/static//etc/passwd",
        "/%2fetc%2fpasswd",
    ],
)
def test_nothing_outside_the_folders_is_served(server, raw, target):
    r = raw.request(server.port, "GET", target)
    assert r.status in (400, 403, 404), (target, r.status_line)
    assert b"import squall" not in r.body and b"root:" not in r.body
