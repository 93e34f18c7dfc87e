"""One defined option: its declaration, its current value and where that value came from.

Precedence without call-order surprises: every value carries the *source* that set it, and
a source may replace a value only if it ranks at least as high as the source of the current
value::

    default (0) = code (0) < config file (1) < environment (2) < command line (3)

So ``parse_command_line()`` followed by ``parse_config_file()`` keeps the command-line
values, as does the reverse order. A value assigned in code (``options.port = 9000``)
ranks like a default: it is applied at once, and any later source still replaces it (the
notes' ``options.logging = None`` before ``parse_command_line()`` keeps ``None`` unless
the command line says otherwise).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from squall.options._errors import OptionValueError
from squall.options._types import check_value, parse_int_range, parse_text, type_name

SOURCE_RANKS: dict[str, int] = {
    "default": 0,
    "code": 0,
    "config file": 1,
    "environment": 2,
    "command line": 3,
}
"""The rank of each source; a value is replaced only by a source of equal or higher rank."""


def normalize_name(name: str) -> str:
    """The lookup key of an option name: ``-`` and ``_`` are the same character."""
    return name.replace("-", "_")


@dataclass(eq=False)
class Option:
    """A defined option (what ``define`` records).

    Attributes:
        name: the name as first defined (shown in help and errors).
        type: the value type (``str`` when neither type nor default said otherwise; values
            then stay strings).
        default: the default value (``[]`` for a multiple option without default).
        location: ``file:line`` of the ``define`` call.
        file_name: the file of the ``define`` call (the default group).
        source: which source set the current value (see the module docstring).
        origin: where exactly (``config.toml:3``, ``SQUALL_PORT``, ``--port``).
    """

    name: str
    type: Any
    default: Any = None
    help: str | None = None
    metavar: str | None = None
    multiple: bool = False
    group: str | None = None
    callback: Callable[[Any], None] | None = None
    choices: tuple[str, ...] | None = None
    location: str = "?"
    file_name: str = "?"
    builtin: bool = False
    value: Any = None
    source: str = "default"
    origin: str = "default"

    def __post_init__(self) -> None:
        self.value = copy.copy(self.default)

    @property
    def key(self) -> str:
        """The normalized name used for lookups."""
        return normalize_name(self.name)

    @property
    def group_name(self) -> str:
        """The explicit group, else the defining file (Tornado's rule)."""
        return self.group if self.group else self.file_name

    @property
    def flag(self) -> str:
        """The option as written on a command line: ``--port``."""
        return f"--{self.name}"

    def type_label(self) -> str:
        """The name of the expected type, as messages say it (``int``)."""
        return type_name(self.type)

    # ----------------------------------------------------------------------------------
    # Values
    # ----------------------------------------------------------------------------------

    def _bad(self, value: object, reason: str | None = None) -> OptionValueError:
        shown = repr(value)
        if self.choices is not None and isinstance(value, str):
            allowed = ", ".join(self.choices)
            message = f"option {self.flag}: invalid value: {shown} (choose from {allowed})"
        else:
            message = f"option {self.flag}: invalid {self.type_label()} value: {shown}"
            if reason:
                message += f" ({reason})"
        return OptionValueError(message, option=self.name, expected=self.type_label(), value=value)

    def wrong_type(self, value: object) -> OptionValueError:
        """The error for a value of another type assigned in code (no parsing there)."""
        return self._bad(
            value,
            f"a {type(value).__name__} assigned in code; text is parsed only from the command "
            "line, the environment and config files",
        )

    def _check_choice(self, value: Any) -> Any:
        if self.choices is None or value is None:
            return value
        if isinstance(value, str) and value.lower() in self.choices:
            return value.lower()
        raise self._bad(value)

    def _parse_one(self, text: str) -> Any:
        try:
            return self._check_choice(parse_text(self.type, text))
        except (ValueError, OverflowError):  # "1e100" seconds overflows a timedelta
            raise self._bad(text) from None

    def parse(self, text: str) -> Any:
        """Turn command-line / environment text into a value of this option (not set)."""
        if not self.multiple:
            return self._parse_one(text)
        result: list[Any] = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue  # "a,,b" and a trailing comma add nothing
            if self.type is int:
                try:
                    result.extend(parse_int_range(part))
                except (ValueError, OverflowError):
                    raise self._bad(part) from None
            else:
                result.append(self._parse_one(part))
        return result

    def _coerce_one(self, value: Any) -> Any:
        if isinstance(value, str) and self.type is not str:
            return self._parse_one(value)
        try:
            return self._check_choice(check_value(self.type, value))
        except (ValueError, OverflowError):
            raise self._bad(value, f"got {type(value).__name__}") from None

    def coerce(self, value: Any) -> Any:
        """Check a Python value (code, Python or TOML config); strings are parsed.

        ``None`` is always accepted: it means "unset" (``options.logging = None``).
        """
        if value is None:
            return None
        if not self.multiple:
            return self._coerce_one(value)
        if isinstance(value, str):
            return self.parse(value)
        if not isinstance(value, list | tuple):
            raise self._bad(value, f"expected a list, got {type(value).__name__}")
        return [self._coerce_one(item) for item in value]

    def set(self, value: Any, source: str, origin: str, *, force: bool = False) -> bool:
        """Set an already checked value if ``source`` ranks high enough; run the callback.

        ``force`` (assignment in code) applies the value whatever set the current one.

        Returns:
            True if the value was applied.
        """
        if not force and SOURCE_RANKS[source] < SOURCE_RANKS[self.source]:
            return False
        self.value, self.source, self.origin = value, source, origin
        if self.callback is not None:
            self.callback(value)
        return True

    def reset(self) -> None:
        """Back to the default, as if never set."""
        self.value, self.source, self.origin = copy.copy(self.default), "default", "default"
