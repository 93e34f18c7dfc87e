"""Whitespace modes of Tornado templates (``{% whitespace %}``, ``template_whitespace``).

- ``all``: text is kept as written;
- ``single``: runs of spaces/tabs become one space, and whitespace around a newline
  becomes that one newline;
- ``oneline``: every run of whitespace (newlines too) becomes one space.

Applied to literal text when a template is compiled, never to values.
"""

from __future__ import annotations

import re

MODES = ("all", "single", "oneline")

_BLANKS = re.compile(r"[\t ]+")
_AROUND_NEWLINE = re.compile(r"\s*\n\s*")
_ANY_SPACE = re.compile(r"\s+")


def check_mode(mode: object) -> str:
    """``mode`` when it is a whitespace mode.

    Raises:
        ValueError: any other value (the message lists the modes).
    """
    if mode not in MODES:
        raise ValueError(f"whitespace mode {mode!r} is not one of all, single, oneline")
    return str(mode)


def filter_whitespace(mode: str, text: str) -> str:
    """``text`` with its whitespace treated as ``mode`` says (see the module docstring).

    Raises:
        ValueError: ``mode`` is not a whitespace mode.
    """
    check_mode(mode)
    if mode == "single":
        return _AROUND_NEWLINE.sub("\n", _BLANKS.sub(" ", text))
    if mode == "oneline":
        return _ANY_SPACE.sub(" ", text)
    return text
