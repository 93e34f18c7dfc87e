"""The logging options and the logging setup that ``parse_command_line`` performs.

Libraries never configure logging (docs/interfaces.md); the application does, and
``parse_command_line()`` is where a squall application says "configure it for me", exactly
as in Tornado: its parse callback calls :func:`enable_pretty_logging`, which sets the root
logger's level from ``--logging`` and adds a readable handler (stderr, coloured when stderr
is a terminal; or, with ``--log_file_prefix``, a rotating file whose lines are
buffered: see ``_logfile``).

``--logging=none`` (or ``options.logging = None`` in code) means "do not touch logging";
the web plugin then also turns the access log into a no-op, so a request prints nothing.

Repeated setups (several ``parse_command_line`` calls, tests) replace the handlers this
module added before instead of stacking duplicates; handlers the user added are left
alone.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from squall.options._errors import OptionValueError
from squall.options._logfile import BufferedRotatingFileHandler, BufferedTimedRotatingFileHandler

if TYPE_CHECKING:
    from squall.options._parser import OptionParser

LEVELS = ("debug", "info", "warning", "error", "critical", "none")
"""The values ``--logging`` accepts (any case); ``none`` leaves logging alone."""

_OURS = "_squall_options_handler"  # marks handlers this module installed

DATEFMT = "%y%m%d %H:%M:%S"
"""The time stamp of :class:`LogFormatter`: ``241123 22:57:01``."""


def logging_disabled(value: Any) -> bool:
    """True when a ``logging`` option value means "none" (``None`` or ``"none"``)."""
    return value is None or (isinstance(value, str) and value.lower() == "none")


def define_logging_options(options: OptionParser) -> None:
    """Define the logging options on ``options`` and set up logging on its final parse.

    squall.options calls it for the global ``options``; call it for a parser of your own.
    """
    group = "logging"
    define = options.define
    define(
        "logging",
        default="info",
        choices=LEVELS,
        group=group,
        help="log level of the root logger; 'none' leaves logging unconfigured "
        "and turns the access log off",
    )
    define(
        "log_to_stderr",
        type=bool,
        default=None,
        group=group,
        help="log to stderr (default: when no other handler, e.g. a log file, is set)",
    )
    define(
        "log_file_prefix",
        type=str,
        default=None,
        metavar="PATH",
        group=group,
        help="log to this file (rotated by size or time, see log_rotate_mode)",
    )
    define(
        "log_file_flush_interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        group=group,
        help="log file: seconds an INFO line may wait in the buffer before it is written "
        "(WARNING and above are written at once; 0 writes every line at once)",
    )
    define(
        "log_file_max_size",
        type=int,
        default=100 * 1000 * 1000,
        group=group,
        help="size rotation: maximum bytes of a log file before it is rotated",
    )
    define(
        "log_file_num_backups",
        type=int,
        default=10,
        group=group,
        help="number of rotated log files to keep",
    )
    define(
        "log_rotate_when",
        type=str,
        default="midnight",
        group=group,
        help="time rotation: the unit of log_rotate_interval "
        "('S', 'M', 'H', 'D', 'W0'-'W6', 'midnight')",
    )
    define(
        "log_rotate_interval",
        type=int,
        default=1,
        group=group,
        help="time rotation: rotate every this many log_rotate_when units",
    )
    define(
        "log_rotate_mode",
        type=str,
        default="size",
        choices=("size", "time"),
        group=group,
        help="rotate the log file by 'size' or by 'time'",
    )
    options.add_parse_callback(lambda: setup_logging(options))


# --------------------------------------------------------------------------------------
# The format
# --------------------------------------------------------------------------------------

_COLORS = {
    logging.DEBUG: "\033[34m",  # blue
    logging.INFO: "\033[32m",  # green
    logging.WARNING: "\033[33m",  # yellow
    logging.ERROR: "\033[31m",  # red
    logging.CRITICAL: "\033[1;31m",  # bold red
}
_RESET = "\033[0m"


def stream_supports_color(stream: Any) -> bool:
    """A terminal, and the user did not ask for no colour (``NO_COLOR``, ``TERM=dumb``)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


