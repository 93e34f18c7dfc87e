"""The two bodies of the compression benchmark, the same bytes for every server.

A 20 KiB HTML page and a 100 KiB JSON document, built deterministically (no randomness: the
compressed sizes must be comparable between servers and runs) with the variety of a real
page (numbers, names, nesting), so that they compress about as real ones do (4-8x).
"""

from __future__ import annotations

import json

_WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def _html() -> bytes:
    rows = []
    i = 0
    while sum(len(r) for r in rows) < 20 * 1024 - 90:  # 90: the page around the rows
        w = _WORDS[i % len(_WORDS)]
        other = _WORDS[(i * 5) % len(_WORDS)]
        rows.append(
            f'<tr class="r{i % 3}"><td>{i}</td><td><a href="/item/{i * 7919 % 10007}">'
            f"{w} {other}</a></td><td>{i * 31 % 997}.{i % 100:02d}</td></tr>\n"
        )
        i += 1
    page = (
        "<!doctype html><html><head><title>items</title></head><body><table>"
        + "".join(rows)
        + "</table></body></html>"
    )
    return page.encode()


def _json() -> bytes:
    items = []
    i = 0
    while True:
        items.append(
            {
                "id": i,
                "sku": f"SKU-{i * 7919 % 100003:06d}",
                "name": f"{_WORDS[i % len(_WORDS)]} {_WORDS[(i * 7) % len(_WORDS)]}",
                "price": round((i * 37 % 10000) / 100, 2),
                "tags": [_WORDS[(i + k) % len(_WORDS)] for k in range(i % 4)],
                "stock": i * 13 % 250,
            }
        )
        body = json.dumps({"items": items}, separators=(",", ":")).encode()
        if len(body) >= 100 * 1024:
            return body
        i += 1


HTML = _html()
"""About 20 KiB of HTML (``text/html``)."""

JSON = _json()
"""About 100 KiB of JSON (``application/json``)."""
