"""The code generator of Tornado's template language: a parsed tree in, Python source out.

Theory of operation
-------------------
A template becomes one function, ``_tt_execute()``, that appends ``bytes`` pieces to a list
and returns their concatenation. Its global names are the template's namespace (built per
``generate()``), so a ``{{ name }}`` is a global lookup and ``{% set x = 1 %}`` a local.

- ``{% extends %}``: the code of the *root* ancestor is generated; each ``{% block %}`` in
  it emits the body of the most derived template that defines that block (found by walking
  the chain root first, includes included). Text outside blocks in a child is dropped.
- ``{% include %}``: the other template's body is generated in place (it shares the local
  names, and its blocks can be overridden like any other).
- ``{% apply f %}``: the body becomes a nested function; ``f`` receives its bytes.
- Escaping: ``{{ x }}`` calls ``_tt_eN(x)``, where ``_tt_eN`` is a local bound once per call
  to the escaper of the autoescape function in force (see ``_tt_runtime``); the autoescape
  function is that of the template that *wrote* the expression (an included file or a
  block keeps its own).
- Every generated line ends with a ``# template:line`` comment, and ``line_map`` keeps the
  same (template, line, via) triple per line, so errors are reported against the template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from squall.template._tt_lexer import ParseError
from squall.template._tt_parser import (
    Apply,
    Block,
    Branch,
    Control,
    Extends,
    Include,
    Node,
    Output,
    ParsedTemplate,
    Statement,
    Text,
)
from squall.template._tt_whitespace import filter_whitespace


class Compiled(Protocol):
    """What the generator needs of a template (``squall.template.Template`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def autoescape(self) -> str | None: ...

    @property
    def parsed(self) -> ParsedTemplate: ...


Load = Callable[[str, str], Compiled]
"""``load(name, parent_name)``: the template ``name`` as seen from ``parent_name``."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a generated line comes from."""

    template: str
    line: int
    via: tuple[tuple[str, int], ...]
    """The chain of (template, line) that led there: includes and overridden blocks."""

    def describe(self) -> str:
        """``"page.html", line 3`` (plus ``via base.html:7`` when inlined)."""
        text = f'"{self.template}", line {self.line}'
        if self.via:
            text += " (via " + ", ".join(f"{n}:{ln}" for n, ln in reversed(self.via)) + ")"
        return text


@dataclass(slots=True)
class Generated:
    """The Python source of one template and what maps it back."""

    source: str
    line_map: list[Origin]
    """``line_map[i]`` is the origin of line ``i + 1`` of ``source``."""
    escapers: dict[str, str]
    """Autoescape function name → the global the code reads its escaper from."""


def _ancestors(template: Compiled, load: Load | None) -> list[Compiled]:
    """``template`` and the templates it extends, most derived first."""
    chain = [template]
    for ext in template.parsed.extends:
        if load is None:
            raise ParseError("{% extends %} needs a template loader", template.name, ext.line)
        chain.extend(_ancestors(load(ext.name, template.name), load))
    return chain


class _Writer:
    def __init__(self, root: Compiled, load: Load | None) -> None:
        self.load = load
        self.current = root
        self.via: list[tuple[str, int]] = []
        self.lines: list[str] = []
        self.origins: list[Origin] = []
        self.depth = 1
        self.applies = 0
        self.escapers: dict[str, str] = {}  # function name -> local name
        self.blocks: dict[str, tuple[Block, Compiled]] = {}
        # Adjacent literal pieces become one append (same output, fewer calls).
        self.pending: list[bytes] = []
        self.pending_origin: Origin | None = None

    # -- emitting ----------------------------------------------------------------------

    def emit(self, code: str, line: int, depth: int | None = None) -> None:
        self.flush_text()
        self.write(code, Origin(self.current.name, line, tuple(self.via)), depth)

    def write(self, code: str, origin: Origin, depth: int | None = None) -> None:
        indent = "    " * (self.depth if depth is None else depth)
        comment = f"{origin.template}:{origin.line}"
        if origin.via:
            comment += " (via " + ", ".join(f"{n}:{ln}" for n, ln in reversed(origin.via)) + ")"
        self.lines.append(f"{indent}{code}  # {comment}")
        self.origins.append(origin)

    def flush_text(self) -> None:
        if self.pending and self.pending_origin is not None:
            self.write(f"_tt_append({b''.join(self.pending)!r})", self.pending_origin)
        self.pending = []
        self.pending_origin = None

    @contextmanager
    def inside(self, template: Compiled, line: int) -> Iterator[None]:
        self.via.append((self.current.name, line))
        previous, self.current = self.current, template
        try:
            yield
        finally:
            self.current = previous
            self.via.pop()

    @contextmanager
    def indented(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    # -- named blocks -------------------------------------------------------------------

    def find_blocks(self, nodes: list[Node], owner: Compiled) -> None:
        for node in nodes:
            if isinstance(node, Block):
                self.blocks[node.name] = (node, owner)
                self.find_blocks(node.body, owner)
            elif isinstance(node, Control | Apply):
                self.find_blocks(node.body, owner)
            elif isinstance(node, Include):
                included = self.include_target(node, owner)
                self.find_blocks(included.parsed.body, included)

    def include_target(self, node: Include, owner: Compiled) -> Compiled:
        if self.load is None:
            raise ParseError("{% include %} needs a template loader", owner.name, node.line)
        return self.load(node.name, owner.name)

    # -- nodes --------------------------------------------------------------------------

    def escaper(self, function: str) -> str:
        local = self.escapers.get(function)
        if local is None:
            local = self.escapers[function] = f"_tt_e{len(self.escapers)}"
        return local

    def nodes(self, nodes: list[Node]) -> None:
        for node in nodes:
            self.node(node)

    def node(self, node: Node) -> None:  # noqa: C901 - one branch per node type
        if isinstance(node, Text):
            self.text(node)
        elif isinstance(node, Output):
            self.output(node)
        elif isinstance(node, Statement):
            self.emit(node.code, node.line)
        elif isinstance(node, Control):
            self.emit(node.code + ":", node.line)
            with self.indented():
                self.nodes(node.body)
                self.emit("pass", node.line)  # an empty body is still a body
        elif isinstance(node, Branch):
            self.emit("pass", node.line)
            self.emit(node.code + ":", node.line, self.depth - 1)
        elif isinstance(node, Block):
            block, owner = self.blocks[node.name]
            with self.inside(owner, node.line):
                self.nodes(block.body)
        elif isinstance(node, Include):
            included = self.include_target(node, self.current)
            with self.inside(included, node.line):
                self.nodes(included.parsed.body)
        elif isinstance(node, Apply):
            self.apply(node)
        elif isinstance(node, Extends):
            pass  # handled by generate(): the root ancestor is what runs

    def text(self, node: Text) -> None:
        value = node.value
        # Preformatted text keeps its whitespace whatever the mode.
        if "<pre>" not in value:
            value = filter_whitespace(node.mode, value)
        if not value:
            return
        if self.pending_origin is None:
            self.pending_origin = Origin(self.current.name, node.line, tuple(self.via))
        self.pending.append(value.encode("utf-8"))

    def output(self, node: Output) -> None:
        autoescape = self.current.autoescape
        if node.raw or autoescape is None:
            self.emit(f"_tt_append(_tt_raw({node.expr}))", node.line)
        elif autoescape.isidentifier():
            self.emit(f"_tt_append({self.escaper(autoescape)}({node.expr}))", node.line)
        else:
            # An expression (``{% autoescape mod.func %}``) is evaluated where it is used.
            self.emit(f"_tt_append(_tt_escape_with({autoescape}, {node.expr}))", node.line)

    def apply(self, node: Apply) -> None:
        name = f"_tt_apply{self.applies}"
        self.applies += 1
        self.emit(f"def {name}():", node.line)
        with self.indented():
            self.emit("_tt_buffer = []", node.line)
            self.emit("_tt_append = _tt_buffer.append", node.line)
            self.nodes(node.body)
            self.emit("return b''.join(_tt_buffer)", node.line)
        self.emit(f"_tt_append(_tt_utf8({node.func}({name}())))", node.line)


def generate(template: Compiled, load: Load | None) -> Generated:
    """The Python source of ``template`` (see the module docstring).

    Args:
        template: the template to compile (its ``parsed`` tree).
        load: resolves ``extends``/``include`` names (None: a template without a loader).

    Raises:
        ParseError: an ``extends``/``include`` without a loader.
    """
    chain = _ancestors(template, load)
    chain.reverse()  # root first: more derived templates override its blocks
    root = chain[0]
    writer = _Writer(root, load)
    for ancestor in chain:
        writer.find_blocks(ancestor.parsed.body, ancestor)
    writer.nodes(root.parsed.body)
    writer.emit("return b''.join(_tt_buffer)", 0)
    body_lines, body_origins = writer.lines, writer.origins
    writer.lines, writer.origins = [], []
    writer.depth = 0
    writer.emit("def _tt_execute():", 0)
    writer.depth = 1
    writer.emit("_tt_buffer = []", 0)
    writer.emit("_tt_append = _tt_buffer.append", 0)
    globals_of: dict[str, str] = {}
    for function, local in writer.escapers.items():
        global_name = f"_tt_esc_{function}"
        globals_of[function] = global_name
        writer.emit(f"{local} = {global_name}", 0)
    return Generated(
        "\n".join(writer.lines + body_lines) + "\n",
        writer.origins + body_origins,
        globals_of,
    )
