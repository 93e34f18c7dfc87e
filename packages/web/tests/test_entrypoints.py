"""The entry-point scanner (squall.web._entrypoints), against importlib.metadata's rules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from squall.web._entrypoints import PluginEntryPoint, scan


def make_dist(root: Path, dirname: str, entry_points: str | None) -> None:
    d = root / dirname
    d.mkdir(parents=True)
    (d / "METADATA").write_text("Metadata-Version: 2.1\nName: x\nVersion: 1\n")
    if entry_points is not None:
        (d / "entry_points.txt").write_text(entry_points)


def test_reads_the_group_of_every_dist_info(tmp_path: Path) -> None:
    make_dist(
        tmp_path,
        "squall_static-0.1.0.dist-info",
        "[console_scripts]\nx = y:z\n\n[squall.web]\nstatic = squall.static._plugin\n",
    )
    make_dist(
        tmp_path,
        "Other.Pkg-2.0.dist-info",
        "# comment\n[squall.web]\n; other comment\nother = pkg.mod:Plugin.instance [extra]\n",
    )
    make_dist(tmp_path, "no_eps-1.0.dist-info", None)
    make_dist(tmp_path, "old-1.0.egg-info", "[squall.web]\nold = old_mod\n")
    found = scan("squall.web", [str(tmp_path)])
    assert set(found) == {
        PluginEntryPoint("static", "squall.static._plugin", "squall-static"),
        PluginEntryPoint("other", "pkg.mod:Plugin.instance", "other-pkg"),
        PluginEntryPoint("old", "old_mod", "old"),
    }


def test_first_distribution_on_the_path_wins(tmp_path: Path) -> None:
    make_dist(tmp_path / "a", "plug-1.0.dist-info", "[squall.web]\nplug = first\n")
    make_dist(tmp_path / "b", "plug-2.0.dist-info", "[squall.web]\nplug = second\n")
    found = scan("squall.web", [str(tmp_path / "a"), str(tmp_path / "b")])
    assert [ep.value for ep in found] == ["first"]


def test_missing_or_non_directory_path_entries_are_skipped(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file.zip"
    not_a_dir.write_bytes(b"PK")
    assert scan("squall.web", [str(tmp_path / "missing"), str(not_a_dir)]) == ()


def test_windows_line_ends_are_read(tmp_path: Path) -> None:
    d = tmp_path / "crlf-1.0.dist-info"
    d.mkdir()
    (d / "entry_points.txt").write_bytes(b"[squall.web]\r\ncrlf = crlf_mod:plugin\r\n")
    assert scan("squall.web", [str(tmp_path)]) == (
        PluginEntryPoint("crlf", "crlf_mod:plugin", "crlf"),
    )


def test_a_long_entry_points_file_is_read_to_its_end(tmp_path: Path) -> None:
    scripts = "".join(f"tool{i} = pkg.cli:main{i}\n" for i in range(5000))  # > 64 KiB
    make_dist(tmp_path, "big-1.0.dist-info", f"[console_scripts]\n{scripts}[squall.web]\nbig = b\n")
    assert [ep.name for ep in scan("squall.web", [str(tmp_path)])] == ["big"]


def test_an_unreadable_entry_points_name_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "odd-1.0.dist-info" / "entry_points.txt").mkdir(parents=True)  # a directory
    make_dist(tmp_path, "plug-1.0.dist-info", "[squall.web]\nplug = p\n")
    assert [ep.name for ep in scan("squall.web", [str(tmp_path)])] == ["plug"]


def test_load_follows_the_attribute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ep_target_mod.py").write_text("class Plugin:\n    instance = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert PluginEntryPoint("p", "ep_target_mod:Plugin.instance", "d").load() == 42
        assert PluginEntryPoint("p", "ep_target_mod", "d").load() is sys.modules["ep_target_mod"]
    finally:
        sys.modules.pop("ep_target_mod", None)


def test_scanning_does_not_import_importlib_metadata() -> None:
    import subprocess

    code = (
        "import sys, squall.web; from squall.web import _plugins; "
        "_plugins.plugin_entry_points(); squall.web.Application([], autoload_plugins=False); "
        "print('importlib.metadata' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
