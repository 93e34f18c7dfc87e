"""debug: ``debug=True`` (development) versus the default production mode.

Statements checked (the four features of 开发模式, each also settable alone):
1. autoreload — a saved change to the source restarts the app, which serves the new code;
   a saved error is reported (and, in squall, the reloader waits for the fix);
2. ``compiled_template_cache=False`` — an edited template shows on the next request;
   with the cache (production) it does not;
3. ``static_hash_cache=False`` — ``static_url`` gives the new hash of an edited file at
   once; with the cache it keeps the old one;
4. ``serve_traceback=True`` — an uncaught exception gives a 500 page with the traceback;
   without it, a 500 page without one.
"""

from __future__ import annotations

import os
import time

import httpx
import pytest

pytestmark = pytest.mark.slow

RELOAD_TIMEOUT = 15.0


def _get(srv, path: str) -> httpx.Response:
    return httpx.get(srv.url + path, timeout=5)


def _poll_body(srv, path: str, want: str, timeout: float = RELOAD_TIMEOUT) -> str:
    """GET path until its body contains `want` (the server may be restarting meanwhile)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            last = _get(srv, path).text
        except httpx.TransportError as exc:  # restarting: connection refused / reset
            last = repr(exc)
        if want in last:
            return last
        time.sleep(0.1)
    raise AssertionError(srv.describe(f"{path} never showed {want!r}; last: {last[:300]!r}"))


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    _save(path, text.replace(old, new))


def _save(path, text: str) -> None:
    """Save as careful editors do (write a new file, rename it over the old one), so that a
    watcher never sees a half-written file."""
    tmp = path.with_name(path.name + ".tmp~")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_edited_source_is_served_after_automatic_restart(examples_copy, launcher):
    with launcher.running_example(examples_copy / "debug.py") as srv:
        assert _get(srv, "/").text == "hello debug v1"
        time.sleep(1.1)  # let the watcher record the file's first mtime (1 s resolution)
        _edit(
            examples_copy / "debug.py", 'MESSAGE = "hello debug v1"', 'MESSAGE = "hello debug v2"'
        )
        _poll_body(srv, "/", "hello debug v2")


def test_syntax_error_while_editing_is_reported_and_the_fix_is_picked_up(examples_copy, launcher):
    with launcher.running_example(examples_copy / "debug.py") as srv:
        assert _get(srv, "/").text == "hello debug v1"
        time.sleep(1.1)
        source = examples_copy / "debug.py"
        good = source.read_text()
        mark = srv.mark()
        _save(source, good.replace('MESSAGE = "hello debug v1"', 'MESSAGE = "hello debug v3'))
        srv.wait_stderr("SyntaxError", mark, timeout=RELOAD_TIMEOUT)
        time.sleep(1.1)
        _save(source, good.replace('MESSAGE = "hello debug v1"', 'MESSAGE = "hello debug v3"'))
        _poll_body(srv, "/", "hello debug v3")


def test_without_debug_the_source_is_not_reloaded(examples_copy, launcher):
    with launcher.running_example(examples_copy / "debug.py", ["--debug=false"]) as srv:
        pid = _get(srv, "/pid").text
        _edit(
            examples_copy / "debug.py", 'MESSAGE = "hello debug v1"', 'MESSAGE = "hello debug v2"'
        )
        time.sleep(2.5)  # autoreload would restart within a second
        assert _get(srv, "/").text == "hello debug v1"
        assert _get(srv, "/pid").text == pid


def test_edited_template_shows_without_restart_under_debug(examples_copy, launcher):
    # autoreload off so that only the template cache is at work (and no restart can
    # explain the new page); debug=True still turns compiled_template_cache off.
    with launcher.running_example(
        examples_copy / "debug.py", ["--debug=true", "--autoreload=false"]
    ) as srv:
        pid = _get(srv, "/pid").text
        assert "template v1" in _get(srv, "/page").text
        _edit(examples_copy / "templates" / "debug.html", "template v1", "template v2")
        assert "template v2" in _get(srv, "/page").text
        assert _get(srv, "/pid").text == pid


def test_edited_template_shows_under_debug_with_autoreload_same_pid(examples_copy, launcher):
    with launcher.running_example(examples_copy / "debug.py") as srv:
        pid = _get(srv, "/pid").text
        assert "template v1" in _get(srv, "/page").text
        _edit(examples_copy / "templates" / "debug.html", "template v1", "template v2")
        assert "template v2" in _get(srv, "/page").text
        assert _get(srv, "/pid").text == pid


def test_edited_template_is_cached_without_debug(examples_copy, launcher):
    with launcher.running_example(examples_copy / "debug.py", ["--debug=false"]) as srv:
        assert "template v1" in _get(srv, "/page").text
        _edit(examples_copy / "templates" / "debug.html", "template v1", "template v2")
        page = _get(srv, "/page").text
        assert "template v1" in page and "template v2" not in page


def test_compiled_template_cache_false_alone(examples_copy, launcher):
    with launcher.running_example(
        examples_copy / "debug.py", ["--debug=false", "--compiled_template_cache=false"]
    ) as srv:
        assert "template v1" in _get(srv, "/page").text
        _edit(examples_copy / "templates" / "debug.html", "template v1", "template v2")
        assert "template v2" in _get(srv, "/page").text


def test_edited_static_file_gets_a_new_static_url_under_debug(examples_copy, launcher):
    with launcher.running_example(
        examples_copy / "debug.py", ["--debug=true", "--autoreload=false"]
    ) as srv:
        pid = _get(srv, "/pid").text
        before = _get(srv, "/static_url").text
        assert before.startswith("/static/css/style.css?v="), before
        _edit(examples_copy / "statics" / "css" / "style.css", "#235", "#532")
        after = _get(srv, "/static_url").text
        assert after.startswith("/static/css/style.css?v=") and after != before
        assert "#532" in _get(srv, after).text
        assert _get(srv, "/pid").text == pid


def test_static_url_hash_is_cached_without_debug(examples_copy, launcher):
    with launcher.running_example(examples_copy / "debug.py", ["--debug=false"]) as srv:
        before = _get(srv, "/static_url").text
        assert before.startswith("/static/css/style.css?v="), before
        _edit(examples_copy / "statics" / "css" / "style.css", "#235", "#532")
        assert _get(srv, "/static_url").text == before


def test_static_hash_cache_false_alone(examples_copy, launcher):
    with launcher.running_example(
        examples_copy / "debug.py", ["--debug=false", "--static_hash_cache=false"]
    ) as srv:
        before = _get(srv, "/static_url").text
        _edit(examples_copy / "statics" / "css" / "style.css", "#235", "#532")
        assert _get(srv, "/static_url").text != before


def test_traceback_page_under_debug(launcher):
    with launcher.running_example("debug.py", ["--autoreload=false"]) as srv:
        r = _get(srv, "/boom")
        assert r.status_code == 500
        assert "Traceback" in r.text and "ZeroDivisionError" in r.text
        assert "BoomHandler" in r.text or "1 / 0" in r.text


def test_serve_traceback_alone(launcher):
    with launcher.running_example("debug.py", ["--debug=false", "--serve_traceback=true"]) as srv:
        r = _get(srv, "/boom")
        assert r.status_code == 500
        assert "ZeroDivisionError" in r.text


def test_no_traceback_page_without_debug(launcher):
    with launcher.running_example("debug.py", ["--debug=false"]) as srv:
        r = _get(srv, "/boom")
        assert r.status_code == 500
        assert "Traceback" not in r.text and "ZeroDivisionError" not in r.text
        assert "500" in r.text
        # The traceback goes to the log (squall.application) instead; nothing configures
        # logging in this example, so it reaches stderr through logging's last resort.
        srv.wait_stderr("ZeroDivisionError")


def test_debug_with_several_processes_is_refused(tmp_path, launcher):
    script = tmp_path / "debug_fork.py"
    script.write_text(
        "import squall.http, squall.loop, squall.web\n"
        "app = squall.web.Application([], debug=True)\n"
        "server = squall.http.HTTPServer(app)\n"
        "server.bind(0, '127.0.0.1')\n"
        "server.start(2)\n"
        "squall.loop.IOLoop.current().start()\n"
    )
    result = launcher.run(script, [], timeout=15)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "autoreload" in last and "process" in last, result.stderr
