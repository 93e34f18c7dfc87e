"""``ExpectLog``: capture and silence the log lines a test expects."""

from __future__ import annotations

import logging
import re
from types import TracebackType

__all__ = ["ExpectLog", "MissingLogError"]

_log = logging.getLogger("squall.general")

# Tornado's logger names as strings (``ExpectLog("tornado.access", "404")``, common in
# suites) stay unchanged when a program's imports are renamed; squall logs the same
# records on its own loggers, so a block naming one watches both.
_SQUALL_NAMES = {
    "tornado.access": "squall.access",
    "tornado.application": "squall.application",
    "tornado.general": "squall.general",
}


class MissingLogError(AssertionError):
    """An ``ExpectLog`` block with ``required=True`` ended without a matching record.

    An ``AssertionError``, so unittest and pytest report a failed test (Tornado raises a
    plain ``Exception`` with the same first words).
    """


class ExpectLog(logging.Filter):
    """A context manager that swallows the matching records of one logger::

        with ExpectLog("squall.application", "Uncaught exception"):
            response = self.fetch("/broken")

    Args:
        logger: a ``logging.Logger`` or its name (``""``: the root logger). Tornado's
            names ``"tornado.access"``, ``"tornado.application"`` and ``"tornado.general"``
            also watch squall's ``squall.access``, ``squall.application``,
            ``squall.general``, where squall logs those records.
        regex: matched (``re.match``) against each record's message; matches are
            suppressed and counted, other records pass.
        required: raise at the end of the block if nothing matched (default True).
        level: only records of this level match; the logger's level is lowered to it for
            the block if needed. A match at another level is let through with a warning.

    Attributes:
        matched: how many records matched.
        logged_stack: True if a record with exception information was seen.

    Not thread-safe, as Tornado's. Unlike Tornado 6.3+, a match below WARNING without
    ``level`` gives no deprecation warning.
    """

    def __init__(
        self,
        logger: logging.Logger | str,
        regex: str,
        required: bool = True,
        level: int | None = None,
    ) -> None:
        super().__init__()
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        squall_name = _SQUALL_NAMES.get(self.logger.name)
        self._loggers = [self.logger]
        if squall_name is not None:
            self._loggers.append(logging.getLogger(squall_name))
        self.regex = re.compile(regex)
        self.required = required
        self.level = level
        self.matched = 0
        self.logged_stack = False
        self.orig_level: int | None = None
        self._orig_levels: list[tuple[logging.Logger, int]] = []

    def filter(self, record: logging.LogRecord) -> bool:
        """False (suppress) for a matching record; True for any other."""
        if record.exc_info:
            self.logged_stack = True
        message = record.getMessage()
        if not self.regex.match(message):
            return True
        if self.level is not None and record.levelno != self.level:
            _log.warning(
                "Got expected log message %r at unexpected level (%s vs %s)",
                message,
                logging.getLevelName(self.level),
                record.levelname,
            )
            return True
        self.matched += 1
        return False

    def __enter__(self) -> ExpectLog:
        for logger in self._loggers:
            if self.level is not None and self.level < logger.getEffectiveLevel():
                self._orig_levels.append((logger, logger.level))
                if logger is self.logger:
                    self.orig_level = logger.level
                logger.setLevel(self.level)
            logger.addFilter(self)
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for logger, level in self._orig_levels:
            logger.setLevel(level)
        self._orig_levels.clear()
        self.orig_level = None
        for logger in self._loggers:
            logger.removeFilter(self)
        if typ is None and self.required and not self.matched:
            raise MissingLogError(
                f"did not get expected log message: {self.regex.pattern!r} on logger "
                f"{self.logger.name!r}"
            )