class LogFormatter(logging.Formatter):
    """``[I 241123 22:57:01 web:123] 200 GET / (127.0.0.1) 0.52ms``.

    The first letter of the level, a compact time stamp, the module and line, then the
    message; tracebacks follow on their own lines, indented by four spaces (as every line
    after a record's first, as in Tornado). With ``color=True`` the bracketed
    prefix is coloured by level (``colors`` maps a level to a terminal colour number, 0-7).

    ``fmt`` replaces that line with a %-style format of the record's attributes, as in
    Tornado: ``%(asctime)s`` is the time stamp (``datefmt``), ``%(message)s`` the message,
    and the text between ``%(color)s`` and ``%(end_color)s`` is coloured.

    The time stamp has a resolution of one second, so it is formatted once per second and
    reused (``strftime`` is a large part of formatting a short line).
    """

    DEFAULT_FORMAT = (
        "%(color)s[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]%(end_color)s %(message)s"
    )
    """The line written without ``fmt``, as a ``fmt`` (Tornado's name)."""
    DEFAULT_DATE_FORMAT = DATEFMT
    """The time stamp written without ``datefmt`` (Tornado's name)."""
    DEFAULT_COLORS: Mapping[int, int] = MappingProxyType(
        {
            logging.DEBUG: 4,  # blue
            logging.INFO: 2,  # green
            logging.WARNING: 3,  # yellow
            logging.ERROR: 1,  # red
            logging.CRITICAL: 5,  # magenta
        }
    )
    """Terminal colour numbers (0-7) by level, the ``colors`` argument's form."""

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = DATEFMT,
        style: str = "%",
        color: bool = False,
        colors: Mapping[int, int] | None = None,
    ) -> None:
        # Tornado's order (fmt, datefmt, style, ...), which logging.config's dictConfig
        # also uses when it builds a formatter "class" by position.
        if style != "%":
            raise ValueError(
                f"LogFormatter: style={style!r} is not supported; fmt is a %-style format "
                "('%(message)s')"
            )
        super().__init__(datefmt=datefmt)
        self.color = color
        self.fmt = None if fmt == self.DEFAULT_FORMAT else fmt
        """The %-style line format given, or None for the built-in line."""
        if colors is None:
            self._colors = _COLORS
        else:
            self._colors = {level: f"\033[3{code}m" for level, code in colors.items()}
        self._stamp_cache: tuple[int, str] = (-1, "")

    def stamp(self, created: float) -> str:
        """The time stamp of a record made at ``created`` (seconds since the epoch)."""
        second = int(created)
        cached = self._stamp_cache
        if cached[0] == second:
            return cached[1]
        text = time.strftime(self.datefmt or DATEFMT, self.converter(created))
        self._stamp_cache = (second, text)
        return text

    def line(self, levelname: str, created: float, module: str, lineno: int, message: str) -> str:
        """One uncoloured line without a traceback: what :meth:`format` gives such a record."""
        return f"[{levelname[:1]} {self.stamp(created)} {module}:{lineno}] {message}"

    def format(self, record: logging.LogRecord) -> str:
        """Format one record (see the class docstring).

        A record whose message does not format (``log.info("%d", "x")``, a wrong count of
        arguments) is still written, as Tornado's formatter does: its line says so and shows
        the message and arguments, where the standard handler would drop the record and
        print a traceback on stderr.
        """
        try:
            message = record.getMessage()
        except Exception as exc:
            message = f"bad log message ({exc!r}): msg={record.msg!r} args={record.args!r}"
        if type(self).formatTime is logging.Formatter.formatTime:
            when = self.stamp(record.created)
        else:  # a subclass decides how time looks: ask it every time
            when = self.formatTime(record, self.datefmt)
        colour = self._colors.get(record.levelno, "") if self.color else ""
        if self.fmt is None:
            prefix = f"[{record.levelname[:1]} {when} {record.module}:{record.lineno}]"
            if colour:
                prefix = f"{colour}{prefix}{_RESET}"
            first = f"{prefix} {message}"
        else:
            # The record's attributes, plus the names a Tornado format uses.
            record.message = message
            record.asctime = when
            record.color = colour
            record.end_color = _RESET if colour else ""
            first = self.fmt % record.__dict__
        lines = [first]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            lines.append(record.exc_text)
        if record.stack_info:
            lines.append(self.formatStack(record.stack_info))
        text = "\n".join(lines)
        # Every line after the first is indented, as Tornado's formatter does: a log reader
        # (or a log shipper's multi-line rule) tells a record's own lines from the next one.
        return text.replace("\n", "\n    ") if "\n" in text else text


