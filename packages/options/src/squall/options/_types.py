"""Turning text into typed option values, and checking Python values against a type.

Strategy: one table maps each supported type to a text parser (``int("9000")``, the
timedelta grammar below, ...). Text comes from the command line, the environment and string
values in config files; Python values (assignment in code, Python config files, TOML) are
*checked* rather than parsed, with the few lossless widenings a user expects (an ``int`` for
a ``float`` option, a number of seconds for a ``timedelta``). Any other type is called on
the text, as Tornado does (``type=Path`` works).

Parsers raise ``ValueError`` with a short reason; the caller (``_option.Option``) turns it
into the one-line ``OptionValueError`` that names the option.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

# --------------------------------------------------------------------------------------
# bool: strict, so that a typo (--debug=ture) is an error rather than silently True.
# --------------------------------------------------------------------------------------

_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})


def parse_bool(text: str) -> bool:
    """``true/false/1/0/yes/no/on/off`` (any case) → bool."""
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError("expected true/false, 1/0, yes/no or on/off")


# --------------------------------------------------------------------------------------
# datetime: ISO 8601 through the stdlib first, then the other forms Tornado accepts.
# --------------------------------------------------------------------------------------

_DATETIME_FORMATS = (
    "%a %b %d %H:%M:%S %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%H:%M:%S",
    "%H:%M",
)


def parse_datetime(text: str) -> datetime.datetime:
    """``2024-05-01``, ``2024-05-01T12:30``, ``2024-05-01 12:30:15+02:00``, ``...Z`` and
    Tornado's forms (``20240501 12:30``, ``Wed May 01 12:30:00 2024``, ``12:30``)."""
    stripped = text.strip()
    try:
        return datetime.datetime.fromisoformat(stripped)
    except ValueError:
        pass
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.datetime.strptime(stripped, fmt)
        except ValueError:
            continue
    raise ValueError("expected a date/time such as 2024-05-01 or 2024-05-01T12:30:00")


# --------------------------------------------------------------------------------------
# timedelta: a sum of "<number><unit>" terms and optional H:MM[:SS] clocks, so that
# "90s", "1h30m", "2 days", "1.5h", "45", "5 minutes", "1w", "2d 3h", "1 day, 2:00:00"
# (str(timedelta)) and "-5m" all parse. A bare number is seconds (Tornado's rule).
# --------------------------------------------------------------------------------------

