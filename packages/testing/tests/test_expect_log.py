"""ExpectLog: matching records are swallowed and counted; a missing one fails the test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from squall.testing import ExpectLog, MissingLogError

log = logging.getLogger("squall.testing.tests")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def collected() -> Iterator[Collect]:
    handler = Collect()
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    yield handler
    log.removeHandler(handler)
    log.setLevel(logging.NOTSET)


def test_matching_records_are_suppressed_and_others_pass(collected: Collect) -> None:
    with ExpectLog(log, "expected") as expect:
        log.warning("expected one")
        log.warning("expected %s", "two")
        log.warning("something else")
    assert expect.matched == 2
    assert collected.messages == ["something else"]


def test_logger_may_be_given_by_name(collected: Collect) -> None:
    with ExpectLog("squall.testing.tests", "by name"):
        log.error("by name")
    assert collected.messages == []


def test_a_required_record_that_never_comes_fails() -> None:
    with pytest.raises(MissingLogError, match="did not get expected log message: 'never'"):
        with ExpectLog(log, "never"):
            pass
    assert issubclass(MissingLogError, AssertionError)


def test_not_required_passes_without_a_match() -> None:
    with ExpectLog(log, "never", required=False) as expect:
        pass
    assert expect.matched == 0


def test_an_exception_in_the_block_is_not_hidden() -> None:
    with pytest.raises(KeyError):
        with ExpectLog(log, "never"):
            raise KeyError("x")


def test_logged_stack_tells_an_exception_was_logged() -> None:
    with ExpectLog(log, "failed") as expect:
        try:
            raise ValueError("x")
        except ValueError:
            log.exception("failed")
    assert expect.logged_stack


def test_level_lowers_the_logger_for_the_block_and_restricts_the_match() -> None:
    quiet = logging.getLogger("squall.testing.tests.quiet")
    quiet.setLevel(logging.WARNING)
    try:
        with ExpectLog(quiet, "detail", level=logging.INFO) as expect:
            assert quiet.isEnabledFor(logging.INFO)
            quiet.info("detail")
        assert expect.matched == 1
        assert quiet.level == logging.WARNING
        with pytest.raises(MissingLogError):
            with (
                ExpectLog(quiet, "detail", level=logging.INFO),
                ExpectLog("squall.general", "Got expected log message", level=logging.WARNING),
            ):
                quiet.error("detail")  # right text, wrong level: not a match
    finally:
        quiet.setLevel(logging.NOTSET)


@pytest.mark.parametrize("kind", ["access", "application", "general"])
def test_tornado_logger_names_also_watch_squalls_loggers(kind: str) -> None:
    # Suites write ExpectLog("tornado.access", "404"): the string survives the renamed
    # imports, while squall logs the record on squall.access.
    squall_logger = logging.getLogger(f"squall.{kind}")
    before = squall_logger.level
    with ExpectLog(f"tornado.{kind}", "lost page", level=logging.DEBUG) as expect:
        assert squall_logger.isEnabledFor(logging.DEBUG)
        squall_logger.debug("lost page %s", "/x")
    assert expect.matched == 1
    assert squall_logger.level == before
    assert not squall_logger.filters
    with pytest.raises(MissingLogError, match="on logger 'tornado.access'"):
        with ExpectLog("tornado.access", "never"):
            pass


def test_a_record_on_the_tornado_logger_itself_still_matches() -> None:
    tornado_logger = logging.getLogger("tornado.general")
    with ExpectLog("tornado.general", "own record") as expect:
        tornado_logger.warning("own record")
    assert expect.matched == 1
