"""Autoreload: restart the process when a source file changes (``debug`` / ``autoreload=True``).

Theory of operation
-------------------
- What is watched: the file of every loaded module (``sys.modules``, read again at every
  check, so modules imported later are watched too) and the files given to :func:`watch`.
  Templates and static files are not: the template and static caches handle those without
  a restart (``compiled_template_cache`` / ``static_hash_cache`` are off under ``debug``).
- How: a daemon thread compares each file's ``(st_mtime_ns, st_size)`` with what it saw
  before, every ``check_time`` seconds (0.5 s: a change shows within a second). Polling
  needs no dependency and no event loop: it works before the loop starts, with
  ``asyncio.run``, with uvloop, and while a handler blocks the loop. Its cost is one
  ``stat()`` per loaded module per check (0.65 ms for the 270 files of a small app), paid only in
  development. A file-events library (watchfiles, watchdog) would save those stats but adds a
  compiled dependency to every squall-web install for a development-only feature, and still
  needs the same syntax check and re-exec logic.
- Every reference state is taken before anything that lets a change happen unseen: a file
  given to :func:`watch` compares with its state at that call (even before the reloader
  starts), and the wrapper below records the files before it says it is waiting (a user
  editing right after the message would otherwise edit the reference). What polling cannot
  know is the state of a module file when it was imported: a module is recorded when the
  reloader first sees it (at its start, or at the first check after a later import), so an
  edit landing between the import and that moment is not a change. Comparing mtimes with
  the process start time instead would close that gap but restart forever a program that
  writes a module it then imports.
- Before restarting, every changed ``.py`` file (and every file that failed before) is
  compiled. A ``SyntaxError`` is logged on ``squall.general`` (file, line, the caret) and
  the process keeps serving the old code; the next change is checked again. So saving a
  half-edited file never kills the development server (Tornado's reloader dies there).
- The restart: reload hooks run, stdio and logging handlers are flushed, every socket is
  made non-inheritable (Python's are already; this covers sockets inherited from elsewhere)
  so the listening port is free for the new process, the working directory is restored, then
  ``os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])``: the same interpreter
  options, the same ``-m module`` or script, the same arguments. The pid does not change.
- Several processes are refused: autoreload restarts one process and cannot supervise
  children. Started inside a child of ``fork_processes`` (``task_id()`` is set), it raises
  ``ConfigurationError``; started before, it marks the process so that a later
  ``fork_processes`` / ``HTTPServer.start(n > 1)`` refuses to fork (``squall.loop.forbid_fork``,
  in the parent, before any child exists), with a message that names autoreload.
- Lifetime: the reloader started for an Application stops once no such Application is alive
  (a test that built a ``debug=True`` app does not leave a reloader running in the test
  process); :func:`start` called directly runs for the life of the process.
- ``python -m squall.web.autoreload script.py [args]`` (or ``-m module``) runs a program
  under the reloader and, when it dies at import or start-up (any exception), waits for a
  change instead of exiting.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import runpy
import stat
import sys
import threading
import traceback
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from squall.loop import forbid_fork, task_id
from squall.web._errors import ConfigurationError

if TYPE_CHECKING:
    from squall.web._application import Application

gen_log = logging.getLogger("squall.general")

CHECK_TIME = 0.5
"""Seconds between two checks of the watched files."""

THREAD_NAME = "squall-autoreload"

# fork_processes' refusal reads "fork_processes() refused: <this>".
_FORK_REFUSAL = (
    "squall.web's autoreload is on (debug=True or autoreload=True); it restarts a single "
    "process and cannot run with several processes: turn autoreload off (autoreload=False) "
    "to fork"
)

Signature = tuple[int, int]

_extra_files: set[str] = set()
# The state of files given to watch() before a reloader runs, taken when watch() was called:
# the reloader starts from it, so a change made in between is still a change.
_pending_signatures: dict[str, Signature] = {}
_reload_hooks: list[Callable[[], None]] = []
_lock = threading.RLock()  # re-entered: _start() builds a _Reloader, which reads the files
_reloader: _Reloader | None = None
_at_fork_registered = False
# The directory the program started in: a relative script path in argv is relative to it.
_initial_cwd = os.getcwd()


def _signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)
    except OSError:
        return None  # missing (an editor replacing the file): looked at again next time
    return (st.st_mtime_ns, st.st_size)


def module_files() -> set[str]:
    """The source files of every loaded module, plus the files given to :func:`watch`."""
    with _lock:  # watch() may add a file from another thread meanwhile
        files = set(_extra_files)
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str):
            files.add(os.path.abspath(path))
    return files


def compile_errors(paths: Iterable[str]) -> list[tuple[str, BaseException]]:
    """The ``.py`` files among ``paths`` that do not compile, with their error."""
    errors: list[tuple[str, BaseException]] = []
    for path in sorted(paths):
        if not path.endswith(".py"):
            continue
        try:
            with open(path, "rb") as f:
                source = f.read()
            compile(source, path, "exec", dont_inherit=True)
        except OSError:
            continue  # gone or unreadable now: the next check sees what becomes of it
        except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes in the source
            errors.append((path, exc))
    return errors


def forget_bytecode(paths: Iterable[str]) -> None:
    """Remove the cached bytecode (``__pycache__``) of the ``.py`` files among ``paths``.

    A cached ``.pyc`` is trusted when the source's size and its mtime in whole seconds
    match: an edit that keeps the size (``"one"`` -> ``"two"``) within the second the cache
    was written would restart the program into the old code (a module run with ``-m``, an
    imported module). Without the cache the restarted program compiles the source anew.
    """
    for path in paths:
        if not path.endswith(".py"):
            continue
        try:
            os.remove(importlib.util.cache_from_source(path))
        except (OSError, ValueError, NotImplementedError):
            pass  # none written, read-only, or no cache tag: nothing stale to fear


def main_file() -> str | None:
    """The source file of ``__main__`` (the script being run), if it is a ``.py`` file."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if isinstance(path, str) and path.endswith(".py"):
        return os.path.abspath(path)
    return None


