"""URL rules, their precompiled patterns, reverse URLs and the prefix-indexed route table.

Rules of matching (as Tornado, and what the notes teach):

- A pattern is anchored at both ends (``re.fullmatch``: a trailing ``$`` is not needed and a
  trailing newline never matches).
- Named groups become keyword arguments of the handler's method, unnamed groups positional
  ones (when a pattern has named groups, only those are passed); each is percent-decoded
  (``%2F`` → ``/``, ``+`` stays ``+``) and decoded as UTF-8 by the handler (bad bytes → 400).
- The first rule that matches wins.

Why an index: a list of N rules costs N regex calls for a miss. Each rule's *literal
prefix* (the text before its first regex metacharacter) is computed once; a fully literal
pattern goes into an exact-path dict, a rule whose prefix covers a whole first path segment
(``/static/…``) is filed under that segment, and the rest ("wildcards" like ``/(.*)``) are
tried for every path. A lookup tries, in rule order, only the rules filed under the path's
first segment plus the wildcards, and stops at the exact-path rule when one exists and comes
first: order semantics are those of the plain list, the cost no longer grows with the number
of static-prefix routes.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from squall.web._handler import RequestHandler

_META = frozenset(".^$*+?{}[]\\|()")


class HandlerImportError(ImportError, TypeError):
    """A rule named its handler as ``"module.Class"`` and that name cannot be imported.

    An ImportError, as Tornado raises there; also a TypeError, as a rule whose handler is
    not a RequestHandler is.
    """

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"handler {name!r} cannot be imported: {why}")


def _import_handler(name: str) -> Any:
    """The object a rule names as ``"package.module.Class"`` (Tornado accepts such names)."""
    module_name, dot, attribute = name.rpartition(".")
    if not dot or not module_name or not attribute:
        raise HandlerImportError(name, "give the full name, as module.ClassName")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerImportError(name, str(exc)) from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise HandlerImportError(name, f"module {module_name!r} has no {attribute!r}") from None


_OPTIONAL_QUANTIFIERS = frozenset("*?{")


class URLSpec:
    """One rule: a pattern, the handler class, its ``initialize`` kwargs and an optional name.

    Args:
        pattern: a regular expression (string or compiled), anchored at both ends.
        handler: the RequestHandler subclass answering matching requests, or its full name
            (``"myapp.handlers.MainHandler"``, imported here, as Tornado does).
        kwargs: keyword arguments for the handler's ``initialize``.
        name: a name for ``reverse_url``.
    """

    __slots__ = (
        "regex",
        "pattern",
        "handler_class",
        "kwargs",
        "name",
        "has_named_groups",
        "has_groups",
        "_path",
        "_group_count",
    )

    def __init__(
        self,
        pattern: str | re.Pattern[str],
        handler: type[RequestHandler] | str,
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        handler_class: type[RequestHandler] = (
            _import_handler(handler) if isinstance(handler, str) else handler
        )
        if isinstance(pattern, str):
            source = pattern
            # Routing uses fullmatch, so the "$" changes no match; it is added to the compiled
            # pattern as Tornado adds it, for code that reads rule.regex.pattern and drops
            # its last character (tornado-swagger builds its paths so). `pattern` stays as given.
            self.regex = re.compile(pattern if pattern.endswith("$") else pattern + "$")
        else:
            source = pattern.pattern
            self.regex = pattern
        self.pattern = source
        self.handler_class = handler_class
        self.kwargs = kwargs or {}
        self.name = name
        self.has_named_groups = bool(self.regex.groupindex)
        self.has_groups = self.regex.groups > 0
        self._path, self._group_count = _reverse_template(source, self.regex)

    @property
    def target(self) -> type[RequestHandler]:
        """The handler class: Tornado's name for it on its rules (``rule.target``)."""
        return self.handler_class

    @property
    def target_kwargs(self) -> dict[str, Any]:
        """The ``initialize`` kwargs: Tornado's name for them (``rule.target_kwargs``)."""
        return self.kwargs

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.pattern!r}, {self.handler_class.__name__}, "
            f"kwargs={self.kwargs!r}, name={self.name!r})"
        )

    def reverse(self, *args: Any) -> str:
        """Fill the groups of the pattern with ``args`` (quoted) and return the path.

        Raises:
            ValueError: the pattern is too complex to reverse, or the number of arguments
                does not match the number of groups.
        """
        if self._path is None:
            raise ValueError(f"cannot reverse the pattern {self.pattern!r}: it is too complex")
        if len(args) != self._group_count:
            raise ValueError(
                f"the pattern {self.pattern!r} needs {self._group_count} argument(s) "
                f"to reverse, got {len(args)}"
            )
        if not args:
            return self._path
        converted = []
        for a in args:
            if not isinstance(a, str | bytes):
                a = str(a)
            converted.append(quote(a, safe="/"))
        return self._path % tuple(converted)


# ``url(r"/cc", Change, name="python_url")`` makes a rule. As in Tornado, ``url`` is the
# class itself, so programs that test ``isinstance(rule, url)`` (Flower's URL prefix
# rewriting) or subclass it keep working.
url = URLSpec


def to_urlspec(rule: Any) -> URLSpec:
    """Turn ``(regex, Handler)``, ``(regex, Handler, kwargs)`` or a URLSpec into a URLSpec."""
    if isinstance(rule, URLSpec):
        return rule
    if isinstance(rule, list | tuple) and 2 <= len(rule) <= 4:
        return URLSpec(*rule)
    raise TypeError(
        f"a rule must be (regex, Handler), (regex, Handler, kwargs) or url(...), got {rule!r}"
    )


