"""HTTPFile (dict-like, in memory or spooled) and the SpillBuffer behind spooling."""

from __future__ import annotations

import gc
import io
import os
import tempfile
from pathlib import Path

import pytest

from squall.http._files import HTTPFile, SpillBuffer, new_temp_file


@pytest.fixture
def upload_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make temporary files land in a directory the test can inspect."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _uploads(directory: Path) -> list[Path]:
    return sorted(directory.glob("squall-upload-*"))


def test_httpfile_reads_like_the_notes_dict_access() -> None:
    f = HTTPFile("1.png", b"\x89PNG", "image/png")
    assert f["filename"] == f.filename == "1.png"
    assert f["body"] == f.body == b"\x89PNG"
    assert f["content_type"] == f.content_type == "image/png"
    assert f.size == 4 and f.path is None and f.in_memory


def test_httpfile_mapping_helpers_and_unknown_key() -> None:
    f = HTTPFile("a.txt", b"x", "text/plain")
    assert list(f.keys()) == ["filename", "body", "content_type"]
    assert dict(f) == {"filename": "a.txt", "body": b"x", "content_type": "text/plain"}
    assert f.get("body") == b"x" and f.get("nope", 7) == 7
    assert "body" in f and "nope" not in f
    with pytest.raises(KeyError):
        f["nope"]


def test_httpfile_defaults_to_octet_stream() -> None:
    assert HTTPFile("a.bin", b"").content_type == "application/octet-stream"


def test_httpfile_repr_names_file_without_dumping_body() -> None:
    r = repr(HTTPFile("a.png", b"SECRET" * 1000, "image/png"))
    assert "a.png" in r and "image/png" in r and "6000" in r
    assert "SECRET" not in r


def test_httpfile_equals_same_content_and_a_plain_dict() -> None:
    f = HTTPFile("a", b"x", "t/t")
    assert f == HTTPFile("a", b"x", "t/t")
    assert f == {"filename": "a", "body": b"x", "content_type": "t/t"}
    assert f != HTTPFile("a", b"y", "t/t")
    assert f != {"filename": "a"}
    assert f != 3


def test_httpfile_file_property_is_readable_at_position_zero() -> None:
    f = HTTPFile("a", b"hello", "text/plain")
    assert f.file.read() == b"hello"
    assert f.file.read() == b"hello"  # rewound on every access
    f.close()


def test_httpfile_wrapping_a_user_file_object() -> None:
    with io.BytesIO(b"content") as raw:
        f = HTTPFile("a", content_type="text/plain", file=raw)
        assert f.size == 7 and not f.in_memory
        assert f.body == b"content" and f["body"] == b"content"
        assert f.path is None


def test_spillbuffer_stays_in_memory_up_to_threshold() -> None:
    buf = SpillBuffer(10, named=True)
    buf.write(b"12345")
    buf.write(b"67890")
    assert not buf.spilled and buf.getvalue() == b"1234567890"
    f = buf.to_httpfile("x", "t/t")
    assert f.in_memory and f.body == b"1234567890"


def test_spillbuffer_moves_to_a_named_file_past_threshold(upload_dir: Path) -> None:
    buf = SpillBuffer(10, named=True)
    buf.write(b"12345")
    buf.write(b"678901")
    assert buf.spilled and buf.getvalue() is None and buf.size == 11
    f = buf.to_httpfile("x.bin", "t/t")
    assert f.path is not None and os.path.exists(f.path)
    assert Path(f.path).parent == upload_dir
    assert f.body == b"12345678901" and f.size == 11 and not f.in_memory
    assert f.file.read(3) == b"123"
    assert "path=" in repr(f)
    f.close()
    assert not os.path.exists(f.path)
    assert _uploads(upload_dir) == []


def test_spooled_httpfile_is_deleted_when_garbage_collected(upload_dir: Path) -> None:
    buf = SpillBuffer(0, named=True)
    buf.write(b"data")
    f = buf.to_httpfile("x", "t/t")
    path = f.path
    assert path is not None and os.path.exists(path)
    del f, buf
    gc.collect()
    assert not os.path.exists(path)


def test_file_object_kept_by_a_handler_outlives_its_httpfile(upload_dir: Path) -> None:
    buf = SpillBuffer(0, named=True)
    buf.write(b"kept")
    f = buf.to_httpfile("x", "t/t")
    path, fileobj = f.path, f.file
    del f, buf
    gc.collect()
    assert path is not None and os.path.exists(path)
    assert fileobj.read() == b"kept"
    del fileobj
    gc.collect()
    assert not os.path.exists(path)


def test_httpfile_as_context_manager_deletes_its_file(upload_dir: Path) -> None:
    buf = SpillBuffer(0, named=True)
    buf.write(b"x")
    with buf.to_httpfile("x", "t/t") as f:
        assert f.path is not None and os.path.exists(f.path)
    assert _uploads(upload_dir) == []
    f.close()  # closing twice is harmless


def test_spillbuffer_close_discards_a_spilled_file(upload_dir: Path) -> None:
    buf = SpillBuffer(1, named=True)
    buf.write(b"abc")
    assert len(_uploads(upload_dir)) == 1
    buf.close()
    assert _uploads(upload_dir) == []


def test_anonymous_temp_file_has_no_path(upload_dir: Path) -> None:
    fileobj, path = new_temp_file(named=False)
    assert path is None and _uploads(upload_dir) == []
    fileobj.write(b"abc")
    fileobj.seek(0)
    assert fileobj.read() == b"abc"
    fd = fileobj.fileno()
    fileobj.close()
    with pytest.raises(OSError):
        os.fstat(fd)  # the descriptor itself is closed, not only the Python object


def test_closing_the_file_object_deletes_a_named_temp_file(upload_dir: Path) -> None:
    fileobj, path = new_temp_file(named=True)
    assert path is not None and _uploads(upload_dir) == [Path(path)]
    fileobj.close()
    assert _uploads(upload_dir) == []