class _Reloader:
    """The state of the reloader of this process (see the module docstring).

    Args:
        check_time: seconds between checks.
        restart: what to do once changed files all compile (``exec_restart``; tests pass
            a recorder).
        files: the files to watch (``module_files``).
        main: the script's own file (``main_file``), compiled before every restart too:
            saved with a syntax error after the last check but before another file's change
            triggers the restart, it would otherwise kill the restarted process at import.
    """

    def __init__(
        self,
        check_time: float = CHECK_TIME,
        restart: Callable[[list[str]], None] | None = None,
        files: Callable[[], set[str]] = module_files,
        main: Callable[[], str | None] = main_file,
    ) -> None:
        self.check_time = check_time
        self.restart = restart or exec_restart
        self.files = files
        self.main = main
        self.pid = os.getpid()
        self.signatures: dict[str, Signature] = {}
        self.broken: set[str] = set()
        self.owners: weakref.WeakSet[Application] = weakref.WeakSet()
        self.forever = False
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.record(self.files())
        # Files given to watch() before now compare with their state at that call, not with
        # the state seen now (an edit in between would become the reference, never a change).
        with _lock:
            self.signatures.update(_pending_signatures)
            _pending_signatures.clear()

    def record(self, paths: Iterable[str]) -> None:
        """Remember the current signature of ``paths`` not seen before."""
        for path in paths:
            if path not in self.signatures:
                sig = _signature(path)
                if sig is not None:
                    self.signatures[path] = sig

    def changed(self) -> list[str]:
        """Files whose signature changed since the last check (new files are recorded)."""
        out: list[str] = []
        for path in self.files():
            sig = _signature(path)
            if sig is None:
                continue
            old = self.signatures.get(path)
            self.signatures[path] = sig
            if old is not None and old != sig:
                out.append(path)
        return out

    def check(self) -> bool:
        """One check; True when a restart was asked for."""
        changed = self.changed()
        if not changed:
            return False
        to_compile = set(changed) | self.broken
        script = self.main()
        if script is not None:
            to_compile.add(script)
        errors = compile_errors(to_compile)
        self.broken = {path for path, _ in errors}
        if errors:
            for path, exc in errors:
                detail = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
                gen_log.error(
                    "autoreload: %s does not compile; still running the old code, "
                    "waiting for the next change:\n%s",
                    path,
                    detail,
                )
            return False
        gen_log.info("autoreload: %s modified; restarting", ", ".join(sorted(changed)))
        forget_bytecode(changed)
        self.restart(changed)
        return True

    def alive(self) -> bool:
        """Whether someone still wants this reloader (see "Lifetime" in the docstring)."""
        return self.forever or len(self.owners) > 0

    def run(self) -> None:
        """The body of the watcher thread."""
        global _reloader
        while not self.stopped.wait(self.check_time):
            if os.getpid() != self.pid or not self.alive():
                break
            try:
                self.check()
            except Exception:
                gen_log.error("autoreload: error while checking files", exc_info=True)
        with _lock:
            if _reloader is self:
                _reloader = None

    def start_thread(self) -> None:
        self.thread = threading.Thread(target=self.run, name=THREAD_NAME, daemon=True)
        self.thread.start()


