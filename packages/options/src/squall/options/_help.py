"""The text of ``--help``: every option with its type (or metavar), default and help,
grouped by the file (or explicit group) that defined it.

Layout (one line per option, long help wrapped under the description column)::

    Usage: t1.py [OPTIONS] [--] [ARGS...]

    t1.py:
      --port=INT                     哈哈 (default: 8000)
      --pppp=STR[,STR...]            (default: [])

    logging:
      --logging=LEVEL                ...

Groups of the user come first, in the order they were defined; the groups squall.options
defines itself (``help``, ``logging``, ``application``) come last.
"""

from __future__ import annotations

import datetime
import textwrap
from collections.abc import Iterable

from squall.options._option import Option

_NAME_WIDTH = 30
_WIDTH = 100


def _format_default(option: Option) -> str | None:
    value = option.default
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if option.multiple and isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) if value else "[]"
    if isinstance(value, str):
        return repr(value) if value == "" else value
    return str(value)


def option_usage(option: Option) -> str:
    """``--port=INT``, ``--pppp=STR[,STR...]``, ``--debug`` (bool), ``--x=METAVAR``."""
    if option.metavar:
        metavar = option.metavar
    elif option.choices:
        metavar = "|".join(option.choices)
    elif option.type is bool and not option.multiple:
        return option.flag
    else:
        metavar = option.type_label().upper()
        if option.multiple:
            metavar = f"{metavar}[,{metavar}...]"
    return f"{option.flag}={metavar}"


def _option_lines(option: Option) -> list[str]:
    usage = option_usage(option)
    description = option.help or ""
    default = _format_default(option)
    if default is not None:
        description = f"{description} (default: {default})".strip()
    indent = " " * (_NAME_WIDTH + 3)
    wrapped = textwrap.wrap(description, _WIDTH - len(indent)) or [""]
    if len(usage) <= _NAME_WIDTH:
        lines = [f"  {usage:<{_NAME_WIDTH}} {wrapped[0]}".rstrip()]
    else:
        lines = [f"  {usage}", f"{indent}{wrapped[0]}".rstrip()]
    lines += [f"{indent}{line}" for line in wrapped[1:]]
    return lines


def format_help(options: Iterable[Option], program: str) -> str:
    """The whole ``--help`` text, ending with a newline."""
    groups: dict[str, list[Option]] = {}
    builtin: dict[str, bool] = {}
    for option in options:
        groups.setdefault(option.group_name, []).append(option)
        builtin[option.group_name] = builtin.get(option.group_name, True) and option.builtin
    order = [g for g in groups if not builtin[g]] + [g for g in groups if builtin[g]]
    out = [f"Usage: {program} [OPTIONS] [--] [ARGS...]", ""]
    for group in order:
        out.append(f"{group}:")
        for option in groups[group]:
            out += _option_lines(option)
        out.append("")
    return "\n".join(out)
