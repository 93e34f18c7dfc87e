"""The logging options and the setup parse_command_line performs."""

from __future__ import annotations

import io
import logging
import logging.handlers
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from squall.options import (
    LogFormatter,
    OptionParser,
    OptionValueError,
    define_logging_options,
    enable_pretty_logging,
)
from squall.options._logging import remove_handlers


@pytest.fixture
def parser() -> OptionParser:
    p = OptionParser(env_prefix=None)
    define_logging_options(p)
    return p


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    # Propagating (pytest attaches its capture handlers to non-propagating loggers).
    log = logging.getLogger("squall.options.tests.isolated")
    try:
        yield log
    finally:
        for handler in list(log.handlers):
            log.removeHandler(handler)
            handler.close()
        log.setLevel(logging.NOTSET)


def test_logging_options_are_defined_with_tornado_defaults(parser: OptionParser) -> None:
    assert parser.logging == "info"
    assert parser.log_to_stderr is None
    assert parser.log_file_prefix is None
    assert parser.log_rotate_mode == "size"
    assert parser.log_file_num_backups == 10
    assert parser.log_rotate_when == "midnight" and parser.log_rotate_interval == 1
    assert parser.group_dict("logging").keys() >= {"logging", "log_file_max_size"}


def test_logging_level_values_are_checked(parser: OptionParser) -> None:
    parser.parse_command_line(["p", "--logging=WARNING"], final=False)
    assert parser.logging == "warning"
    with pytest.raises(Exception, match="choose from debug, info"):
        parser.parse_command_line(["p", "--logging=loud"], final=False)
    with pytest.raises(Exception, match="choose from size, time"):
        parser.parse_command_line(["p", "--log_rotate_mode=daily"], final=False)


def test_setup_adds_one_stderr_handler_and_sets_the_level(
    parser: OptionParser, logger: logging.Logger
) -> None:
    parser.logging = "debug"
    enable_pretty_logging(parser, logger)
    enable_pretty_logging(parser, logger)  # again: replaced, not stacked
    assert logger.level == logging.DEBUG
    assert len(logger.handlers) == 1
    assert isinstance(logger.handlers[0].formatter, LogFormatter)


