"""The access log into ``--log_file_prefix``'s file: the direct path and the record path.

Real applications answer real requests (an HTTPServer on 127.0.0.1 port 0, httpx), with
logging set up the way a script sets it up: ``parse_command_line`` on the global options.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import squall.options
import squall.web
from squall.http import HTTPServer
from squall.loop import bind_sockets
from squall.web import Application, RequestHandler

LINE = re.compile(
    r"^\[(?P<level>[IWE]) \d{6} \d\d:\d\d:\d\d (?P<where>\w+:\d+)\] "
    r"(?P<status>\d{3}) (?P<method>[A-Z]+) (?P<uri>\S+) \((?P<ip>[\d.]+)\) \d+\.\d\dms$"
)


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("hello word")


class Boom(RequestHandler):
    def get(self) -> None:
        raise RuntimeError("boom")


def serve(app: Application, paths: list[str], between: Callable[[], None] | None = None) -> None:
    """GET each path from ``app`` over one keep-alive connection; ``between`` after the first."""

    async def go() -> None:
        sockets = bind_sockets(0, "127.0.0.1")
        port = sockets[0].getsockname()[1]
        server = HTTPServer(app)
        server.add_sockets(sockets)
        try:
            async with httpx.AsyncClient() as client:
                for i, path in enumerate(paths):
                    await client.get(f"http://127.0.0.1:{port}{path}", timeout=10)
                    if i == 0 and between is not None:
                        between()
            await asyncio.sleep(0)  # the last response's batch callback runs
        finally:
            server.stop()
            await server.shutdown(timeout=5)

    asyncio.run(go())


def lines_of(path: Path) -> list[str]:
    """The file's lines once every buffered line is written."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8").splitlines()


@contextlib.contextmanager
def script_like_root() -> Iterator[None]:
    """The root logger without pytest's capture handlers (added for each test phase), so
    that it holds only what parse_command_line set up, as in a real script."""
    root = logging.getLogger()
    theirs = [h for h in root.handlers if not getattr(h, "_squall_options_handler", False)]
    for handler in theirs:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in theirs:
            root.addHandler(handler)


@pytest.fixture
def log_file(squall_options: squall.options.OptionParser, tmp_path: Path) -> Path:
    path = tmp_path / "access.log"
    squall.options.parse_command_line(["app.py", f"--log_file_prefix={path}"])
    return path


def test_with_only_the_log_file_no_record_is_made(log_file: Path) -> None:
    access = logging.getLogger("squall.access")
    records: list[logging.LogRecord] = []
    access.handle = records.append  # type: ignore[method-assign]  # the record path's call
    try:
        with script_like_root():
            serve(Application([(r"/", Hello)]), ["/", "/missing"])
    finally:
        del access.handle
    assert records == []
    statuses = [m.group("status") for m in map(LINE.match, lines_of(log_file)) if m]
    assert statuses == ["200", "404"]


def test_every_request_has_its_line_in_the_log_file(log_file: Path) -> None:
    app = Application([(r"/", Hello), (r"/boom", Boom)])
    with script_like_root():
        serve(app, ["/?a=1&b=%20", "/missing", "/boom", "/"])
    lines = lines_of(log_file)
    access = [m.groupdict() for m in map(LINE.match, lines) if m]
    got = [(a["level"], a["status"], a["uri"]) for a in access]
    assert got == [
        ("I", "200", "/?a=1&b=%20"),
        ("W", "404", "/missing"),
        ("E", "500", "/boom"),
        ("I", "200", "/"),
    ]
    assert {a["ip"] for a in access} == {"127.0.0.1"}
    # The 500's traceback is logged too (app log, through the same file).
    assert any("RuntimeError: boom" in line for line in lines)


def test_the_direct_and_the_record_path_write_the_same_line(log_file: Path) -> None:
    app = Application([(r"/.*", Hello)])
    access = logging.getLogger("squall.access")
    keep_all = logging.Filter()  # a filter (letting everything through) forces records

    def add_filter() -> None:
        access.addFilter(keep_all)

    try:
        with script_like_root():
            serve(app, ["/same", "/same"], between=add_filter)
    finally:
        access.removeFilter(keep_all)
    first, second = (m for m in map(LINE.match, lines_of(log_file)) if m)
    assert first.group("where") == second.group("where")
    assert first.group("where").startswith("_accesslog:")
    strip = re.compile(r"\d\d:\d\d:\d\d|\d+\.\d\dms")
    assert strip.sub("", first.string) == strip.sub("", second.string)


def test_a_format_set_on_the_log_file_handler_is_used_for_access_lines(log_file: Path) -> None:
    root = logging.getLogger()
    (handler,) = (h for h in root.handlers if getattr(h, "_squall_options_handler", False))
    handler.setFormatter(squall.options.LogFormatter(fmt="ACCESS %(levelname)s %(message)s"))
    with script_like_root():
        serve(Application([(r"/.*", Hello)]), ["/formatted"])
    access = [line for line in lines_of(log_file) if "GET /formatted (" in line]
    assert len(access) == 1 and access[0].startswith("ACCESS INFO 200 GET /formatted ")


