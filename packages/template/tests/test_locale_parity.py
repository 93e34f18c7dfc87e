"""squall.web.locale answers what tornado.locale answers (CSV and gettext translations,
dates, lists, numbers), and ``_()`` translates in templates of both engines."""

from __future__ import annotations

import datetime
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.locale

import squall.web
from squall.template import DictLoader
from squall.web import locale as squall_locale

CSV = {
    "es_LA": (
        '"January","Enero"\n"Monday","Lunes"\n"Sunday","Domingo"\n'
        '"%(weekday)s, %(month_name)s %(day)s","%(weekday)s, %(day)s de %(month_name)s"\n'
        '"%(commas)s and %(last)s","%(commas)s y %(last)s"\n'
        '"1 hour ago","hace 1 hora","singular"\n'
        '"%(hours)d hours ago","hace %(hours)d horas","plural"\n'
        '"%(name)s liked this","A %(name)s les gustó esto","plural"\n'
        '"%(name)s liked this","A %(name)s le gustó esto","singular"\n'
    ),
    "fa": '"Sunday","یکشنبه"\n',
    "zh_CN": '"Sunday","星期日"\n',
    "fr": '"Sunday","dimanche"\n',
}

MO_ENTRIES = {
    "Sunday": "dimanche",
    "apple\0apples": "pomme\0pommes",
    "law\x04right": "le droit",
    "org\x04club\0clubs": "le club\0les clubs",
    "%(commas)s and %(last)s": "%(commas)s et %(last)s",
}


def make_mo(entries: dict[str, str]) -> bytes:
    """A little-endian gettext catalogue (the format msgfmt writes)."""
    header = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n > 1);\n"
    items = sorted({"": header, **entries}.items())
    keys = [k.encode() for k, _ in items]
    values = [v.encode() for _, v in items]
    n = len(items)
    data_start = 28 + 16 * n
    table: list[int] = []
    data = b""
    for s in keys + values:
        table += [len(s), data_start + len(data)]
        data += s + b"\0"
    return struct.pack(f"<7I{4 * n}I", 0x950412DE, 0, n, 28, 28 + 8 * n, 0, 0, *table) + data


def _save() -> tuple[Any, ...]:
    return (
        squall_locale._default_locale,
        squall_locale._translations,
        squall_locale._supported_locales,
        squall_locale._use_gettext,
        tornado.locale._default_locale,
        tornado.locale._translations,
        tornado.locale._supported_locales,
        tornado.locale._use_gettext,
    )


@pytest.fixture(autouse=True)
def restore_state() -> Iterator[None]:
    saved = _save()
    yield
    (
        squall_locale._default_locale,
        squall_locale._translations,
        squall_locale._supported_locales,
        squall_locale._use_gettext,
        tornado.locale._default_locale,
        tornado.locale._translations,
        tornado.locale._supported_locales,
        tornado.locale._use_gettext,
    ) = saved
    squall_locale.Locale._cache.clear()
    tornado.locale.Locale._cache.clear()


@pytest.fixture
def csv_loaded(tmp_path: Path) -> None:
    for code, text in CSV.items():
        (tmp_path / f"{code}.csv").write_text(text, encoding="utf-8")
    squall_locale.load_translations(str(tmp_path))
    tornado.locale.load_translations(str(tmp_path))
    squall_locale.Locale._cache.clear()
    tornado.locale.Locale._cache.clear()


@pytest.fixture
def gettext_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "fr_FR" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "app.mo").write_bytes(make_mo(MO_ENTRIES))
    squall_locale.load_gettext_translations(str(tmp_path), "app")
    tornado.locale.load_gettext_translations(str(tmp_path), "app")
    squall_locale.Locale._cache.clear()
    tornado.locale.Locale._cache.clear()


NOW = datetime.datetime.now(datetime.UTC)
DATES = [
    NOW - datetime.timedelta(seconds=3),
    NOW - datetime.timedelta(minutes=1, seconds=5),
    NOW - datetime.timedelta(minutes=30),
    NOW - datetime.timedelta(hours=5),
    NOW - datetime.timedelta(days=1, hours=2),
    NOW - datetime.timedelta(days=3),
    NOW - datetime.timedelta(days=40),
    NOW - datetime.timedelta(days=500),
    NOW + datetime.timedelta(days=3),
    datetime.datetime(2001, 2, 3, 16, 5),
    datetime.datetime(2001, 2, 3, 0, 5, tzinfo=datetime.UTC),
    981216300.0,
]


