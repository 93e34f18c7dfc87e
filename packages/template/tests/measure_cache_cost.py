"""Measure what turning the compiled-template cache off costs (not a test: pytest skips it).

Run it with the package installed::

    python packages/template/tests/measure_cache_cost.py

It times ``render_string`` of a small page (one template) and of a page built from three
(``extends`` + ``include`` + a loop over 20 rows), with ``compiled_template_cache`` on
(the default) and off (what ``debug=True`` implies), on a detached request (no socket), and
prints microseconds per call and the ratio. The numbers go in the README.
"""

from __future__ import annotations

import sys
import tempfile
import timeit
from pathlib import Path

import squall.web
from squall.http import HTTPServerRequest
from squall.web import RequestHandler

BASE = """<!doctype html>
<html><head><title>{% block title %}{% endblock %}</title></head>
<body>
{% block body %}{% endblock %}
{% include "footer.html" %}
</body></html>
"""
FOOTER = '<footer><a href="{{ reverse_url("home") }}">home</a> - {{ request.path }}</footer>\n'
PAGE = """{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block body %}
<h1>{{ title }}</h1>
<table>
{% for row in rows %}
<tr><td>{{ loop.index }}</td><td>{{ row.name }}</td><td>{{ row.value }}</td></tr>
{% endfor %}
</table>
{% endblock %}
"""
SMALL = "<p>Hello {{ who }}!</p>\n"


class Home(RequestHandler):
    def get(self) -> None:
        pass


def per_call_us(folder: str, cache: bool, template: str, kwargs: dict[str, object]) -> float:
    app = squall.web.Application(
        [squall.web.url(r"/", Home, name="home")],
        template_path=folder,
        compiled_template_cache=cache,
    )
    handler = Home(app, HTTPServerRequest("GET", "/page"))
    handler.render_string(template, **kwargs)  # warm: the first render compiles in both modes
    timer = timeit.Timer(lambda: handler.render_string(template, **kwargs))
    number, _ = timer.autorange()
    best = min(timer.repeat(repeat=5, number=number))
    return best / number * 1e6


def main() -> None:
    rows = [{"name": f"row {i}", "value": f"<{i}>"} for i in range(20)]
    with tempfile.TemporaryDirectory() as folder:
        for fname, text in [
            ("base.html", BASE),
            ("footer.html", FOOTER),
            ("page.html", PAGE),
            ("small.html", SMALL),
        ]:
            Path(folder, fname).write_text(text, encoding="utf-8")
        print(f"Python {sys.version.split()[0]}; render_string, best of 5, per call")
        cases: list[tuple[str, str, dict[str, object]]] = [
            ("small page (1 template)", "small.html", {"who": "<you>"}),
            ("page (extends+include, 20 rows)", "page.html", {"title": "T", "rows": rows}),
        ]
        for label, name, kwargs in cases:
            on = per_call_us(folder, True, name, kwargs)
            off = per_call_us(folder, False, name, kwargs)
            print(
                f"{label:34} cache on {on:8.1f} us   cache off {off:8.1f} us   "
                f"off/on x{off / on:5.1f}"
            )


if __name__ == "__main__":
    main()
