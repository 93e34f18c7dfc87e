"""The tokenizer of Tornado's template language: source text in, tokens out.

Theory of operation
-------------------
A template is text with three kinds of markup: ``{{ expression }}``, ``{% tag %}`` and
``{# comment #}``. The scanner looks for the next ``{`` that starts one of them:

- ``{`` followed by anything else is text;
- in a run of three or more ``{`` the innermost pair opens the markup (``{{{x}}}`` is the
  text ``{`` then the expression ``x``: handy for LaTeX-like output);
- ``{{!``, ``{%!`` and ``{#!`` are escapes: the two braces are text and the ``!`` dropped.

Tokens are produced lazily (a generator), so a parser that stops at the first structural
error reports that error, not a later unclosed ``{{``. Every token carries the line it
starts on; errors carry the line where the unclosed markup began.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["text", "expr", "tag"]


class ParseError(Exception):
    """A template is not valid: the message names the file and the line.

    Attributes:
        message: what is wrong.
        filename: the template's name.
        lineno: the line (from 1) where the faulty markup starts.
    """

    def __init__(self, message: str, filename: str | None = None, lineno: int = 0) -> None:
        super().__init__(message, filename, lineno)
        self.message = message
        self.filename = filename
        self.lineno = lineno

    def __str__(self) -> str:
        return f"{self.message} at {self.filename}:{self.lineno}"


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of a template.

    ``kind`` is ``"text"`` (``value`` is literal text), ``"expr"`` (``value`` is the stripped
    Python expression of ``{{ }}``) or ``"tag"`` (``value`` is the stripped contents of
    ``{% %}``). ``line`` is where the token starts.
    """

    kind: TokenKind
    value: str
    line: int


_CLOSERS = {
    "{{": ("}}", "expression", "}}"),
    "{%": ("%}", "tag", "%}"),
    "{#": ("#}", "comment", "#}"),
}


def _markup_start(text: str, pos: int) -> int:
    """The index of the next ``{{``/``{%``/``{#`` at or after ``pos`` (-1 when none)."""
    n = len(text)
    while True:
        brace = text.find("{", pos)
        if brace == -1 or brace + 1 >= n:
            return -1
        nxt = text[brace + 1]
        if nxt not in "{%#":
            pos = brace + 1
            continue
        if nxt == "{" and brace + 2 < n and text[brace + 2] == "{":
            pos = brace + 1  # a run of braces: the innermost pair opens the markup
            continue
        return brace


def tokenize(source: str, filename: str) -> Iterator[Token]:
    """Yield the tokens of ``source`` (comments dropped, escapes turned into text).

    Raises:
        ParseError: unclosed or empty markup (raised when the scan reaches it).
    """
    pos = 0
    line = 1
    n = len(source)
    while pos < n:
        start = _markup_start(source, pos)
        if start == -1:
            yield Token("text", source[pos:], line)
            return
        if start > pos:
            chunk = source[pos:start]
            yield Token("text", chunk, line)
            line += chunk.count("\n")
        opener = source[start : start + 2]
        pos = start + 2
        if pos < n and source[pos] == "!":
            yield Token("text", opener, line)
            pos += 1
            continue
        closer, what, shown = _CLOSERS[opener]
        end = source.find(closer, pos)
        if end == -1:
            raise ParseError(
                f"{what} opened with {opener} is never closed with {shown}", filename, line
            )
        body = source[pos:end]
        token_line = line
        line += body.count("\n")
        pos = end + 2
        if opener == "{#":
            continue
        contents = body.strip()
        if not contents:
            raise ParseError(f"empty {what} {opener} {shown}", filename, token_line)
        yield Token("expr" if opener == "{{" else "tag", contents, token_line)