def same(call: str, *args: Any, **kwargs: Any) -> Any:
    """Assert both locales give the same answer; return it."""
    ours = getattr(_current["squall"], call)(*args, **kwargs)
    theirs = getattr(_current["tornado"], call)(*args, **kwargs)
    assert ours == theirs, (call, args, kwargs)
    return ours


_current: dict[str, Any] = {}


@pytest.mark.parametrize(
    "codes",
    [
        ("es_LA",),
        ("es-la",),
        ("es",),
        ("fa_IR",),
        ("zh_CN",),
        ("fr_CA",),
        ("de", "fr"),
        ("en",),
        ("en_US",),
        ("x_y_z", ""),
    ],
)
def test_csv_locales_format_like_tornado(csv_loaded: None, codes: tuple[str, ...]) -> None:
    _current["squall"] = squall_locale.get(*codes)
    _current["tornado"] = tornado.locale.get(*codes)
    assert _current["squall"].code == _current["tornado"].code
    assert _current["squall"].rtl == _current["tornado"].rtl
    same("translate", "Sunday")
    same("translate", "%(name)s liked this", "%(name)s liked this", 1)
    same("translate", "%(name)s liked this", "%(name)s liked this", 2)
    same("translate", "no such message", "no such messages", 2)
    same("pgettext", "ctx", "Sunday")
    for date in DATES:
        for options in (
            {},
            {"relative": False},
            {"shorter": True},
            {"full_format": True},
            {"gmt_offset": 300},
            {"gmt_offset": -120, "shorter": True},
        ):
            same("format_date", date, **options)
    same("format_day", datetime.datetime(2024, 1, 22, 3), gmt_offset=240)
    same("format_day", datetime.datetime(2024, 1, 22), dow=False)
    for parts in ([], ["a"], ["a", "b"], ["a", "b", "c"]):
        same("list", parts)
    for number in (0, 7, 1234, 1234567, -98765):
        same("friendly_number", number)


def test_supported_locales_and_default_like_tornado(csv_loaded: None) -> None:
    assert squall_locale.get_supported_locales() == tornado.locale.get_supported_locales()
    squall_locale.set_default_locale("fr")
    tornado.locale.set_default_locale("fr")
    assert squall_locale.get("de").code == tornado.locale.get("de").code == "fr"
    assert squall_locale.get_supported_locales() == tornado.locale.get_supported_locales()


def test_gettext_locale_like_tornado(gettext_loaded: None) -> None:
    _current["squall"] = squall_locale.get("fr_FR")
    _current["tornado"] = tornado.locale.get("fr_FR")
    assert same("translate", "Sunday") == "dimanche"
    for count in (0, 1, 2):
        same("translate", "apple", "apples", count)
        same("pgettext", "org", "club", "clubs", count)
        same("pgettext", "stick", "club", "clubs", count)
    assert same("pgettext", "law", "right") == "le droit"
    same("pgettext", "other", "right")
    assert same("list", ["a", "b", "c"]) == "a, b et c"
    same("format_day", datetime.datetime(2024, 1, 21))
    assert squall_locale.get_supported_locales() == tornado.locale.get_supported_locales()


def test_underscore_translates_in_tornado_syntax_templates(csv_loaded: None) -> None:
    es = squall_locale.get("es_LA")
    loader = DictLoader(
        {"t.html": "{{ _('Sunday') }} {{ _('%(name)s liked this', '%(name)s liked this', 2) }}"}
    )
    out = loader.load("t.html").generate(_=es.translate)
    assert out == "Domingo A %(name)s les gustó esto".encode()


class _Page(squall.web.RequestHandler):
    def get(self) -> None:
        self.render("page.html")


@pytest.mark.parametrize(
    ("syntax", "source"),
    [
        ("jinja2", "{{ _('Sunday') }}|{{ locale.code }}|{{ locale.list(['a', 'b']) }}"),
        ("tornado", "{{ _('Sunday') }}|{{ locale.code }}|{{ locale.list(['a', 'b']) }}"),
    ],
)
def test_underscore_translates_per_request_in_both_engines(
    csv_loaded: None, tmp_path: Path, squall_live_server: Any, syntax: str, source: str
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text(source, encoding="utf-8")
    app = squall.web.Application([(r"/", _Page)], template_path=str(folder), template_syntax=syntax)
    url = squall_live_server(app).url
    answer = httpx.get(url, headers={"Accept-Language": "es-LA;q=0.9, fr;q=0.2"}, timeout=10)
    assert answer.text == "Domingo|es_LA|a y b"
    answer = httpx.get(url, headers={"Accept-Language": "fr-CH"}, timeout=10)
    assert answer.text == "dimanche|fr|a and b"