def _reverse_template(source: str, regex: re.Pattern[str]) -> tuple[str | None, int]:
    """A ``%s`` template for ``reverse`` and its group count, or (None, n) when too complex.

    Simple patterns only: literal text and non-nested groups (as Tornado's reverse_url).
    """
    if source.startswith("^"):
        source = source[1:]
    if source.endswith("$"):
        source = source[:-1]
    if regex.groups != source.count("("):
        return None, regex.groups  # nested, non-capturing or escaped parentheses
    pieces: list[str] = []
    depth = 0
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "(":
            depth += 1
            if depth > 1:
                return None, regex.groups
            pieces.append("%s")
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            if ch == "\\" and i + 1 < len(source):
                nxt = source[i + 1]
                if nxt.isalnum():
                    return None, regex.groups
                pieces.append(nxt.replace("%", "%%"))
                i += 1
            elif ch in _META:
                return None, regex.groups
            else:
                pieces.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(pieces), regex.groups


def literal_prefix(source: str) -> tuple[str, bool]:
    """The literal text a pattern's matches must start with, and whether that is all of it.

    ``"/show/(.+)"`` → ``("/show/", False)``; ``"/about$"`` → ``("/about", True)``;
    ``"/ab?"`` → ``("/a", False)`` (an optional character is not part of the prefix);
    a top-level alternation or inline flags give ``("", False)``.
    """
    if _has_top_level_alternation(source) or source.startswith("(?"):
        return "", False
    if source.startswith("^"):
        source = source[1:]
    out: list[str] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "\\":
            if i + 1 < n and not source[i + 1].isalnum():
                lit, step = source[i + 1], 2
            else:
                break
        elif ch in _META:
            if ch == "$" and i == n - 1:
                return "".join(out), True
            break
        else:
            lit, step = ch, 1
        nxt = source[i + step] if i + step < n else ""
        if nxt and nxt in _OPTIONAL_QUANTIFIERS:
            break  # this character may be absent from a match
        out.append(lit)
        if nxt == "+":
            break  # at least one, then unknown: stop after it
        i += step
    else:
        return "".join(out), True
    return "".join(out), False


def _has_top_level_alternation(source: str) -> bool:
    depth = 0
    in_class = False
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


def first_segment(path: str) -> str:
    """``"/show/a/b"`` → ``"show"``; ``"/"`` → ``""``."""
    end = path.find("/", 1)
    return path[1:] if end < 0 else path[1:end]


class Router:
    """The rules of one host, indexed by literal prefix (see the module docstring)."""

    __slots__ = ("rules", "direct", "_exact", "_by_segment", "_wildcards", "_has_patterns")

    def __init__(self, rules: Sequence[URLSpec] = ()) -> None:
        self.rules: list[URLSpec] = []
        # The literal paths no earlier pattern rule could match: their rule is the answer
        # without a regex (the dispatcher looks here first; a miss goes through find()).
        self.direct: dict[str, URLSpec] = {}
        self._exact: dict[str, tuple[int, URLSpec]] = {}
        self._by_segment: dict[str, list[tuple[int, URLSpec]]] = {}
        self._wildcards: list[tuple[int, URLSpec]] = []
        self._has_patterns = False  # whether a non-literal rule was added yet
        for rule in rules:
            self.add(rule)

    def add(self, spec: URLSpec) -> None:
        """Append a rule (it matches after every rule already added)."""
        index = len(self.rules)
        self.rules.append(spec)
        entry = (index, spec)
        prefix, complete = literal_prefix(spec.pattern)
        if complete and not spec.regex.flags & re.IGNORECASE:
            # The first of two identical literal patterns wins, as in a plain list. A literal
            # rule with no pattern rule before it wins at once (index -1: nothing to check).
            if prefix not in self._exact:
                before = index if self._has_patterns else -1
                self._exact[prefix] = (before, spec)
                if before < 0:
                    self.direct[prefix] = spec
            return
        self._has_patterns = True
        if prefix.startswith("/") and prefix.find("/", 1) > 0 and not spec.regex.flags & re.I:
            segment = prefix[1 : prefix.find("/", 1)]
            lst = self._by_segment.get(segment)
            if lst is None:
                # Wildcards added before this segment existed come first, in index order.
                lst = self._by_segment[segment] = list(self._wildcards)
            lst.append(entry)
            return
        self._wildcards.append(entry)
        for lst in self._by_segment.values():
            lst.append(entry)

    def find(self, path: str) -> tuple[URLSpec, re.Match[str] | None] | None:
        """The first rule matching ``path`` and its match (None for an exact literal hit)."""
        exact = self._exact.get(path)
        if exact is not None and exact[0] < 0:
            return exact[1], None
        end = path.find("/", 1)  # first_segment(path), inlined: this runs per request
        candidates = self._by_segment.get(path[1:] if end < 0 else path[1:end], self._wildcards)
        if exact is None:
            for _, spec in candidates:
                m = spec.regex.fullmatch(path)
                if m is not None:
                    return spec, m
            return None
        limit = exact[0]
        for index, spec in candidates:
            if index > limit:
                break
            m = spec.regex.fullmatch(path)
            if m is not None:
                return spec, m
        return exact[1], None