def restart_argv(
    executable: str,
    orig_argv: Sequence[str] | None,
    argv: Sequence[str],
    main_spec_name: str | None,
) -> list[str]:
    """The command line that runs this program again.

    ``sys.orig_argv`` (3.10+) is the command line as typed, interpreter options and
    ``-m module`` included; without it, ``-m`` runs are rebuilt from ``__main__.__spec__``
    (``sys.argv[0]`` is then the module's file, which would not import as a package).
    """
    if orig_argv:
        return [executable, *orig_argv[1:]]
    if main_spec_name:
        name = main_spec_name.removesuffix(".__main__")
        return [executable, "-m", name, *argv[1:]]
    return [executable, *argv]


def _close_on_exec_all_sockets() -> None:
    # Python's own sockets are non-inheritable already; a socket inherited from a parent or
    # built with socket.fromfd() may not be, and would keep the port bound in the new image.
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return  # not Linux: Python's defaults are all we rely on
    for fd in fds:
        if fd <= 2:
            continue
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.set_inheritable(fd, False)
        except OSError:
            continue


def exec_restart(changed: Sequence[str] = ()) -> None:
    """Replace this process by a new run of the same command line (``os.execv``)."""
    for hook in list(_reload_hooks):
        try:
            hook()
        except Exception:
            gen_log.error("autoreload: error in a reload hook", exc_info=True)
    for handler in logging.getLogger().handlers + gen_log.handlers:
        try:
            handler.flush()
        except Exception:  # a broken handler must not keep the old code running
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass
    _close_on_exec_all_sockets()
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    argv = restart_argv(
        sys.executable, getattr(sys, "orig_argv", None), sys.argv, getattr(spec, "name", None)
    )
    try:
        os.chdir(_initial_cwd)
        os.execv(sys.executable, argv)
    except OSError:
        gen_log.error("autoreload: cannot restart with %r", argv, exc_info=True)


def watch(filename: str | os.PathLike[str]) -> None:
    """Also restart when ``filename`` changes (a config file, a data file...).

    May be called before or after the reloader starts; the file's state at this call is the
    reference from which a change is seen (before the reloader starts too: a change made
    between this call and the start is seen at the first check).
    """
    path = os.path.abspath(os.fspath(filename))
    with _lock:
        _extra_files.add(path)
        if _reloader is not None and not _reloader.stopped.is_set():
            _reloader.record([path])
        else:
            sig = _signature(path)
            if sig is not None:
                _pending_signatures.setdefault(path, sig)


def add_reload_hook(fn: Callable[[], None]) -> None:
    """Call ``fn()`` just before the process restarts (flush, close what is not a socket)."""
    _reload_hooks.append(fn)


def _refuse_in_child() -> None:
    tid = task_id()
    if tid is not None:
        raise ConfigurationError(
            f"autoreload (debug=True or autoreload=True) cannot run with several processes: "
            f"this is child {tid} of fork_processes()/HTTPServer.start(n). Turn autoreload "
            "off (autoreload=False) or run a single process."
        )


