"""Template rendering speed: squall's Tornado-syntax engine, Tornado's own engine and Jinja2.

The page: a child template that extends a base, includes a part, loops over 100 rows and
writes 100 values that need HTML escaping. Each engine renders the same page from the same
data (the Jinja2 version is the same page in Jinja2's syntax); the outputs are checked to
match before timing. Repetitions are interleaved (squall, tornado, jinja2, squall, ...) so
drift on a shared machine hits every engine alike; the median of each is reported, with the
ratios to Jinja2 and Tornado.

Run: python benchmarks/templates.py [--repeat 15] [--number 300]
Needs tornado and jinja2 installed beside squall-template (not a dependency of squall).
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from collections.abc import Callable

import jinja2
import tornado.template

import squall.template

TORNADO = {
    "base.html": (
        "<html><head><title>{% block title %}{% end %}</title></head>\n<body>\n"
        "{% include 'header.html' %}\n{% block body %}{% end %}\n</body></html>\n"
    ),
    "header.html": "<header><h1>{{ site }}</h1><p>{{ user }}</p></header>",
    "page.html": (
        "{% extends 'base.html' %}\n{% block title %}{{ title }}{% end %}\n"
        "{% block body %}<table>\n{% for row in rows %}"
        "<tr><td>{{ row['id'] }}</td><td>{{ row['name'] }}</td></tr>\n"
        "{% end %}</table>{% end %}\n"
    ),
}

JINJA = {
    "base.html": (
        "<html><head><title>{% block title %}{% endblock %}</title></head>\n<body>\n"
        "{% include 'header.html' %}\n{% block body %}{% endblock %}\n</body></html>\n"
    ),
    "header.html": "<header><h1>{{ site }}</h1><p>{{ user }}</p></header>",
    "page.html": (
        "{% extends 'base.html' %}\n{% block title %}{{ title }}{% endblock %}\n"
        "{% block body %}<table>\n{% for row in rows %}"
        "<tr><td>{{ row['id'] }}</td><td>{{ row['name'] }}</td></tr>\n"
        "{% endfor %}</table>{% endblock %}\n"
    ),
}

DATA = {
    "title": "Rows & <columns>",
    "site": 'squall\'s "bench"',
    "user": "<ann>",
    "rows": [{"id": i, "name": f"row <{i}> & 'quoted'"} for i in range(100)],
}


def renderers() -> dict[str, Callable[[], bytes]]:
    """One zero-argument render function per engine (templates compiled beforehand)."""
    ours = squall.template.DictLoader(TORNADO, whitespace="all").load("page.html")
    theirs = tornado.template.DictLoader(TORNADO, whitespace="all").load("page.html")
    env = jinja2.Environment(loader=jinja2.DictLoader(JINJA), autoescape=True)
    jinja_page = env.get_template("page.html")
    return {
        "squall": lambda: ours.generate(**DATA),
        "tornado": lambda: theirs.generate(**DATA),
        # Jinja2 renders str; encoding is part of producing the page (as render_string does).
        "jinja2": lambda: jinja_page.render(**DATA).encode("utf-8"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--number", type=int, default=300)
    args = parser.parse_args()
    funcs = renderers()
    if funcs["squall"]() != funcs["tornado"]():
        raise SystemExit("squall and Tornado render different pages")
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(args.repeat):
        for name, func in funcs.items():
            seconds = timeit.timeit(func, number=args.number)
            times[name].append(seconds / args.number * 1e6)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:8s} {value:8.1f} µs per page (median of {args.repeat})")
    print(f"squall / jinja2  = {medians['squall'] / medians['jinja2']:.2f}")
    print(f"squall / tornado = {medians['squall'] / medians['tornado']:.2f}")


if __name__ == "__main__":
    main()