def test_a_filter_on_the_access_logger_is_honoured(log_file: Path) -> None:
    class NoHealth(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "/health" not in record.getMessage()

    access = logging.getLogger("squall.access")
    flt = NoHealth()
    access.addFilter(flt)
    try:
        with script_like_root():
            serve(Application([(r"/.*", Hello)]), ["/health", "/page"])
    finally:
        access.removeFilter(flt)
    uris = [m.group("uri") for m in map(LINE.match, lines_of(log_file)) if m]
    assert uris == ["/page"]


def test_another_handler_added_at_run_time_gets_the_records(log_file: Path) -> None:
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    collect = Collect()
    try:
        with script_like_root():
            serve(
                Application([(r"/.*", Hello)]),
                ["/one", "/two"],
                between=lambda: root.addHandler(collect),
            )
    finally:
        root.removeHandler(collect)
    assert [r.getMessage().split(" (")[0] for r in seen if r.name == "squall.access"] == [
        "200 GET /two"
    ]
    uris = [m.group("uri") for m in map(LINE.match, lines_of(log_file)) if m]
    assert uris == ["/one", "/two"]


def test_the_level_decides_which_lines_are_written(
    squall_options: squall.options.OptionParser, tmp_path: Path
) -> None:
    path = tmp_path / "access.log"
    squall.options.parse_command_line(["app.py", f"--log_file_prefix={path}", "--logging=warning"])
    with script_like_root():
        serve(Application([(r"/", Hello)]), ["/", "/missing", "/"])
    got = [(m.group("level"), m.group("status")) for m in map(LINE.match, lines_of(path)) if m]
    assert got == [("W", "404")]


def test_a_warning_line_is_on_disk_without_a_flush(log_file: Path) -> None:
    with script_like_root():
        serve(Application([(r"/", Hello)]), ["/missing"])
    text = log_file.read_text(encoding="utf-8")  # no flush: read what another process sees
    assert "404 GET /missing (127.0.0.1)" in text


def test_an_application_subclass_log_request_override_is_called(log_file: Path) -> None:
    seen: list[str] = []

    class Audited(Application):
        def log_request(self, handler: RequestHandler) -> None:
            seen.append(handler.request.uri)
            super().log_request(handler)

    with script_like_root():
        serve(Audited([(r"/.*", Hello)]), ["/x", "/y"])
    assert seen == ["/x", "/y"]
    uris = [m.group("uri") for m in map(LINE.match, lines_of(log_file)) if m]
    assert uris == ["/x", "/y"]


def test_the_log_function_uses_web_log_request_as_its_record_path() -> None:
    # The options plugin falls back on web's public default (same module:line in both).
    assert squall.web.log_request.__module__ == "squall.web._accesslog"


LOOP_STOPS_SCRIPT = """
import asyncio, socket, sys
import squall.options, squall.web
from squall.http import HTTPServer
from squall.loop import bind_sockets

squall.options.parse_command_line(["app.py", "--log_file_prefix=" + sys.argv[1]])

class Last(squall.web.RequestHandler):
    def get(self):
        self.write("bye")
        self.finish()
        # Stop the loop in the same iteration the response (and its access line) finished:
        # the batch's callback never runs; the line must be written at exit all the same.
        asyncio.get_running_loop().stop()

app = squall.web.Application([(r"/", Last)])
loop = asyncio.new_event_loop()
sockets = bind_sockets(0, "127.0.0.1")
port = sockets[0].getsockname()[1]
async def start():
    HTTPServer(app).add_sockets(sockets)
loop.run_until_complete(start())
client = socket.create_connection(("127.0.0.1", port))
client.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
loop.run_forever()
print(client.recv(4096).split(b"\\r\\n")[0].decode())
client.close()
"""


def test_a_line_pending_when_the_loop_stops_is_written_at_exit(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LOOP_STOPS_SCRIPT), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "HTTP/1.1 200 OK\n", proc.stderr
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [m.group("status") for m in map(LINE.match, lines) if m] == ["200"]


def test_lines_reach_the_disk_within_the_flush_interval_by_themselves(log_file: Path) -> None:
    with script_like_root():
        serve(Application([(r"/", Hello)]), ["/by-itself"])
    deadline = time.monotonic() + 10  # bounded wait for the timer; not a timing assertion
    while "/by-itself" not in log_file.read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, "the buffered line never reached the file"
        time.sleep(0.05)


def test_a_failing_log_file_is_reported_once_and_the_request_still_answered(
    log_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (handler,) = [
        h for h in logging.getLogger().handlers if getattr(h, "_squall_options_handler", False)
    ]

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    handler.write_line = disk_full  # type: ignore[attr-defined]
    statuses: list[int] = []

    async def get() -> None:
        sockets = bind_sockets(0, "127.0.0.1")
        port = sockets[0].getsockname()[1]
        server = HTTPServer(Application([(r"/", Hello)]))
        server.add_sockets(sockets)
        try:
            async with httpx.AsyncClient() as client:
                r = await client.get(f"http://127.0.0.1:{port}/", timeout=10)
                statuses.append(r.status_code)
            await asyncio.sleep(0)
        finally:
            server.stop()
            await server.shutdown(timeout=5)

    with script_like_root():
        asyncio.run(get())
    del handler.write_line  # type: ignore[attr-defined]
    assert statuses == [200]
    err = capsys.readouterr().err
    # Reported (once: not retried through the record path, which would report it again);
    # httpx's own INFO line fails on the same file and is reported separately.
    assert err.count("200 GET / (127.0.0.1)") == 1
    assert "--- Logging error ---" in err and "No space left on device" in err
