"""``squall run``: logging, TLS, and serving an Application on sockets until a signal.

The serving sequence, in each serving process (after the fork of ``--processes``, so that
no event loop is ever copied into a child):

1. a new IOLoop, uvloop or plain asyncio as ``--uvloop``/``--no-uvloop`` say (by default
   squall.loop's rule: uvloop when installed, unless ``SQUALL_NO_UVLOOP=1``);
2. an ``HTTPServer`` on the sockets, whose shutdown runs the application's ``shutdown()``
   (the plugins' ``squall_web_shutdown`` hooks), as ``Application.listen`` arranges;
3. the application's startup hooks, run to completion before the first request;
4. SIGTERM and SIGINT: stop accepting, finish the requests in flight (``--shutdown-timeout``
   seconds at most), close idle keep-alive connections, stop the loop. The process then
   exits with status 0, without a traceback (Ctrl-C included).

Logging is an application's choice, not a library's: the command is the application here,
so it sets the root logger's level (``--log-level``) and, unless the program installed a
handler of its own, adds one that writes to stderr in the format Tornado users know
(``[I 261207 01:02:03 web:42] 200 GET / (127.0.0.1) 0.31ms``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import ssl
import sys
import threading

from squall.http import HTTPServer
from squall.loop import IOLoop
from squall.web._application import Application

LOG_FORMAT = "[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d] %(message)s"
DATE_FORMAT = "%y%m%d %H:%M:%S"
ACCESS_LOGGER = "squall.access"

# Above CRITICAL: nothing passes, and web's access log returns after one isEnabledFor (no
# record is built) — the cost of a log that is off stays one cached lookup per request.
_OFF = logging.CRITICAL + 10


class TLSSetupError(Exception):
    """The certificate or key of ``--ssl-certfile``/``--ssl-keyfile`` cannot be used."""


def configure_logging(level: int, access_log: bool) -> None:
    """Set the root level, add a stderr handler when there is none, turn the access log on/off."""
    root = logging.getLogger()
    root.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
        root.addHandler(handler)
    access = logging.getLogger(ACCESS_LOGGER)
    # NOTSET: inherit the root's level (on); _OFF: nothing (off).
    access.setLevel(logging.NOTSET if access_log else _OFF)


def tls_context(certfile: str | None, keyfile: str | None) -> ssl.SSLContext | None:
    """A server TLS context for the certificate chain (and key), or None without a certificate.

    Raises:
        TLSSetupError: a key without a certificate, a missing file, or files that do not load.
    """
    if certfile is None:
        if keyfile is not None:
            raise TLSSetupError("--ssl-keyfile needs --ssl-certfile")
        return None
    for option, path in (("--ssl-certfile", certfile), ("--ssl-keyfile", keyfile)):
        if path is not None:
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise TLSSetupError(f"{option} {path!r}: {exc.strerror}") from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, ValueError) as exc:
        files = certfile if keyfile is None else f"{certfile} and {keyfile}"
        raise TLSSetupError(f"cannot load the certificate and key from {files}: {exc}") from None
    return context


def serve(
    app: Application,
    sockets: list[socket.socket],
    *,
    ssl_context: ssl.SSLContext | None = None,
    use_uvloop: bool | None = None,
    xheaders: bool = False,
    shutdown_timeout: float = 10.0,
    ready_lines: list[str] | None = None,
) -> None:
    """Serve ``app`` on ``sockets`` in this process until SIGTERM/SIGINT (see the docstring).

    ``ready_lines`` are printed (flushed) once the loop runs and the signal handlers are in.
    """
    ioloop = IOLoop(use_uvloop=use_uvloop)
    try:
        server = HTTPServer(app, ssl_options=ssl_context, xheaders=xheaders)
        server.add_shutdown_callback(app.shutdown)
        server.add_sockets(sockets)
        ioloop.run_sync(app.startup)

        def ready() -> None:
            # Installed from inside the running loop, not before start(): uvloop drops a
            # signal that arrives while its loop is stopped (between run_sync and start), so
            # a SIGTERM sent as soon as "serving on" appeared could be lost and the process
            # would never stop. Until this runs, a signal has its default effect (SIGINT: a
            # KeyboardInterrupt, which main() turns into a quiet exit).
            server.install_signal_handlers(timeout=shutdown_timeout)
            for line in ready_lines or ():
                print(line, flush=True)

        ioloop.add_callback(ready)
        ioloop.start()
        _ignore_late_stop_signals(ioloop.asyncio_loop)
    finally:
        ioloop.close(all_fds=False)


def _ignore_late_stop_signals(loop: asyncio.AbstractEventLoop) -> None:
    """The server has stopped and the process is on its way out: ignore SIGTERM/SIGINT.

    A second Ctrl-C (or an orchestrator's repeated SIGTERM) often lands while the process
    exits. Left to the loop it would find its handler gone: closing the loop puts Python's
    defaults back (SIGINT: a KeyboardInterrupt raised anywhere in the teardown; during
    interpreter finalization SIG_DFL, a death by the signal, status -2), and between the
    closing of the loop's wake-up pipe and the removal of its handlers the signal's write
    fails ("Exception ignored ... Bad file descriptor"). So the handlers are taken out and
    the signals ignored with both signals blocked, which discards any that arrived between.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # signal dispositions can only be changed from the main thread
    stops = {signal.SIGTERM, signal.SIGINT}
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        for sig in stops:
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