def _after_fork_in_child() -> None:
    # A fork that fork_processes did not refuse (os.fork, multiprocessing): the watcher
    # thread does not exist in the child, and the child must not restart itself.
    global _reloader
    reloader = _reloader
    if reloader is not None and reloader.pid != os.getpid():
        _reloader = None
        reloader.stopped.set()


def _start(owner: Application | None, check_time: float) -> None:
    global _reloader, _at_fork_registered
    _refuse_in_child()
    with _lock:
        reloader = _reloader
        if reloader is None or reloader.pid != os.getpid() or reloader.stopped.is_set():
            reloader = _reloader = _Reloader(check_time)
            if not _at_fork_registered:
                os.register_at_fork(after_in_child=_after_fork_in_child)
                _at_fork_registered = True
            # fork_processes() refuses to fork once this process is marked (its check runs
            # in the parent, before any child exists, so the error reaches the caller).
            forbid_fork(_FORK_REFUSAL)
            reloader.start_thread()
        if owner is None:
            reloader.forever = True
        else:
            reloader.owners.add(owner)


def start(check_time: float = CHECK_TIME) -> None:
    """Start watching (for the life of the process): restart when a watched file changes.

    ``Application(debug=True)`` / ``Application(autoreload=True)`` calls this for you.
    Calling it again does nothing.

    Raises:
        ConfigurationError: this process is a child of ``fork_processes`` (autoreload
            cannot run with several processes).
    """
    _start(None, check_time)


def start_for(app: Application) -> None:
    """Start watching for as long as ``app`` is alive (what ``Application`` calls)."""
    _start(app, CHECK_TIME)


def is_running() -> bool:
    """Whether a reloader is watching files in this process."""
    reloader = _reloader
    return (
        reloader is not None
        and reloader.pid == os.getpid()
        and reloader.thread is not None
        and reloader.thread.is_alive()
    )


def _watch_after_failure(failed: BaseException | None) -> None:
    """Start watching the files seen so far (and those of the traceback).

    Returns once their state is recorded: only then may the user be told that a change is
    awaited, or an edit made right after the message could become the reference state and
    never be seen as a change.
    """
    if failed is not None:
        tb = failed.__traceback__
        for frame_summary in traceback.extract_tb(tb):
            watch(frame_summary.filename)
        filename = getattr(failed, "filename", None)
        if isinstance(filename, str):
            watch(filename)
    _start(None, CHECK_TIME)


def _wait_for_change(failed: BaseException | None, announce: str | None = None) -> None:
    """Watch the files seen so far (and those of the traceback) until one changes.

    ``announce`` is printed on stderr once the files' state is recorded (see
    :func:`_watch_after_failure`); a caller must not print its own "waiting" line before
    calling, for the same reason.
    """
    _watch_after_failure(failed)
    if announce is not None:
        print(announce, file=sys.stderr, flush=True)
    threading.Event().wait()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m squall.web.autoreload [-m module | script.py] [args...]``.

    Runs the program as ``__main__``; when it raises (a syntax error at import, a failure
    at start-up) the traceback is printed and the reloader waits for a change to any file
    loaded so far, then runs the program again. A clean exit exits.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m squall.web.autoreload [-m module | script.py] [args...]"
    if not args:
        print(usage, file=sys.stderr)
        raise SystemExit(2)
    if args[0] == "-m":
        if len(args) < 2:
            print(usage, file=sys.stderr)
            raise SystemExit(2)
        target, rest, as_module = args[1], args[2:], True
    else:
        target, rest, as_module = args[0], args[1:], False
    failed: BaseException | None = None
    if as_module:
        sys.argv = [target, *rest]
    else:
        watch(target)  # its state before the run is the reference: an edit during it counts
        sys.argv = [target, *rest]
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    try:
        if as_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        if exc.code in (None, 0):
            raise
        failed = exc
        print(f"squall.web.autoreload: {target} exited with status {exc.code}", file=sys.stderr)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        failed = exc
        traceback.print_exc()
    _wait_for_change(failed, "squall.web.autoreload: waiting for a change to restart")
