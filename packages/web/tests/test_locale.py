"""squall.web.locale (CSV and gettext translations, formatting) and RequestHandler.locale."""

from __future__ import annotations

import datetime
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from squall.web import Application, RequestHandler
from squall.web import locale as web_locale


@pytest.fixture(autouse=True)
def fresh_locale_state() -> Iterator[None]:
    saved = (
        web_locale._default_locale,
        web_locale._translations,
        web_locale._supported_locales,
        web_locale._use_gettext,
    )
    web_locale.Locale._cache.clear()
    yield
    (
        web_locale._default_locale,
        web_locale._translations,
        web_locale._supported_locales,
        web_locale._use_gettext,
    ) = saved
    web_locale.Locale._cache.clear()


def write_csv(folder: Path, code: str, text: str, encoding: str = "utf-8") -> None:
    (folder / f"{code}.csv").write_bytes(text.encode(encoding))


def make_mo(entries: dict[str, str]) -> bytes:
    """A gettext .mo catalogue (little-endian) holding ``entries`` (msgid -> msgstr)."""
    header = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"
    items = sorted({"": header, **entries}.items())
    ids = [k.encode() for k, _ in items]
    strs = [v.encode() for _, v in items]
    n = len(items)
    start = 7 * 4 + 16 * n
    offsets: list[int] = []
    data = b""
    for s in ids + strs:
        offsets += [len(s), start + len(data)]
        data += s + b"\0"
    table_ids = struct.pack(f"<{2 * n}I", *offsets[: 2 * n])
    table_strs = struct.pack(f"<{2 * n}I", *offsets[2 * n :])
    head = struct.pack("<7I", 0x950412DE, 0, n, 28, 28 + 8 * n, 0, 0)
    return head + table_ids + table_strs + data


def write_mo(folder: Path, lang: str, domain: str, entries: dict[str, str]) -> None:
    target = folder / lang / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / f"{domain}.mo").write_bytes(make_mo(entries))


def test_csv_translations_simple_and_plural(tmp_path: Path) -> None:
    write_csv(
        tmp_path,
        "es_LA",
        '"I love you","Te amo"\n'
        '"%(name)s liked this","A %(name)s les gustó esto","plural"\n'
        '"%(name)s liked this","A %(name)s le gustó esto","singular"\n',
    )
    web_locale.load_translations(str(tmp_path))
    es = web_locale.get("es_LA")
    assert es.translate("I love you") == "Te amo"
    assert (
        es.translate("%(name)s liked this", "%(name)s liked this", 1) == "A %(name)s le gustó esto"
    )
    assert (
        es.translate("%(name)s liked this", "%(name)s liked this", 2) == "A %(name)s les gustó esto"
    )
    assert es.translate("untranslated") == "untranslated"
    assert es.translate("one", "many", 5) == "many"
    assert web_locale.get_supported_locales() == frozenset({"es_LA", "en_US"})


def test_csv_encodings_detected_by_byte_order_mark(tmp_path: Path) -> None:
    write_csv(tmp_path, "fr", '"Sunday","Dimanche"\n', "utf-16")
    write_csv(tmp_path, "de", '\ufeff"Sunday","Sonntag"\n')
    web_locale.load_translations(str(tmp_path))
    assert web_locale.get("fr").translate("Sunday") == "Dimanche"
    assert web_locale.get("de").translate("Sunday") == "Sonntag"


def test_csv_bad_file_name_and_bad_plural_are_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_csv(tmp_path, "Not-A-Code", '"a","b"\n')
    write_csv(tmp_path, "pt", '"a","b","sometimes"\n"c","d"\n')
    web_locale.load_translations(str(tmp_path))
    assert web_locale.get_supported_locales() == frozenset({"pt", "en_US"})
    assert web_locale.get("pt").translate("a") == "a"
    assert web_locale.get("pt").translate("c") == "d"
    assert "'Not-A-Code' is not a locale code" in caplog.text
    assert "plural indicator 'sometimes'" in caplog.text


def test_get_closest_matches_exactly_then_by_language_then_default(tmp_path: Path) -> None:
    write_csv(tmp_path, "es", '"a","b"\n')
    write_csv(tmp_path, "pt_BR", '"a","c"\n')
    web_locale.load_translations(str(tmp_path))
    assert web_locale.get("pt-br").code == "pt_BR"
    assert web_locale.get("es_MX").code == "es"
    assert web_locale.get("xx", "", "a_b_c", "ES").code == "es"
    assert web_locale.get("de").code == "en_US"
    web_locale.set_default_locale("pt_BR")
    assert web_locale.get("de").code == "pt_BR"


def test_unsupported_locale_code_is_refused() -> None:
    with pytest.raises(LookupError, match="'xx_YY' is not supported"):
        web_locale.Locale.get("xx_YY")


