"""No path outside the root is ever served: every attempt of the issue, over raw sockets.

httpx would normalise ``..`` and ``//`` away before sending, so these requests are written
byte for byte. Each must get a 403 or a 404, with no traceback in the body and no
``Location`` that leaves the site.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from squall.static import StaticFileHandler
from squall.web import Application

Serve = Callable[[Application], str]

ATTEMPTS = [
    # (what, request target)
    ("dot-dot", "/static/../secret.txt"),
    ("dot-dot deeper", "/static/html/../../secret.txt"),
    ("dot-dot percent-encoded slash", "/static/..%2fsecret.txt"),
    ("dot-dot percent-encoded slash, upper", "/static/html/..%2F..%2Fsecret.txt"),
    ("percent-encoded dots", "/static/%2e%2e/secret.txt"),
    ("percent-encoded dots and slash", "/static/%2e%2e%2fsecret.txt"),
    ("double-encoded dots", "/static/%252e%252e/secret.txt"),
    ("absolute path", "/static//etc/passwd"),
    ("absolute path, encoded", "/static/%2fetc%2fpasswd"),
    ("absolute path of the root's parent", "/static/" + "%2F" + "tmp"),
    ("backslash", "/static/..\\secret.txt"),
    ("backslash, encoded", "/static/..%5csecret.txt"),
    ("NUL", "/static/css/a.css%00.png"),
    ("NUL alone", "/static/%00"),
    ("symlink out of the root", "/static/link_out"),
    ("symlink to a directory out of the root", "/static/dir_out/x.txt"),
    ("drive name", "/static/C:/Windows/win.ini"),
    ("drive name, encoded backslash", "/static/c:%5cwindows%5cwin.ini"),
    ("NTFS stream", "/static/css/a.css::$DATA"),
    ("device name", "/static/CON"),
    ("device name with extension", "/static/con.txt"),
    ("device name in a folder", "/static/html/aux"),
    ("trailing dot alias", "/static/css/a.css."),
    ("sibling folder sharing the prefix", "/static/../statics_other/x.txt"),
    ("sibling folder through a symlink", "/static/sibling/x.txt"),
    ("FIFO", "/static/pipe"),
    ("open redirect shape on the catch-all", "//evil.example/../static/html"),
    ("open redirect shape, three slashes", "///evil.example/../html"),
    ("open redirect shape, encoded", "/%2F%2Fevil.example/../html"),
    ("open redirect shape, backslash", "/%5C%5Cevil.example/../html"),
    ("missing file", "/static/nope.css"),
]


@pytest.fixture
def attack_site(site: Path) -> Path:
    outside = site.parent
    (site / "link_out").symlink_to(outside / "secret.txt")
    (site / "dir_out").symlink_to(outside / "statics_other", target_is_directory=True)
    (site / "sibling").symlink_to(outside / "statics_other", target_is_directory=True)
    os.mkfifo(site / "pipe")
    return site


@pytest.mark.parametrize(("what", "target"), ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
def test_every_attempt_is_refused_cleanly(
    attack_site: Path, serve: Serve, raw: Any, what: str, target: str
) -> None:
    app = Application(
        [
            (
                r"/(.*)",
                StaticFileHandler,
                {"path": str(attack_site), "default_filename": "index.html"},
            )
        ],
        static_path=str(attack_site),
    )
    url = serve(app)
    status, headers, body = raw.parse(raw.get(url, target))
    assert status in (403, 404), (what, status, body[:200])
    assert b"Traceback" not in body
    assert b"secret" not in body and b"other" not in body
    location = headers.get("location")
    assert location is None or (location.startswith("/") and location[1:2] not in ("/", "\\"))


def test_directory_redirect_never_points_off_site(
    attack_site: Path, serve: Serve, raw: Any
) -> None:
    app = Application(
        [
            (
                r"/(.*)",
                StaticFileHandler,
                {"path": str(attack_site / "html"), "default_filename": "index.html"},
            )
        ]
    )
    url = serve(app)
    for target in ("/sub", "/./sub", "/.//sub", "/sub/.", "//sub", "/%2Fsub"):
        status, headers, body = raw.parse(raw.get(url, target))
        assert b"Traceback" not in body
        location = headers.get("location")
        if status in (301, 302):
            assert location is not None
            assert location.startswith("/") and location[1:2] not in ("/", "\\"), target
        else:
            assert status in (200, 403, 404), target


def test_symlinks_out_are_served_when_the_setting_allows(attack_site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(attack_site), static_follow_symlinks=True))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/link_out").text == "secret"
        # '..' in the URL stays refused: the setting trusts links put in the root, not URLs
        assert client.get(url + "/static/dir_out/x.txt").text == "other"


# ---------------------------------------------------------------- races with the disk


def test_large_file_deleted_after_being_cached_is_404(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/big.bin").status_code == 200
        (site / "big.bin").unlink()
        r = client.get(url + "/static/big.bin")
        assert r.status_code == 404 and "Traceback" not in r.text


def test_large_file_replaced_by_a_directory_or_fifo_is_refused(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/big.bin").status_code == 200
        (site / "big.bin").unlink()
        (site / "big.bin").mkdir()
        assert client.get(url + "/static/big.bin").status_code in (403, 404)
        (site / "big.bin").rmdir()
        os.mkfifo(site / "big.bin")  # opening it must not hang the server
        assert client.get(url + "/static/big.bin").status_code in (403, 404)
        assert client.get(url + "/static/css/a.css").status_code == 200


def test_small_file_deleted_is_404_once_the_entry_is_rechecked(site: Path, serve: Serve) -> None:
    class NoTTL(StaticFileHandler):
        CACHE_TTL = 0.0  # recheck the disk on every request

    url = serve(Application([(r"/f/(.*)", NoTTL, {"path": str(site)})]))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/f/css/a.css").status_code == 200
        (site / "css" / "a.css").unlink()
        r = client.get(url + "/f/css/a.css")
        assert r.status_code == 404 and "Traceback" not in r.text


def test_without_hash_cache_a_deleted_file_is_404_at_once(site: Path, serve: Serve) -> None:
    url = serve(Application(static_path=str(site), static_hash_cache=False))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/css/a.css").status_code == 200
        (site / "css" / "a.css").unlink()
        assert client.get(url + "/static/css/a.css").status_code == 404


def test_unreadable_file_is_403(site: Path, serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root (permission bits ignored): make open() itself fail as EACCES would.
    from squall.static import _handler, _paths

    real_open = _paths.open_regular

    def deny(path: str) -> Any:
        if path.endswith("big.bin"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(_handler, "open_regular", deny)
    url = serve(Application(static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        r = client.get(url + "/static/big.bin")
        assert r.status_code == 403 and "Traceback" not in r.text


def test_cached_small_file_made_unreadable_is_403_at_once(
    site: Path, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chmod changes neither mtime nor size nor inode: the cached bytes must not outlive
    # the permission. Tests may run as root (bits ignored): open() refuses a mode-0 file as
    # EACCES would for anyone else.
    from squall.static import _cache, _paths

    real_open = _paths.open_regular

    def as_a_user(path: str) -> Any:
        if os.stat(path).st_mode & 0o777 == 0:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(_cache, "open_regular", as_a_user)
    f = site / "css" / "a.css"
    past = os.stat(f).st_mtime - 60
    os.utime(f, (past, past))  # an old file: its entry is cached and reused
    url = serve(Application(static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/css/a.css").status_code == 200
        assert client.get(url + "/static/css/a.css").status_code == 200
        f.chmod(0)
        try:
            r = client.get(url + "/static/css/a.css")
            assert r.status_code == 403 and "Traceback" not in r.text
        finally:
            f.chmod(0o644)
        assert client.get(url + "/static/css/a.css").status_code == 200


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PermissionError(13, "Permission denied"), 403),
        (FileNotFoundError(2, "No such file"), 404),
        (OSError(5, "Input/output error"), 404),
    ],
)
def test_small_file_failing_at_read_time_is_a_clean_4xx(
    site: Path, serve: Serve, monkeypatch: pytest.MonkeyPatch, error: OSError, status: int
) -> None:
    # The path checks pass, then the read fails (a race with the disk, or an I/O error).
    from squall.static import _cache

    def failing(path: str) -> Any:
        raise error

    monkeypatch.setattr(_cache, "open_regular", failing)
    url = serve(Application(static_path=str(site), static_hash_cache=False))
    with httpx.Client(timeout=10) as client:
        r = client.get(url + "/static/css/a.css")
        assert r.status_code == status and "Traceback" not in r.text


def test_retargeted_symlink_is_served_new_at_once(site: Path, serve: Serve) -> None:
    # The file the link named is unchanged, so only a stat through the link sees the switch.
    (site / "v1.txt").write_text("one")
    (site / "v2.txt").write_text("two")
    for name in ("v1.txt", "v2.txt"):
        past = os.stat(site / name).st_mtime - 60
        os.utime(site / name, (past, past))
    (site / "current.txt").symlink_to("v1.txt")
    url = serve(Application(static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/current.txt").text == "one"
        assert client.get(url + "/static/current.txt").text == "one"
        (site / "next.txt").symlink_to("v2.txt")
        os.replace(site / "next.txt", site / "current.txt")
        assert client.get(url + "/static/current.txt").text == "two"


def test_symlink_retargeted_out_of_the_root_is_refused_at_once(
    site: Path, serve: Serve, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (site / "v1.txt").write_text("one")
    past = os.stat(site / "v1.txt").st_mtime - 60
    os.utime(site / "v1.txt", (past, past))
    (site / "link.txt").symlink_to("v1.txt")
    url = serve(Application(static_path=str(site)))
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/static/link.txt").text == "one"
        assert client.get(url + "/static/link.txt").text == "one"
        (site / "next.txt").symlink_to(outside)
        os.replace(site / "next.txt", site / "link.txt")
        r = client.get(url + "/static/link.txt")
        assert r.status_code in (403, 404) and "secret" not in r.text
