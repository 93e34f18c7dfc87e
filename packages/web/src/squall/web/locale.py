"""Translations and locale-aware formatting, with the API of ``tornado.locale``.

Load translations once at start-up, from CSV files (``load_translations(folder)``, one
``LANG.csv`` or ``lang_COUNTRY.csv`` per language) or from gettext catalogues
(``load_gettext_translations(folder, domain)``, ``folder/LANG/LC_MESSAGES/domain.mo``);
then ``get("fr_FR", "en")`` returns the closest supported ``Locale``, whose ``translate``
(``_`` in templates), ``pgettext``, ``format_date``, ``format_day``, ``list`` and
``friendly_number`` speak that language. ``RequestHandler.locale`` picks one per request
(``get_user_locale()``, else the ``Accept-Language`` header).

As in Tornado the loaded translations are process-wide (module state): messages are
written in the default locale (``en_US`` unless ``set_default_locale`` says otherwise), and
a message without a translation is returned as written.

CSV format: ``"message","translation"`` rows, with an optional third column ``singular`` or
``plural`` (or ``unknown``/empty) telling which form of a plural message the row gives.
Files are UTF-8 (a byte-order mark selects UTF-16 or UTF-8-with-BOM) unless an encoding is
passed.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import gettext
import glob
import logging
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

gen_log = logging.getLogger("squall.general")

CONTEXT_SEPARATOR = "\x04"
"""What gettext puts between a ``pgettext`` context and its message."""

_default_locale = "en_US"
_translations: dict[str, Any] = {}
_supported_locales: frozenset[str] = frozenset([_default_locale])
_use_gettext = False

_CSV_NAME = re.compile(r"[a-z]+(_[A-Z]+)?$")
_PLURAL_KINDS = ("plural", "singular", "unknown")


def get(*locale_codes: str) -> Locale:
    """The closest supported locale to the codes, tried in order (the default otherwise).

    A code matches exactly (``es_GT``) or by its language (``es`` for ``es_GT``); ``-`` and
    ``_`` are the same and the case is normalised (``en-us`` is ``en_US``).
    """
    return Locale.get_closest(*locale_codes)


def set_default_locale(code: str) -> None:
    """Make ``code`` the language messages are written in (and the fallback locale)."""
    global _default_locale, _supported_locales
    _default_locale = code
    _supported_locales = frozenset([*_translations, _default_locale])
    Locale._cache.clear()


def get_supported_locales() -> frozenset[str]:
    """The codes of every loaded translation, plus the default locale."""
    return _supported_locales


def _encoding_of(path: str) -> str:
    with open(path, "rb") as f:
        start = f.read(2)
    return "utf-16" if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"


def load_translations(directory: str, encoding: str | None = None) -> None:
    """Load every ``LOCALE.csv`` file of ``directory`` (replacing what was loaded before).

    Files whose name is not a locale code (``es``, ``es_GT``) and rows with an unknown
    plural indicator are skipped with an error logged on ``squall.general``.
    """
    global _translations, _supported_locales, _use_gettext
    loaded: dict[str, dict[str, dict[str, str]]] = {}
    for filename in sorted(os.listdir(directory)):
        if not filename.endswith(".csv"):
            continue
        code = filename[: -len(".csv")]
        path = os.path.join(directory, filename)
        if not _CSV_NAME.match(code):
            gen_log.error("translation file %s: %r is not a locale code", path, code)
            continue
        with open(path, encoding=encoding or _encoding_of(path), newline="") as f:
            table: dict[str, dict[str, str]] = {}
            for number, row in enumerate(csv.reader(f), start=1):
                if len(row) < 2:
                    continue
                cells = [cell.strip() for cell in row]
                kind = (cells[2] if len(cells) > 2 else "") or "unknown"
                if kind not in _PLURAL_KINDS:
                    gen_log.error(
                        "translation file %s line %d: plural indicator %r is not "
                        "singular, plural or unknown",
                        path,
                        number,
                        kind,
                    )
                    continue
                table.setdefault(kind, {})[cells[0]] = cells[1]
        loaded[code] = table
    _translations = loaded
    _use_gettext = False
    _supported_locales = frozenset([*_translations, _default_locale])
    Locale._cache.clear()
    gen_log.debug("supported locales: %s", sorted(_supported_locales))


def load_gettext_translations(directory: str, domain: str) -> None:
    """Load gettext catalogues ``directory/LANG/LC_MESSAGES/domain.mo`` (replacing what was
    loaded before); a catalogue that cannot be read is skipped with an error logged."""
    global _translations, _supported_locales, _use_gettext
    loaded: dict[str, gettext.NullTranslations] = {}
    pattern = os.path.join(directory, "*", "LC_MESSAGES", domain + ".mo")
    for path in sorted(glob.glob(pattern)):
        lang = os.path.basename(os.path.dirname(os.path.dirname(path)))
        try:
            loaded[lang] = gettext.translation(domain, directory, languages=[lang])
        except Exception as exc:  # a broken catalogue must not stop the others
            gen_log.error("cannot load the translation of %r from %s: %s", lang, path, exc)
    _translations = loaded
    _use_gettext = True
    _supported_locales = frozenset([*_translations, _default_locale])
    Locale._cache.clear()
    gen_log.debug("supported locales: %s", sorted(_supported_locales))


class Locale:
    """One language: translations and formatting (get one with ``get`` / ``Locale.get``).

    Attributes:
        code: the locale code (``en_US``, ``fr``).
        rtl: whether the language is written right to left (Arabic, Persian, Hebrew).
    """

    _cache: dict[str, Locale] = {}

    @classmethod
    def get_closest(cls, *locale_codes: str) -> Locale:
        """See the module's ``get``."""
        for code in locale_codes:
            if not code:
                continue
            parts = code.replace("-", "_").split("_")
            if len(parts) > 2:
                continue
            language = parts[0].lower()
            if len(parts) == 2:
                code = language + "_" + parts[1].upper()
            if code in _supported_locales:
                return cls.get(code)
            if language in _supported_locales:
                return cls.get(language)
        return cls.get(_default_locale)

    @classmethod
    def get(cls, code: str) -> Locale:
        """The locale ``code`` (made once, then cached).

        Raises:
            LookupError: ``code`` is not supported (see ``get_supported_locales``).
        """
        found = cls._cache.get(code)
        if found is not None:
            return found
        if code not in _supported_locales:
            raise LookupError(f"locale {code!r} is not supported: {sorted(_supported_locales)}")
        translations = _translations.get(code)
        locale: Locale
        if translations is None:
            locale = CSVLocale(code, {})
        elif _use_gettext:
            locale = GettextLocale(code, translations)
        else:
            locale = CSVLocale(code, translations)
        cls._cache[code] = locale
        return locale

    def __init__(self, code: str) -> None:
        self.code = code
        self.rtl = code.startswith(("fa", "ar", "he"))
        _ = self.translate
        self._months = [
            _(m)
            for m in (
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            )
        ]
        self._weekdays = [
            _(d)
            for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        ]

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        """``message`` in this language; with ``plural_message``, the form for ``count``
        (the plural unless ``count == 1``)."""
        raise NotImplementedError

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """``translate`` within a context (``pgettext("law", "right")``): gettext only."""
        raise NotImplementedError

    def format_date(
        self,
        date: float | datetime.datetime,
        gmt_offset: int = 0,
        relative: bool = True,
        shorter: bool = False,
        full_format: bool = False,
    ) -> str:
        """A past date for people: ``2 minutes ago``, ``yesterday at 4:05 pm``,
        ``March 3 at ...``, ``March 3, 2019 at ...`` (a timestamp or a datetime; a naive
        datetime is UTC). ``gmt_offset`` is the reader's offset in minutes (as
        JavaScript's ``getTimezoneOffset``); ``relative=False`` drops "ago"/"yesterday";
        ``shorter`` drops the time; ``full_format`` always gives month, day and year. Dates
        in the future (beyond a minute) get the full format."""
        if isinstance(date, int | float):
            date = datetime.datetime.fromtimestamp(date, datetime.UTC)
        if date.tzinfo is None:
            date = date.replace(tzinfo=datetime.UTC)
        now = datetime.datetime.now(datetime.UTC)
        if date > now:
            if relative and (date - now).total_seconds() < 60:
                date = now
            else:
                full_format = True
        offset = datetime.timedelta(minutes=gmt_offset)
        local_date = date - offset
        local_yesterday = now - offset - datetime.timedelta(hours=24)
        difference = now - date
        seconds, days = difference.seconds, difference.days
        _ = self.translate
        pattern = None
        if not full_format:
            if relative and days == 0:
                if seconds < 50:
                    text = _("1 second ago", "%(seconds)d seconds ago", seconds)
                    return text % {"seconds": seconds}
                if seconds < 50 * 60:
                    minutes = round(seconds / 60.0)
                    text = _("1 minute ago", "%(minutes)d minutes ago", minutes)
                    return text % {"minutes": minutes}
                hours = round(seconds / 3600.0)
                return _("1 hour ago", "%(hours)d hours ago", hours) % {"hours": hours}
            if days == 0:
                pattern = _("%(time)s")
            elif days == 1 and local_date.day == local_yesterday.day and relative:
                pattern = _("yesterday") if shorter else _("yesterday at %(time)s")
            elif days < 5:
                pattern = _("%(weekday)s") if shorter else _("%(weekday)s at %(time)s")
            elif days < 334:  # about 11 months: "March 3" could be last year's otherwise
                pattern = (
                    _("%(month_name)s %(day)s")
                    if shorter
                    else _("%(month_name)s %(day)s at %(time)s")
                )
        if pattern is None:
            pattern = (
                _("%(month_name)s %(day)s, %(year)s")
                if shorter
                else _("%(month_name)s %(day)s, %(year)s at %(time)s")
            )
        return pattern % {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
            "year": str(local_date.year),
            "time": self._clock(local_date),
        }

    def _clock(self, when: datetime.datetime) -> str:
        if self.code == "zh_CN":
            half = "\u4e0b\u5348" if when.hour >= 12 else "\u4e0a\u5348"
            return f"{half}{when.hour % 12 or 12}:{when.minute:02d}"
        if self.code in ("en", "en_US"):
            return f"{when.hour % 12 or 12}:{when.minute:02d} {'pm' if when.hour >= 12 else 'am'}"
        return f"{when.hour}:{when.minute:02d}"

    def format_day(self, date: datetime.datetime, gmt_offset: int = 0, dow: bool = True) -> str:
        """``Monday, January 22`` (``January 22`` with ``dow=False``) in this language."""
        local_date = date - datetime.timedelta(minutes=gmt_offset)
        values = {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
        }
        if dow:
            return self.translate("%(weekday)s, %(month_name)s %(day)s") % values
        return self.translate("%(month_name)s %(day)s") % values

    def list(self, parts: Sequence[str]) -> str:
        """``A, B and C`` (``A and B``, ``A``; empty for no parts) in this language."""
        if not parts:
            return ""
        if len(parts) == 1:
            return parts[0]
        comma = " \u0648 " if self.code.startswith("fa") else ", "
        return self.translate("%(commas)s and %(last)s") % {
            "commas": comma.join(parts[:-1]),
            "last": parts[-1],
        }

    def friendly_number(self, value: int) -> str:
        """``1,234,567`` in English locales; other locales get the plain digits."""
        if self.code not in ("en", "en_US"):
            return str(value)
        return f"{value:,}"