# --------------------------------------------------------------------------------------
# The setup
# --------------------------------------------------------------------------------------


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler writing to whatever ``sys.stderr`` is when each record is emitted.

    Why not the plain ``StreamHandler(sys.stderr)``: it keeps the stream object of setup
    time, which breaks once ``sys.stderr`` is replaced (pytest's capture, a redirect in the
    application): records would go to a closed or stale stream.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        """The current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always sys.stderr; StreamHandler.__init__/setStream assign it


def _file_handler(options: OptionParser, path: str) -> logging.Handler:
    if options.log_rotate_mode == "time":
        return BufferedTimedRotatingFileHandler(
            path,
            when=options.log_rotate_when,
            interval=options.log_rotate_interval,
            backup_count=options.log_file_num_backups,
            flush_interval=options.log_file_flush_interval,
        )
    return BufferedRotatingFileHandler(
        path,
        max_bytes=options.log_file_max_size,
        backup_count=options.log_file_num_backups,
        flush_interval=options.log_file_flush_interval,
    )


def _open_log_file(options: OptionParser, path: str) -> logging.Handler:
    """The log file handler, or a one-line OptionValueError naming the option at fault."""
    interval = options.log_file_flush_interval
    if not interval >= 0:  # also refuses NaN
        raise OptionValueError(
            f"option --log_file_flush_interval: must be >= 0 seconds, not {interval!r}",
            option="log_file_flush_interval",
            expected="float",
            value=interval,
        )
    try:
        return _file_handler(options, path)
    except OSError as exc:
        raise OptionValueError(
            f"option --log_file_prefix: cannot open {path!r} for writing: {exc.strerror}",
            option="log_file_prefix",
            expected="str",
            value=path,
        ) from exc


def remove_handlers(logger: logging.Logger) -> None:
    """Remove (and close) the handlers a previous setup added to ``logger``."""
    for handler in list(logger.handlers):
        if getattr(handler, _OURS, False):
            logger.removeHandler(handler)
            handler.close()


def setup_logging(options: OptionParser, logger: logging.Logger | None = None) -> None:
    """Configure ``logger`` (default: the root logger) from the logging options.

    Does nothing when ``options.logging`` is none. Otherwise sets the level, adds a file
    handler when ``log_file_prefix`` is set, and a stderr handler when ``log_to_stderr``
    is true, or is unset and the logger has no other handler.
    """
    if logging_disabled(options.logging):
        return
    if logger is None:
        logger = logging.getLogger()
    remove_handlers(logger)
    logger.setLevel(options.logging.upper())
    if options.log_file_prefix:
        handler: logging.Handler = _open_log_file(options, options.log_file_prefix)
        handler.setFormatter(LogFormatter(color=False))
        setattr(handler, _OURS, True)
        logger.addHandler(handler)
    if options.log_to_stderr or (options.log_to_stderr is None and not logger.handlers):
        stream = StderrHandler()
        stream.setFormatter(LogFormatter(color=stream_supports_color(sys.stderr)))
        setattr(stream, _OURS, True)
        logger.addHandler(stream)