def test_stderr_handler_follows_sys_stderr(
    parser: OptionParser, logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    enable_pretty_logging(parser, logger)
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logger.warning("one")
    monkeypatch.setattr(sys, "stderr", second)
    logger.warning("two")
    assert first.getvalue().endswith("one\n") and "two" not in first.getvalue()
    assert second.getvalue().endswith("two\n")


def test_logging_none_leaves_logging_alone(parser: OptionParser, logger: logging.Logger) -> None:
    for value in (None, "none"):
        parser.logging = value
        enable_pretty_logging(parser, logger)
        assert logger.handlers == [] and logger.level == logging.NOTSET


def test_log_file_with_size_rotation(
    parser: OptionParser, logger: logging.Logger, tmp_path: Path
) -> None:
    path = tmp_path / "app.log"
    parser.parse_command_line(
        ["p", f"--log_file_prefix={path}", "--log_file_max_size=200", "--log_file_num_backups=2"],
        final=False,
    )
    enable_pretty_logging(parser, logger)
    (handler,) = logger.handlers  # no stderr handler: the file is the handler
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    for i in range(20):
        logger.info("line %d with some padding to fill the file", i)
    handler.flush()
    assert (tmp_path / "app.log.1").exists()
    assert "line 19" in path.read_text(encoding="utf-8")


def test_log_file_with_time_rotation_and_stderr_too(
    parser: OptionParser, logger: logging.Logger, tmp_path: Path
) -> None:
    path = tmp_path / "app.log"
    parser.parse_command_line(
        [
            "p",
            f"--log_file_prefix={path}",
            "--log_rotate_mode=time",
            "--log_rotate_when=H",
            "--log_rotate_interval=2",
            "--log_to_stderr",
        ],
        final=False,
    )
    enable_pretty_logging(parser, logger)
    kinds = sorted(type(h).__name__ for h in logger.handlers)
    assert kinds == ["BufferedTimedRotatingFileHandler", "StderrHandler"]
    timed = next(
        h for h in logger.handlers if isinstance(h, logging.handlers.TimedRotatingFileHandler)
    )
    assert timed.interval == 2 * 3600


def test_log_file_flush_interval_option_reaches_the_handler(
    parser: OptionParser, logger: logging.Logger, tmp_path: Path
) -> None:
    path = tmp_path / "app.log"
    parser.parse_command_line(
        ["p", f"--log_file_prefix={path}", "--log_file_flush_interval=0"], final=False
    )
    enable_pretty_logging(parser, logger)
    (handler,) = logger.handlers
    assert handler.flush_interval == 0  # type: ignore[attr-defined]
    logger.info("written at once")
    assert "written at once" in path.read_text(encoding="utf-8")


def test_formatter_time_stamp_is_the_uncached_one_across_seconds() -> None:
    formatter = LogFormatter()
    for created in (1_700_000_000.1, 1_700_000_000.9, 1_700_000_001.0, 1_600_000_000.5):
        record = logging.LogRecord("x", logging.INFO, "m.py", 1, "hi", (), None)
        record.created = created
        expected = logging.Formatter.formatTime(formatter, record, formatter.datefmt)
        assert formatter.format(record).startswith(f"[I {expected} m:1]")


def test_formatter_subclass_formattime_is_called_for_every_record() -> None:
    class Stamped(LogFormatter):
        def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
            return f"T{record.created:.1f}"

    formatter = Stamped()
    for created in (10.1, 10.2):
        record = logging.LogRecord("x", logging.INFO, "m.py", 1, "hi", (), None)
        record.created = created
        assert formatter.format(record) == f"[I T{created:.1f} m:1] hi"


def test_formatter_is_readable_and_colours_only_when_asked() -> None:
    record = logging.LogRecord(
        "squall.access", logging.WARNING, "web.py", 12, "404 GET /", (), None
    )
    plain = LogFormatter().format(record)
    assert plain.startswith("[W ") and plain.endswith("web:12] 404 GET /")
    coloured = LogFormatter(color=True).format(record)
    assert coloured.startswith("\033[33m[W ") and "\033[0m 404 GET /" in coloured


def test_formatter_appends_tracebacks() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f.py", 1, "failed", (), sys.exc_info())
    text = LogFormatter().format(record)
    assert text.splitlines()[0].endswith("failed") and "ValueError: boom" in text


def test_formatter_indents_every_line_after_the_first_by_four_spaces() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f.py", 1, "two\nlines", (), sys.exc_info())
    first, *rest = LogFormatter().format(record).split("\n")
    assert first.endswith("] two")
    assert rest[0] == "    lines"
    assert rest[1] == "    Traceback (most recent call last):"
    assert rest[-1] == "    ValueError: boom"
    assert all(line.startswith("    ") for line in rest)


def test_formatter_fmt_formats_the_record_attributes_and_extra_fields() -> None:
    formatter = LogFormatter(fmt="<%(levelname)s %(ip)s %(name)s> %(message)s", datefmt="%H")
    record = logging.LogRecord("peer", logging.INFO, "c.py", 3, "got %s", ("it",), None)
    record.ip = "10.0.0.7"
    assert formatter.format(record) == "<INFO 10.0.0.7 peer> got it"


def test_formatter_fmt_asctime_comes_from_a_subclass_formattime() -> None:
    class Stamped(LogFormatter):
        def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
            return f"{datefmt}@{record.created:.0f}"

    formatter = Stamped(fmt="%(asctime)s|%(message)s", datefmt="D")
    record = logging.LogRecord("x", logging.INFO, "m.py", 1, "hi", (), None)
    record.created = 42.0
    assert formatter.format(record) == "D@42|hi"


def test_formatter_takes_fmt_datefmt_style_by_position_as_dictconfig_passes_them() -> None:
    import logging.config

    logging.config.dictConfig(
        {
            "version": 1,
            "incremental": False,
            "disable_existing_loggers": False,
            "formatters": {
                "f": {
                    "class": "squall.options.LogFormatter",
                    "format": "%(levelname)s:%(message)s",
                }
            },
            "handlers": {
                "h": {
                    "class": "logging.StreamHandler",
                    "formatter": "f",
                    "stream": "ext://sys.stdout",
                }
            },
            "loggers": {"squall.options.tests.dictconfig": {"handlers": ["h"], "propagate": False}},
        }
    )
    log = logging.getLogger("squall.options.tests.dictconfig")
    try:
        (handler,) = log.handlers
        record = logging.LogRecord(log.name, logging.ERROR, "m.py", 1, "bad", (), None)
        assert handler.format(record) == "ERROR:bad"
    finally:
        for handler in list(log.handlers):
            log.removeHandler(handler)
            handler.close()


def test_formatter_default_format_is_the_built_in_line() -> None:
    record = logging.LogRecord("x", logging.WARNING, "web.py", 12, "404 GET /", (), None)
    record.created = 1_700_000_000.0
    built_in = LogFormatter().format(record)
    assert LogFormatter(fmt=LogFormatter.DEFAULT_FORMAT).format(record) == built_in
    spelled_out = LogFormatter(fmt=LogFormatter.DEFAULT_FORMAT + " ").format(record)
    assert spelled_out == built_in + " "


def test_formatter_fmt_colours_between_color_and_end_color() -> None:
    record = logging.LogRecord("x", logging.ERROR, "m.py", 1, "bad", (), None)
    plain = LogFormatter(fmt="%(color)s%(levelname)s%(end_color)s %(message)s").format(record)
    assert plain == "ERROR bad"
    coloured = LogFormatter(
        fmt="%(color)s%(levelname)s%(end_color)s %(message)s", color=True, colors={logging.ERROR: 6}
    ).format(record)
    assert coloured == "\033[36mERROR\033[0m bad"


def test_formatter_refuses_a_style_other_than_percent() -> None:
    with pytest.raises(ValueError, match="style='{'"):
        LogFormatter(fmt="{message}", style="{")


def test_final_parse_sets_up_logging_through_the_parse_callback(parser: OptionParser) -> None:
    root = logging.getLogger()
    level = root.level
    try:
        parser.parse_command_line(["p", "--logging=error"])
        assert root.level == logging.ERROR
    finally:
        remove_handlers(root)
        root.setLevel(level)


def test_a_log_file_that_cannot_be_opened_is_a_one_line_option_error(
    parser: OptionParser, logger: logging.Logger, tmp_path: Path
) -> None:
    path = tmp_path / "no-such-dir" / "app.log"
    parser.parse_command_line(["p", f"--log_file_prefix={path}"], final=False)
    with pytest.raises(OptionValueError) as info:
        enable_pretty_logging(parser, logger)
    assert str(info.value) == (
        f"option --log_file_prefix: cannot open '{path}' for writing: No such file or directory"
    )
    assert info.value.option == "log_file_prefix"


def test_a_negative_flush_interval_is_a_one_line_option_error(
    parser: OptionParser, logger: logging.Logger, tmp_path: Path
) -> None:
    parser.parse_command_line(
        ["p", f"--log_file_prefix={tmp_path / 'a.log'}", "--log_file_flush_interval=-1"],
        final=False,
    )
    with pytest.raises(OptionValueError, match=r"^option --log_file_flush_interval: must be >= 0 "):
        enable_pretty_logging(parser, logger)
    assert not (tmp_path / "a.log").exists()


@pytest.mark.parametrize(
    ("msg", "args"), [("port %d", ("x",)), ("%s and %s", ("one",)), ("%(name)s", (1,))]
)
def test_a_record_whose_message_does_not_format_is_still_written(
    msg: str, args: tuple[object, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogFormatter())
    logger = logging.Logger("bad-message")
    logger.addHandler(handler)
    logger.error(msg, *args)
    line = stream.getvalue()
    assert "] bad log message (" in line
    assert f"msg={msg!r}" in line and f"args={args!r}" in line
    assert "Logging error" not in capsys.readouterr().err
