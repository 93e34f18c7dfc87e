"""HTTPHeaders: a case-insensitive, multi-valued mapping of header names to values.

Strategy (why it looks like this):

- Names are stored in their *normalized* form (``content-type`` → ``Content-Type``), as
  Tornado does, so iteration shows readable names and lookups with any casing hit the same
  key. Normalization goes through a small bounded cache: a server sees the same few dozen
  names over and over, and ``str.title``-like work per header per request is measurable.
- ``_dict`` maps each name to its value, and a name that came more than once to all its
  values joined with ``,`` (``headers[name]``, as Tornado: RFC 9110 §5.3 lets a recipient
  combine field lines so); ``_multi`` holds the separate values only for names seen more
  than once. Most requests repeat no header, so most requests allocate no per-header list.
- ``add`` of a repeated name does not rejoin the values (n adds would copy O(n²) bytes):
  it records the name in ``_stale``, and the joined value is rebuilt when next read.
- ``parse`` is a lenient utility for raw blocks (it joins obs-fold continuation lines as
  RFC 9112 §5.2 allows a *recipient* to). The server's request parser is strict and builds
  headers through ``_from_pairs`` without going through ``parse``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, overload

_NORMALIZED: dict[str, str] = {}
_NORMALIZED_MAX = 1000  # bounded: a client sending random names cannot grow it forever


def normalize_header_name(name: str) -> str:
    """Return ``name`` in canonical ``Title-Case`` form (``x-real-ip`` → ``X-Real-Ip``).

    Results are cached (bounded) because the same names recur on every request.
    """
    try:
        return _NORMALIZED[name]
    except KeyError:
        pass
    norm = "-".join(part.capitalize() for part in name.split("-"))
    if len(_NORMALIZED) >= _NORMALIZED_MAX:
        _NORMALIZED.clear()
    _NORMALIZED[name] = norm
    return norm


class HTTPHeaders(MutableMapping[str, str]):
    """A dictionary of HTTP headers: case-insensitive names, several values per name.

    ``headers["Name"]`` gives the value of the name, every value joined with ``,`` when it
    came more than once (as Tornado); ``get_list`` gives them one by one; ``add`` appends a
    value; ``get_all`` yields every ``(name, value)`` pair, names in first-seen order.
    Setting ``headers["Name"] = v`` replaces every earlier value.

    >>> h = HTTPHeaders({"content-type": "text/html"})
    >>> h.add("Set-Cookie", "A=B")
    >>> h.add("set-cookie", "C=D")
    >>> h["Set-Cookie"], h.get_list("SET-COOKIE")
    ('A=B,C=D', ['A=B', 'C=D'])
    """

    # _last_line_name: set only by parse_line (left unset elsewhere: read with getattr).
    __slots__ = ("_dict", "_multi", "_stale", "_last_line_name")

    _dict: dict[str, str]
    _multi: dict[str, list[str]] | None
    _stale: set[str] | None  # names of _multi whose joined value in _dict is out of date
    _last_line_name: str  # the name of the last line parse_line() added

    @overload
    def __init__(self, __arg: Mapping[str, str], **kwargs: str) -> None: ...
    @overload
    def __init__(self, __arg: Iterable[tuple[str, str]], **kwargs: str) -> None: ...
    @overload
    def __init__(self, **kwargs: str) -> None: ...

    def __init__(self, *args: Any, **kwargs: str) -> None:
        self._dict = {}
        self._multi = None
        self._stale = None
        if len(args) > 1:
            raise TypeError(f"HTTPHeaders expected at most 1 positional argument, got {len(args)}")
        if args:
            arg = args[0]
            if isinstance(arg, HTTPHeaders):
                for name, value in arg.get_all():
                    self.add(name, value)
            elif isinstance(arg, Mapping):
                for name in arg:
                    self[name] = arg[name]
            else:
                for name, value in arg:
                    self[name] = value
        for name, value in kwargs.items():
            self[name] = value

    @classmethod
    def _from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> HTTPHeaders:
        """Build from already validated ``(name, value)`` pairs, keeping repeats (fast path)."""
        self = cls.__new__(cls)
        d: dict[str, str] = {}
        multi: dict[str, list[str]] | None = None
        norm_cache = _NORMALIZED
        for name, value in pairs:
            norm = norm_cache.get(name)
            if norm is None:
                norm = normalize_header_name(name)
            if norm in d:
                if multi is None:
                    multi = {}
                lst = multi.get(norm)
                if lst is None:
                    multi[norm] = [d[norm], value]
                else:
                    lst.append(value)
            else:
                d[norm] = value
        if multi is not None:
            for norm, lst in multi.items():
                d[norm] = ",".join(lst)
        self._dict = d
        self._multi = multi
        self._stale = None
        return self

    # -- multi-value API -------------------------------------------------------------------

    def add(self, name: str, value: str) -> None:
        """Add ``value`` for ``name``, keeping the values already there."""
        norm = normalize_header_name(name)
        d = self._dict
        if norm in d:
            if self._multi is None:
                self._multi = {}
            lst = self._multi.get(norm)
            if lst is None:
                self._multi[norm] = [d[norm], value]
            else:
                lst.append(value)
            if self._stale is None:
                self._stale = set()
            self._stale.add(norm)
        else:
            d[norm] = value

    def _joined(self, norm: str) -> str:
        """The value of a repeated name, joined again after ``add`` made it stale."""
        assert self._stale is not None and self._multi is not None
        self._stale.discard(norm)
        value = self._dict[norm] = ",".join(self._multi[norm])
        return value

    def get_list(self, name: str) -> list[str]:
        """Return every value of ``name`` in the order received (``[]`` when absent)."""
        norm = normalize_header_name(name)
        if self._multi is not None:
            lst = self._multi.get(norm)
            if lst is not None:
                return list(lst)
        value = self._dict.get(norm)
        return [] if value is None else [value]

    def get_all(self) -> Iterator[tuple[str, str]]:
        """Iterate over every ``(name, value)`` pair; a repeated name comes once per value."""
        multi = self._multi
        if multi is None:
            # the usual case (no repeated name): the dict's own iterator, no generator
            return iter(self._dict.items())
        return self._each_value(multi)

    def _each_value(self, multi: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
        for name, value in self._dict.items():
            if name in multi:
                for v in multi[name]:
                    yield name, v
            else:
                yield name, value

    def parse_line(self, line: str) -> None:
        """Add one ``Name: value`` line (leading whitespace continues the previous header).

        A line may keep its CRLF (or LF), as ``header_callback`` lines of the HTTP client
        come; an empty line (the end of a block) adds nothing.

        Raises:
            ValueError: the line has no colon, or is a continuation with nothing before it.
        """
        if line.endswith("\n"):
            # A line as a client's header_callback receives it (Tornado 6.5+): its CRLF
            # (or bare LF) ends it, and the empty line that ends a block adds nothing.
            line = line[: -2 if line.endswith("\r\n") else -1]
        if not line:
            return
        if line[:1] in (" ", "\t"):
            if not self._dict:
                raise ValueError("first header line cannot start with whitespace")
            last: str | None = getattr(self, "_last_line_name", None)
            if last is None or last not in self._dict:
                last = next(reversed(self._dict))
            more = " " + line.strip(" \t")
            values = None if self._multi is None else self._multi.get(last)
            if values is None:
                self._dict[last] += more
            else:  # continues the last of several values
                values[-1] += more
                if self._stale is None:
                    self._stale = set()
                self._stale.add(last)
            return
        name, sep, value = line.partition(":")
        if not sep or not name:
            raise ValueError(f"no colon in header line {line!r}")
        name = name.strip(" \t")
        self.add(name, value.strip(" \t"))
        # A continuation line belongs to this name, which is not the dict's last key when
        # the name was seen before ("A: 1", "B: 2", "A: 3", " more").
        self._last_line_name = normalize_header_name(name)

    @classmethod
    def parse(cls, headers: str | bytes) -> HTTPHeaders:
        """Parse a raw header block (lines ending in CRLF or LF) into an ``HTTPHeaders``.

        Bytes are decoded as ISO-8859-1, as HTTP header octets are. Empty lines are skipped.

        >>> HTTPHeaders.parse("Content-Length: 42\\r\\n")["content-length"]
        '42'

        Raises:
            ValueError: a line has no colon.
        """
        if isinstance(headers, bytes):
            headers = headers.decode("latin-1")
        h = cls()
        for line in headers.split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            if line:
                h.parse_line(line)
        return h

    # -- MutableMapping ----------------------------------------------------------------------

    def __getitem__(self, name: str) -> str:
        norm = normalize_header_name(name)
        stale = self._stale
        if stale and norm in stale:
            return self._joined(norm)
        return self._dict[norm]

    def __setitem__(self, name: str, value: str) -> None:
        norm = normalize_header_name(name)
        self._dict[norm] = value
        if self._multi is not None:
            self._multi.pop(norm, None)
            if self._stale:
                self._stale.discard(norm)

    def __delitem__(self, name: str) -> None:
        norm = normalize_header_name(name)
        del self._dict[norm]
        if self._multi is not None:
            self._multi.pop(norm, None)
            if self._stale:
                self._stale.discard(norm)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return normalize_header_name(name) in self._dict

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str) -> str: ...
    @overload
    def get(self, name: str, /, default: Any) -> Any: ...

    def get(self, name: str, default: Any = None) -> Any:
        """Return the value of ``name`` (every value joined with ``,`` when it came more
        than once), or ``default`` when absent."""
        # the cache of normalize_header_name read inline: get() runs on every request
        norm = _NORMALIZED.get(name)
        if norm is None:
            norm = normalize_header_name(name)
        stale = self._stale
        if stale and norm in stale:
            return self._joined(norm)
        return self._dict.get(norm, default)

    def __len__(self) -> int:
        return len(self._dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def copy(self) -> HTTPHeaders:
        """Return an independent copy holding every value."""
        new = HTTPHeaders.__new__(HTTPHeaders)
        new._dict = self._dict.copy()
        multi = self._multi
        new._multi = None if multi is None else {k: list(v) for k, v in multi.items()}
        new._stale = set(self._stale) if self._stale else None
        return new

    __copy__ = copy

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HTTPHeaders):
            return sorted(self.get_all()) == sorted(other.get_all())
        if isinstance(other, Mapping):
            return dict(self.items()) == {normalize_header_name(k): v for k, v in other.items()}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable mapping

    def __str__(self) -> str:
        return "".join(f"{name}: {value}\n" for name, value in self.get_all())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.get_all())!r})"
