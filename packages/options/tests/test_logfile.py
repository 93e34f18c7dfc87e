"""The buffered, rotating log file of ``--log_file_prefix``."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from squall.options._logfile import (
    BufferedRotatingFileHandler,
    BufferedTimedRotatingFileHandler,
)


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("squall.options.tests.logfile")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    try:
        yield log
    finally:
        for handler in list(log.handlers):
            log.removeHandler(handler)
            handler.close()
        log.propagate = True
        log.setLevel(logging.NOTSET)


def on_disk(path: Path) -> str:
    """What another process would read now (not the handler's buffer)."""
    return path.read_text(encoding="utf-8") if path.exists() else ""


def attach(logger: logging.Logger, handler: logging.Handler) -> logging.Handler:
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    return handler


def test_info_lines_wait_in_the_buffer_until_flush(logger: logging.Logger, tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    handler = attach(logger, BufferedRotatingFileHandler(str(path), flush_interval=60))
    logger.info("first")
    logger.info("second")
    assert on_disk(path) == ""
    handler.flush()
    assert on_disk(path) == "INFO first\nINFO second\n"


def test_a_warning_is_on_disk_at_once_with_the_lines_before_it(
    logger: logging.Logger, tmp_path: Path
) -> None:
    path = tmp_path / "a.log"
    attach(logger, BufferedRotatingFileHandler(str(path), flush_interval=60))
    logger.info("before")
    logger.warning("trouble")
    assert on_disk(path) == "INFO before\nWARNING trouble\n"
    logger.error("worse")
    assert on_disk(path).endswith("ERROR worse\n")


def test_flush_interval_zero_writes_every_line_at_once(
    logger: logging.Logger, tmp_path: Path
) -> None:
    path = tmp_path / "a.log"
    attach(logger, BufferedRotatingFileHandler(str(path), flush_interval=0))
    logger.info("now")
    assert on_disk(path) == "INFO now\n"


def test_buffered_lines_reach_the_disk_by_themselves(
    logger: logging.Logger, tmp_path: Path
) -> None:
    path = tmp_path / "a.log"
    attach(logger, BufferedRotatingFileHandler(str(path), flush_interval=0.05))
    logger.info("later")
    deadline = time.monotonic() + 10  # bounded wait, not a timing assertion
    while on_disk(path) != "INFO later\n" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert on_disk(path) == "INFO later\n"
    logger.info("again")  # a new timer after the first one fired
    deadline = time.monotonic() + 10
    while "again" not in on_disk(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert on_disk(path) == "INFO later\nINFO again\n"


def test_close_writes_what_is_buffered(logger: logging.Logger, tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    handler = attach(logger, BufferedRotatingFileHandler(str(path), flush_interval=60))
    logger.info("kept")
    logger.removeHandler(handler)
    handler.close()
    assert on_disk(path) == "INFO kept\n"


def test_appends_to_an_existing_file_and_counts_its_size(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("x" * 150 + "\n", encoding="utf-8")
    handler = BufferedRotatingFileHandler(str(path), max_bytes=200, backup_count=1)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        record = logging.LogRecord("t", logging.INFO, "f.py", 1, "y" * 60, (), None)
        handler.handle(record)  # 151 + 61 >= 200: rotates before writing
    finally:
        handler.close()
    assert on_disk(Path(f"{path}.1")) == "x" * 150 + "\n"
    assert on_disk(path) == "y" * 60 + "\n"


def test_size_rotation_keeps_every_line_and_each_file_under_the_limit(
    logger: logging.Logger, tmp_path: Path
) -> None:
    path = tmp_path / "a.log"
    handler = attach(
        logger,
        BufferedRotatingFileHandler(str(path), max_bytes=120, backup_count=50, flush_interval=60),
    )
    for i in range(40):
        logger.info("line %02d with padding", i)  # 28 bytes a line
    handler.flush()
    files = sorted(tmp_path.iterdir())
    assert len(files) > 5
    lines = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert len(text.encode()) < 120
        lines.extend(text.splitlines())
    assert sorted(lines) == [f"INFO line {i:02d} with padding" for i in range(40)]


def test_size_is_counted_in_bytes_for_non_ascii_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    handler = BufferedRotatingFileHandler(str(path), max_bytes=100, backup_count=3)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        for _ in range(3):
            # 20 characters, 60 bytes in UTF-8: the second line crosses 100 bytes.
            handler.handle(logging.LogRecord("t", logging.INFO, "f.py", 1, "日" * 20, (), None))
    finally:
        handler.close()
    assert Path(f"{path}.1").exists()
    for f in tmp_path.iterdir():
        assert len(f.read_bytes()) <= 100


def test_time_rotation_happens_when_the_record_time_passes_the_rollover(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    handler = BufferedTimedRotatingFileHandler(str(path), when="S", backup_count=3)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        first = logging.LogRecord("t", logging.INFO, "f.py", 1, "before", (), None)
        handler.handle(first)
        later = logging.LogRecord("t", logging.INFO, "f.py", 1, "after", (), None)
        later.created = handler.rolloverAt + 1
        handler.handle(later)
        handler.flush()
    finally:
        handler.close()
    rotated = [f for f in tmp_path.iterdir() if f.name != "a.log"]
    assert len(rotated) == 1
    assert rotated[0].read_text(encoding="utf-8") == "before\n"
    assert on_disk(path) == "after\n"


def test_a_negative_flush_interval_is_refused_with_its_value(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"flush_interval must be >= 0 seconds, not -1"):
        BufferedRotatingFileHandler(str(tmp_path / "a.log"), flush_interval=-1)


FORK_SCRIPT = """
import logging, os, sys
from squall.options._logfile import BufferedRotatingFileHandler
handler = BufferedRotatingFileHandler(sys.argv[1], flush_interval=60)
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("forking")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.info("parent line")  # buffered, and a flush timer thread is waiting
pid = os.fork()
if pid == 0:
    log.info("child line")
    handler.flush()
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(status)
"""


def test_a_forked_child_does_not_write_its_parents_buffered_lines(tmp_path: Path) -> None:
    # In a fresh interpreter, with warnings as errors: forking while the flush timer thread
    # was alive would be "a fork of a multi-threaded process" (a DeprecationWarning on 3.12+).
    path = tmp_path / "a.log"
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", FORK_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert sorted(on_disk(path).splitlines()) == ["child line", "parent line"]


SIGTERM_SCRIPT = """
import logging, signal, sys, time
from squall.options._logfile import BufferedRotatingFileHandler
handler = BufferedRotatingFileHandler(sys.argv[1], flush_interval=60)
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("terminated")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.info("last request")  # buffered for up to a minute
print("ready", flush=True)
time.sleep(30)
"""


def test_sigterm_writes_the_buffered_lines_before_the_process_dies_of_it(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        assert on_disk(path) == ""  # still in the buffer
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGTERM, stderr  # still a death by the signal
    assert on_disk(path) == "last request\n"


def test_a_sigterm_handler_of_the_program_is_left_in_place(tmp_path: Path) -> None:
    def programs_own(signum: int, frame: object) -> None:  # pragma: no cover - never sent
        pass

    before = signal.signal(signal.SIGTERM, programs_own)
    try:
        handler = BufferedRotatingFileHandler(str(tmp_path / "a.log"), flush_interval=60)
        handler.close()
        assert signal.getsignal(signal.SIGTERM) is programs_own
    finally:
        signal.signal(signal.SIGTERM, before)
