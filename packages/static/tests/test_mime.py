"""Content-Type from file names (squall.static._mime)."""

from __future__ import annotations

import pytest

from squall.static._mime import content_type_for


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("INDEX.HTM", "text/html; charset=utf-8"),
        ("a.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("logo.svg", "image/svg+xml; charset=utf-8"),
        ("a.png", "image/png"),
        ("favicon.ico", "image/x-icon"),
        ("a.wasm", "application/wasm"),
        ("font.woff2", "font/woff2"),
        ("a.tar.gz", "application/gzip"),
        ("a.gz", "application/gzip"),
        ("noextension", "application/octet-stream"),
        ("weird.zzzzz", "application/octet-stream"),
    ],
)
def test_content_type_is_chosen_from_the_name(name: str, expected: str) -> None:
    assert content_type_for(name) == expected
