"""The path checks of squall.static._paths, on a real directory tree (no network)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.static._paths import PathRefused, check_url_path, open_regular, resolve


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/ with files, a subdirectory, symlinks in and out, a FIFO, and a sibling folder."""
    root = tmp_path / "static"
    (root / "html").mkdir(parents=True)
    (root / "html" / "index.html").write_text("<h1>hi</h1>")
    (root / "a.txt").write_text("a")
    (tmp_path / "static_other").mkdir()
    (tmp_path / "static_other" / "secret.txt").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    (root / "link_in").symlink_to(root / "a.txt")
    (root / "link_out").symlink_to(tmp_path / "outside.txt")
    (root / "dir_out").symlink_to(tmp_path / "static_other", target_is_directory=True)
    os.mkfifo(root / "fifo")
    return root


def test_plain_file_resolves_to_its_real_path(tree: Path) -> None:
    r = resolve(str(tree), "html/index.html")
    assert r.path == str((tree / "html" / "index.html").resolve())
    assert not r.is_dir and r.stat.st_size == len("<h1>hi</h1>")


def test_empty_path_is_the_root_directory(tree: Path) -> None:
    r = resolve(str(tree), "")
    assert r.is_dir and r.path == str(tree.resolve())


def test_directory_is_reported_as_one(tree: Path) -> None:
    assert resolve(str(tree), "html/").is_dir


def test_redundant_slashes_and_dots_are_dropped() -> None:
    assert check_url_path("html//./index.html") == ["html", "index.html"]


def test_symlink_inside_the_root_is_served(tree: Path) -> None:
    assert resolve(str(tree), "link_in").path == str((tree / "a.txt").resolve())


@pytest.mark.parametrize(
    ("url_path", "status"),
    [
        ("../outside.txt", 403),
        ("html/../../outside.txt", 403),
        ("..", 403),
        ("/etc/passwd", 403),
        ("//evil.example/../a.txt", 403),
        ("html\\..\\..\\outside.txt", 404),
        ("a.txt\x00.png", 404),
        ("C:/Windows/win.ini", 404),
        ("c:", 404),
        ("a.txt::$DATA", 404),
        ("CON", 404),
        ("con.txt", 404),
        ("html/Lpt1.html", 404),
        ("NUL", 404),
        ("a.txt.", 404),
        ("a.txt ", 404),
        ("link_out", 403),
        ("dir_out/secret.txt", 403),
        ("../static_other/secret.txt", 403),
        ("fifo", 403),
        ("missing.txt", 404),
        ("a.txt/x", 404),
        ("x" * 5000, 404),
    ],
)
def test_every_escape_attempt_is_refused(tree: Path, url_path: str, status: int) -> None:
    with pytest.raises(PathRefused) as info:
        resolve(str(tree), url_path)
    assert info.value.status == status


def test_sibling_folder_sharing_the_prefix_is_not_inside(tree: Path) -> None:
    # "static_other" starts with "static": only a segment-wise comparison refuses it.
    sibling = tree.parent / "static_other"
    (tree / "sib").symlink_to(sibling / "secret.txt")
    with pytest.raises(PathRefused) as info:
        resolve(str(tree), "sib")
    assert info.value.status == 403


def test_symlinks_out_are_served_when_allowed(tree: Path) -> None:
    r = resolve(str(tree), "link_out", follow_symlinks=True)
    assert Path(r.path).read_text() == "outside"
    # ... but '..' stays refused: the setting trusts links placed in the root, not URLs.
    with pytest.raises(PathRefused):
        resolve(str(tree), "../outside.txt", follow_symlinks=True)


def test_unreadable_directory_component_is_403(tree: Path) -> None:
    if os.geteuid() == 0:
        # root bypasses permission bits: simulate with a symlink loop instead (ELOOP → 404)
        (tree / "loop").symlink_to(tree / "loop")
        with pytest.raises(PathRefused) as info:
            resolve(str(tree), "loop/x")
        assert info.value.status in (403, 404)
        return
    locked = tree / "locked"
    locked.mkdir()
    (locked / "f").write_text("x")
    locked.chmod(0)
    try:
        with pytest.raises(PathRefused) as info:
            resolve(str(tree), "locked/f")
        assert info.value.status == 403
    finally:
        locked.chmod(0o755)


def test_root_given_through_a_symlink_still_works(tree: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(tree, target_is_directory=True)
    assert resolve(str(alias), "a.txt").path == str((tree / "a.txt").resolve())


def test_open_regular_refuses_a_fifo_without_blocking(tree: Path) -> None:
    # a FIFO swapped in after the check: O_NONBLOCK returns at once, fstat refuses it
    with pytest.raises(PermissionError):
        open_regular(str(tree / "fifo"))


def test_open_regular_opens_a_file(tree: Path) -> None:
    with open_regular(str(tree / "a.txt")) as f:
        assert f.read() == b"a"


@given(st.text(max_size=100))
def test_any_url_path_is_refused_or_gives_harmless_segments(url_path: str) -> None:
    try:
        segments = check_url_path(url_path)
    except PathRefused as exc:
        assert exc.status in (403, 404)
        return
    for seg in segments:
        assert seg not in ("", ".", "..")
        assert not any(c in seg for c in "/\\\x00:")