_UNITS: dict[str, str] = {}
for _unit, _aliases in {
    "weeks": ("w", "wk", "wks", "week", "weeks"),
    "days": ("d", "day", "days"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "minutes": ("m", "min", "mins", "minute", "minutes"),
    "seconds": ("", "s", "sec", "secs", "second", "seconds"),
    "milliseconds": ("ms", "msec", "msecs", "millisecond", "milliseconds"),
    "microseconds": ("us", "usec", "usecs", "microsecond", "microseconds"),
}.items():
    for _alias in _aliases:
        _UNITS[_alias] = _unit

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_TERM = re.compile(rf"\s*(?P<num>{_NUMBER})\s*(?P<unit>[a-zA-Zµ]*)\s*,?")
_CLOCK = re.compile(r"\s*(?P<sign>[-+]?)(?P<h>\d+):(?P<m>\d{1,2})(?::(?P<s>\d{1,2}(?:\.\d+)?))?\s*")


def parse_timedelta(text: str) -> datetime.timedelta:
    """Parse a duration: ``90s``, ``1h30m``, ``2 days``, ``45`` (seconds), ``1.5h``."""
    total = datetime.timedelta()
    pos, end, terms = 0, len(text), 0
    while pos < end:
        clock = _CLOCK.match(text, pos)
        if clock is not None:
            part = datetime.timedelta(
                hours=int(clock["h"]), minutes=int(clock["m"]), seconds=float(clock["s"] or 0)
            )
            total += -part if clock["sign"] == "-" else part
            pos, terms = clock.end(), terms + 1
            continue
        term = _TERM.match(text, pos)
        if term is None or term.end() == pos:
            break
        unit = _UNITS.get(term["unit"].lower())
        if unit is None:
            raise ValueError(f"unknown time unit {term['unit']!r}")
        total += datetime.timedelta(**{unit: float(term["num"])})
        pos, terms = term.end(), terms + 1
    if terms == 0 or text[pos:].strip():
        raise ValueError("expected a duration such as 90s, 1h30m, 2 days or 45")
    return total


# --------------------------------------------------------------------------------------
# dict: JSON object, or "key=value,key=value" (values stay strings).
# --------------------------------------------------------------------------------------


def parse_dict(text: str) -> dict[str, Any]:
    """``{"a": 1}`` (JSON) or ``a=1,b=2`` (strings) → dict."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON object ({exc.msg})") from None
        if not isinstance(value, dict):
            raise ValueError("expected a JSON object")
        return value
    result: dict[str, Any] = {}
    if not stripped:
        return result
    for item in stripped.split(","):
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise ValueError("expected key=value pairs separated by commas, or a JSON object")
        result[key.strip()] = val.strip()
    return result


def _parse_str(text: str) -> str:
    return text


_PARSERS: dict[Any, Callable[[str], Any]] = {
    str: _parse_str,
    int: lambda text: int(text.strip()),
    float: lambda text: float(text.strip()),
    bool: parse_bool,
    datetime.datetime: parse_datetime,
    datetime.timedelta: parse_timedelta,
    dict: parse_dict,
}


def type_name(type_: Any) -> str:
    """The name used in messages and help: ``int``, ``datetime``, ``timedelta``, ``Path``."""
    name = getattr(type_, "__name__", None)
    return name if isinstance(name, str) else repr(type_)


def parse_text(type_: Any, text: str) -> Any:
    """Parse one value (not a comma-separated list) of ``type_`` from ``text``."""
    parser = _PARSERS.get(type_)
    if parser is not None:
        return parser(text)
    # A user type: call it on the text (Tornado's rule); its own errors become ValueError.
    try:
        return type_(text)
    except ValueError:
        raise
    except Exception as exc:  # a user type may raise anything; report it as a bad value
        raise ValueError(str(exc)) from None


MAX_RANGE = 1_000_000
"""The most values one ``lo:hi`` range may expand to."""


def parse_int_range(text: str) -> list[int]:
    """``"1:3"`` → ``[1, 2, 3]``; ``"5"`` → ``[5]`` (int multiple options)."""
    lo_text, sep, hi_text = text.partition(":")
    lo = int(lo_text.strip())
    if not sep:
        return [lo]
    hi = int(hi_text.strip())
    if hi < lo:
        raise ValueError(f"empty range {lo}:{hi}")
    if hi - lo >= MAX_RANGE:
        # A typo such as 1:10000000000 must be an error, not a process eating all memory.
        raise ValueError(f"range {lo}:{hi} longer than {MAX_RANGE} values")
    return list(range(lo, hi + 1))


def check_value(type_: Any, value: Any) -> Any:
    """Check a Python value against ``type_``; return it, possibly widened.

    Widenings: an ``int`` for a ``float``; a number (seconds) for a ``timedelta``; a
    ``date`` (a TOML local date) for a ``datetime``, at midnight as the text ``2024-05-01``
    would give. ``bool`` is not an ``int`` here, so ``port = True`` in a config file is an
    error rather than port 1.
    """
    if (
        type_ is datetime.datetime
        and isinstance(value, datetime.date)
        and not isinstance(value, datetime.datetime)
    ):
        return datetime.datetime.combine(value, datetime.time())
    if type_ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (
        type_ is datetime.timedelta
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return datetime.timedelta(seconds=value)
    if type_ is int and isinstance(value, bool):
        raise ValueError("expected int, got bool")
    if isinstance(type_, type) and not isinstance(value, type_):
        raise ValueError(f"expected {type_name(type_)}, got {type(value).__name__}")
    return value
