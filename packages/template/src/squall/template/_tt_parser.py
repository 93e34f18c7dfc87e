"""The parser of Tornado's template language: tokens in, a tree of nodes out.

Rules
-----
- Blocks that hold a body (``if``, ``for``, ``while``, ``try``, ``block``, ``apply``) end
  with ``{% end %}``. ``else`` may continue ``if``/``for``/``while``/``try``; ``elif`` only
  ``if``; ``except`` and ``finally`` only ``try``.
- ``break``/``continue`` are allowed inside a ``for``/``while`` body, not inside an
  ``apply`` body (which becomes a function of its own, so the loop is out of reach).
- ``{% autoescape X %}`` applies to the whole file (it is a property of the template, read
  when its code is generated); ``{% whitespace mode %}`` applies to the text after it.
- ``{% comment ... %}`` and ``{# ... #}`` produce nothing.

The tree is plain data (dataclasses); ``_tt_codegen`` turns it into Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from squall.template._tt_lexer import ParseError, Token, tokenize
from squall.template._tt_whitespace import check_mode


@dataclass(slots=True)
class Text:
    """Literal text, whitespace-filtered with ``mode`` when the code is generated."""

    value: str
    line: int
    mode: str


@dataclass(slots=True)
class Output:
    """``{{ expr }}`` (escaped with the template's autoescape) or ``{% raw expr %}``."""

    expr: str
    line: int
    raw: bool


@dataclass(slots=True)
class Statement:
    """A Python statement run in place: ``set``, ``import``, ``from``, ``break``, ``continue``."""

    code: str
    line: int


@dataclass(slots=True)
class Branch:
    """``else``/``elif``/``except``/``finally``: closes the previous clause, opens the next."""

    code: str
    line: int


@dataclass(slots=True)
class Control:
    """``if``/``for``/``while``/``try`` with its body (which may hold ``Branch`` nodes)."""

    code: str
    line: int
    body: list[Node]


@dataclass(slots=True)
class Block:
    """``{% block name %}``: a body a child template (``extends``) may replace."""

    name: str
    line: int
    body: list[Node]


@dataclass(slots=True)
class Extends:
    """``{% extends "base.html" %}``."""

    name: str
    line: int


@dataclass(slots=True)
class Include:
    """``{% include "part.html" %}``: the other template's body, inlined here."""

    name: str
    line: int


@dataclass(slots=True)
class Apply:
    """``{% apply func %}...{% end %}``: ``func`` receives the rendered body."""

    func: str
    line: int
    body: list[Node]


Node = Text | Output | Statement | Branch | Control | Block | Extends | Include | Apply

_CONTINUES = {
    "else": ("if", "for", "while", "try"),
    "elif": ("if",),
    "except": ("try",),
    "finally": ("try",),
}
_NESTING = ("if", "for", "while", "try", "block", "apply")
_LOOPS = ("for", "while")


@dataclass(slots=True)
class ParsedTemplate:
    """What the parser learned from one file."""

    name: str
    body: list[Node]
    autoescape_set: bool = False
    """Whether an ``{% autoescape %}`` tag was found (then ``autoescape`` is its value)."""
    autoescape: str | None = None
    extends: list[Extends] = field(default_factory=list)


def _unquote(value: str) -> str:
    return value.strip('"').strip("'")


class _Parser:
    def __init__(self, source: str, name: str, whitespace: str) -> None:
        self.tokens: Iterator[Token] = tokenize(source, name)
        self.name = name
        self.mode = whitespace
        self.result = ParsedTemplate(name, [])

    def error(self, message: str, line: int) -> ParseError:
        return ParseError(message, self.name, line)

    def body(self, opened_by: str | None, opened_at: int, in_loop: bool) -> list[Node]:
        """Nodes up to the ``{% end %}`` of ``opened_by`` (or the end of the file)."""
        nodes: list[Node] = []
        for token in self.tokens:
            if token.kind == "text":
                nodes.append(Text(token.value, token.line, self.mode))
            elif token.kind == "expr":
                nodes.append(Output(token.value, token.line, raw=False))
            elif self.tag(token, nodes, opened_by, in_loop):
                return nodes
        if opened_by is not None:
            raise self.error(
                f"{{% {opened_by} %}} opened at line {opened_at} has no {{% end %}}", opened_at
            )
        return nodes

    def tag(self, token: Token, nodes: list[Node], opened_by: str | None, in_loop: bool) -> bool:
        """Handle one ``{% %}`` token; True when it is the ``end`` of the open block."""
        line = token.line
        word, _, rest = token.value.partition(" ")
        arg = rest.strip()
        if word in _CONTINUES:
            allowed = _CONTINUES[word]
            if opened_by is None:
                raise self.error(f"{{% {word} %}} outside a {'/'.join(allowed)} block", line)
            if opened_by not in allowed:
                raise self.error(f"{{% {word} %}} cannot continue a {opened_by} block", line)
            nodes.append(Branch(token.value, line))
        elif word == "end":
            if opened_by is None:
                raise self.error("{% end %} without an open block", line)
            return True
        elif word in _NESTING:
            if word in ("block", "apply") and not arg:
                what = "a name" if word == "block" else "a function"
                raise self.error(f"{{% {word} %}} needs {what}", line)
            inner_loop = word in _LOOPS or (in_loop and word != "apply")
            body = self.body(word, line, inner_loop)
            if word == "block":
                nodes.append(Block(arg, line, body))
            elif word == "apply":
                nodes.append(Apply(arg, line, body))
            else:
                nodes.append(Control(token.value, line, body))
        elif word in ("break", "continue"):
            if not in_loop:
                raise self.error(f"{{% {word} %}} outside a for/while loop", line)
            nodes.append(Statement(token.value, line))
        else:
            self.simple(word, arg, token, nodes)
        return False

    def simple(self, word: str, arg: str, token: Token, nodes: list[Node]) -> None:
        """Tags without a body."""
        line = token.line
        if word == "comment":
            return
        if word in ("extends", "include"):
            target = _unquote(arg)
            if not target:
                raise self.error(f"{{% {word} %}} needs a template name", line)
            if word == "extends":
                node = Extends(target, line)
                self.result.extends.append(node)
                nodes.append(node)
            else:
                nodes.append(Include(target, line))
        elif word in ("import", "from", "set"):
            if not arg:
                raise self.error(f"{{% {word} %}} needs a statement", line)
            nodes.append(Statement(arg if word == "set" else token.value, line))
        elif word == "autoescape":
            self.result.autoescape_set = True
            self.result.autoescape = None if arg == "None" else arg
        elif word == "whitespace":
            try:
                check_mode(arg)
            except ValueError as exc:
                raise self.error(str(exc), line) from None
            self.mode = arg
        elif word == "raw":
            nodes.append(Output(arg, line, raw=True))
        elif word == "module":
            nodes.append(Output("_tt_modules." + arg, line, raw=True))
        else:
            raise self.error(f"unknown tag {{% {word} %}}", line)


def parse(source: str, name: str, whitespace: str) -> ParsedTemplate:
    """Parse one template file.

    Args:
        source: the template text.
        name: its name (in error messages and in the generated code's line comments).
        whitespace: the initial whitespace mode (``all``, ``single`` or ``oneline``).

    Raises:
        ParseError: the template is not valid (message, file and line).
    """
    parser = _Parser(source, name, whitespace)
    parser.result.body = parser.body(None, 0, False)
    return parser.result
