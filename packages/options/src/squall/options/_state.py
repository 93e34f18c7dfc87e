"""Setting options for a while and restoring them: ``options.override(...)`` and
``options.mockable()``, so tests do not leak option values into each other.

``override`` takes a snapshot of *everything* the parser holds (which options exist, each
value with its source, the parse callbacks, the environment prefix) and puts it back on
exit, so a test may also ``define`` options or add callbacks on the global ``options``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from squall.options._option import Option


class _Snapshot:
    """The whole state of an OptionParser at one moment."""

    def __init__(self, parser: OverrideMixin) -> None:
        self.options: dict[str, Option] = dict(parser._options)
        self.values = {key: (o.value, o.source, o.origin) for key, o in self.options.items()}
        self.callbacks = list(parser._parse_callbacks)
        self.env_prefix = parser.env_prefix

    def restore(self, parser: OverrideMixin) -> None:
        parser._options.clear()
        parser._options.update(self.options)
        for key, (value, source, origin) in self.values.items():
            option = self.options[key]
            option.value, option.source, option.origin = value, source, origin
        parser._parse_callbacks[:] = self.callbacks
        object.__setattr__(parser, "env_prefix", self.env_prefix)


class OverrideMixin:
    """The override/mockable part of ``OptionParser``."""

    _options: dict[str, Option]
    _parse_callbacks: list[Callable[[], None]]
    env_prefix: str | None

    @contextmanager
    def override(self, **values: Any) -> Iterator[Any]:
        """Set options for the duration of a ``with`` block, then restore everything.

        ``with options.override(port=1, debug=True): ...`` — values are type-checked like
        assignments. On exit every option, value, parse callback and definition made
        inside the block is put back as it was. Yields the parser.
        """
        snapshot = _Snapshot(self)
        try:
            for name, value in values.items():
                self[name] = value
            yield self
        finally:
            snapshot.restore(self)

    def __setitem__(self, name: str, value: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def mockable(self) -> _Mockable:
        """An object for ``unittest.mock.patch.object(options.mockable(), "port", 1)``.

        ``mock.patch`` sets the attribute and deletes it afterwards; deleting restores the
        value the option had before it was patched.
        """
        return _Mockable(self)


class _Mockable:
    """Attribute access for ``mock.patch.object``; ``del`` restores the saved state."""

    def __init__(self, parser: OverrideMixin) -> None:
        self.__dict__["_parser"] = parser
        self.__dict__["_saved"] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def __setattr__(self, name: str, value: Any) -> None:
        option = self._parser._options[name.replace("-", "_")]
        self._saved.setdefault(name, (option.value, option.source, option.origin))
        self._parser[name] = value

    def __delattr__(self, name: str) -> None:
        option = self._parser._options[name.replace("-", "_")]
        option.value, option.source, option.origin = self._saved.pop(name)