def test_gettext_translations_with_plural_and_context(tmp_path: Path) -> None:
    write_mo(
        tmp_path,
        "fr_FR",
        "app",
        {
            "school": "école",
            "apple\0apples": "pomme\0pommes",
            "law\x04right": "le droit",
            "good\x04right": "le bien",
            "org\x04club\0clubs": "le club\0les clubs",
        },
    )
    web_locale.load_gettext_translations(str(tmp_path), "app")
    fr = web_locale.get("fr_FR")
    assert isinstance(fr, web_locale.GettextLocale)
    assert fr.translate("school") == "école"
    assert fr.translate("apple", "apples", 1) == "pomme"
    assert fr.translate("apple", "apples", 3) == "pommes"
    assert fr.pgettext("law", "right") == "le droit"
    assert fr.pgettext("good", "right") == "le bien"
    assert fr.pgettext("other", "right") == "right"
    assert fr.pgettext("org", "club", "clubs", 2) == "les clubs"
    assert fr.pgettext("stick", "club", "clubs", 2) == "clubs"


def test_format_day_list_and_friendly_number() -> None:
    en = web_locale.get("en_US")
    day = datetime.datetime(2024, 1, 22)
    assert en.format_day(day) == "Monday, January 22"
    assert en.format_day(day, dow=False) == "January 22"
    assert en.list([]) == ""
    assert en.list(["A"]) == "A"
    assert en.list(["A", "B", "C"]) == "A, B and C"
    assert en.friendly_number(1234567) == "1,234,567"


def test_format_date_relative_and_absolute() -> None:
    en = web_locale.get("en_US")
    now = datetime.datetime.now(datetime.UTC)
    assert en.format_date(now - datetime.timedelta(seconds=5)) == "5 seconds ago"
    assert en.format_date(now - datetime.timedelta(minutes=1)) == "1 minute ago"
    assert en.format_date(now - datetime.timedelta(hours=3)) == "3 hours ago"
    old = datetime.datetime(2001, 2, 3, 16, 5)
    assert en.format_date(old) == "February 3, 2001 at 4:05 pm"
    assert en.format_date(old, shorter=True) == "February 3, 2001"
    assert en.format_date(old, gmt_offset=60) == "February 3, 2001 at 3:05 pm"
    future = now + datetime.timedelta(days=400)
    assert str(future.year) in en.format_date(future)


class _ShowLocale(RequestHandler):
    def get(self) -> None:
        self.write(self.locale.code + "|" + self.locale.translate("Sunday"))


class _UserLocale(RequestHandler):
    def get_user_locale(self) -> web_locale.Locale:
        return web_locale.get("es")

    def get(self) -> None:
        self.write(self.locale.code)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en_US|Sunday"),
        ("es", "es|Domingo"),
        ("de-CH, fr;q=0.5, es;q=0.8", "es|Domingo"),
        ("es;q=0, fr;q=0.4", "fr|Dimanche"),
        ("es;q=bad, fr;q=0.1", "fr|Dimanche"),
        ("de, xx", "en_US|Sunday"),
    ],
)
def test_handler_locale_from_accept_language_q_values(
    tmp_path: Path, header: str | None, expected: str, squall_live_server: Any
) -> None:
    write_csv(tmp_path, "es", '"Sunday","Domingo"\n')
    write_csv(tmp_path, "fr", '"Sunday","Dimanche"\n')
    web_locale.load_translations(str(tmp_path))
    app = Application([(r"/", _ShowLocale), (r"/user", _UserLocale)], autoload_plugins=False)
    server = squall_live_server(app)
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        headers = {} if header is None else {"Accept-Language": header}
        assert client.get("/", headers=headers).text == expected
        assert client.get("/user", headers={"Accept-Language": "fr"}).text == "es"


@given(st.text(max_size=60))
def test_any_accept_language_header_gives_a_supported_locale(header: str) -> None:
    found = web_locale.from_accept_language(header)
    assert found.code in web_locale.get_supported_locales()


def test_accept_language_order_is_by_quality_then_position() -> None:
    header = "da, en-gb;q=0.8, en;q=0.7, fr;q=0.8, xx;q=nan, yy;q=-1"
    assert web_locale._codes_by_quality(header) == ["da", "en-gb", "fr", "en"]


def test_the_q_value_is_read_from_the_first_parameter_as_tornado_reads_it() -> None:
    # A language range with an extension after its q ("es;q=0.2;x=1") keeps q=0.2
    # (Tornado reads the first parameter alone); a q that is not first is not read.
    header = "es;q=0.2;x=1, fr;q=0.5, de;x=1;q=0.1"
    assert web_locale._codes_by_quality(header) == ["de", "fr", "es"]