class CSVLocale(Locale):
    """A locale whose translations come from ``load_translations`` (CSV files)."""

    def __init__(self, code: str, translations: dict[str, dict[str, str]]) -> None:
        self.translations = translations
        super().__init__(code)

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        """See ``Locale.translate``."""
        if plural_message is None:
            table = self.translations.get("unknown", {})
        else:
            if count is None:
                raise TypeError("translate() with a plural_message needs a count")
            if count != 1:
                message = plural_message
                table = self.translations.get("plural", {})
            else:
                table = self.translations.get("singular", {})
        return table.get(message, message)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """CSV files have no contexts: the context is ignored (with a warning)."""
        if self.translations:
            gen_log.warning("pgettext: CSV translations have no contexts; %r ignored", context)
        return self.translate(message, plural_message, count)


class GettextLocale(Locale):
    """A locale whose translations come from ``load_gettext_translations``."""

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        self.ngettext = translations.ngettext
        self.gettext = translations.gettext
        super().__init__(code)

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        """See ``Locale.translate``."""
        if plural_message is None:
            return self.gettext(message)
        if count is None:
            raise TypeError("translate() with a plural_message needs a count")
        return self.ngettext(message, plural_message, count)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """See ``Locale.pgettext``: the message looked up under ``context``, falling back
        to the message without context."""
        if plural_message is None:
            found = self.gettext(f"{context}{CONTEXT_SEPARATOR}{message}")
            return message if CONTEXT_SEPARATOR in found else found
        if count is None:
            raise TypeError("pgettext() with a plural_message needs a count")
        found = self.ngettext(
            f"{context}{CONTEXT_SEPARATOR}{message}",
            f"{context}{CONTEXT_SEPARATOR}{plural_message}",
            count,
        )
        if CONTEXT_SEPARATOR in found:
            return self.ngettext(message, plural_message, count)
        return found


def _codes_by_quality(header: str) -> list[str]:
    """The language codes of an ``Accept-Language`` header, best first (``q=0`` dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        code, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.partition(";")[0].strip()  # as Tornado: q only as the first parameter
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
            if quality < 0:
                quality = 0.0
        if quality > 0 and code.strip():
            ranked.append((-quality, index, code.strip()))
    ranked.sort()
    return [code for _, _, code in ranked]


def from_accept_language(header: str | None, default: str = "en_US") -> Locale:
    """The locale an ``Accept-Language`` header asks for (q-values honoured), else
    ``default``'s closest match."""
    codes: Iterable[str] = _codes_by_quality(header) if header else ()
    codes = list(codes)
    return get(*codes) if codes else get(default)
