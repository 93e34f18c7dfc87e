"""The app that runs behind nginx in deploy/ and in integration_tests/test_deploy_nginx.py.

One process per port, as the notes advise (多进程, note 4)::

    python deploy/app.py --port=8001 --address=127.0.0.1
    squall run app:make_app --factory --port 8001 --xheaders    # the same, from deploy/

- ``GET /`` answers JSON ``{"pid": ..., "remote_ip": ..., "protocol": ..., "version": ...}``:
  which process answered, and the client's address as squall sees it (``xheaders=True``
  makes that the address nginx passed in ``X-Real-IP`` / ``X-Forwarded-For``).
- ``GET /slow?ms=N`` answers after N milliseconds (a request in flight during a restart).
- ``POST /write`` is a non-idempotent request (counts what it was sent).
- ``GET /healthz`` is the health route of the ``health_path`` setting: 200 while serving,
  503 once shutdown began.
- SIGTERM: stop accepting, finish the requests in flight, exit 0 (within ``--drain``
  seconds).
"""

from __future__ import annotations

import asyncio
import os

import squall.loop
import squall.options
import squall.web
from squall.options import define, options

define("version", default="v1", help="a label returned by GET /, to tell releases apart")
define("drain", default=10.0, type=float, help="seconds allowed for in-flight requests at SIGTERM")
squall.options.define_app_options(port=8001, address="127.0.0.1")


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write(
            {
                "pid": os.getpid(),
                "remote_ip": self.request.remote_ip,
                "protocol": self.request.protocol,
                "version": options.version,
            }
        )


class SlowHandler(squall.web.RequestHandler):
    async def get(self) -> None:
        ms = int(self.get_argument("ms", "100"))
        await asyncio.sleep(ms / 1000)
        self.write({"pid": os.getpid(), "slept_ms": ms})


class WriteHandler(squall.web.RequestHandler):
    def post(self) -> None:
        self.write({"pid": os.getpid(), "received": len(self.request.body)})


def make_app() -> squall.web.Application:
    return squall.web.Application(
        [(r"/", IndexHandler), (r"/slow", SlowHandler), (r"/write", WriteHandler)],
        health_path="/healthz",
    )


def main() -> None:
    squall.options.parse_command_line()
    app = make_app()
    server = app.listen(options.port, options.address, xheaders=True)
    # SIGTERM/SIGINT: graceful shutdown, then the loop stops and the process exits 0.
    server.install_signal_handlers(timeout=options.drain)
    print(f"pid {os.getpid()} serving on {options.address}:{options.port}", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
