"""多进程: one listening socket shared by forked children (``bind`` + ``start(n)``).

Run: python examples/multiprocess.py [--port=8000] [--processes=N]

``--processes`` is ``num_processes`` of ``HTTPServer.start``: 1 (the default) serves from
this process; None or <= 0 forks one child per CPU; N > 0 forks N children. The parent
then only watches its children and restarts one that dies abnormally. ``/pid`` answers
with the id of the process that served the request.

The notes advise against this mode (one command starts everything, so no code update
without stopping; every process shares the port, so they are hard to watch one by one)
and recommend separate processes on separate ports instead: run this script several times
with different ``--port`` values and ``--processes=1``.
"""

from __future__ import annotations

import argparse
import os

import squall.http
import squall.loop
import squall.web


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("helo word")  # sic: the notes' spelling


class PidHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write(str(os.getpid()))


# Built at module level (no socket, no loop yet), so that `squall run` can serve it too.
app = squall.web.Application([(r"/", IndexHandler), (r"/pid", PidHandler)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()

    http_server = squall.http.HTTPServer(app)
    # bind() only opens the socket; start() forks (before any IOLoop exists, as the notes
    # require: a loop touched before forking would be copied into every child).
    http_server.bind(args.port)
    print(f"parent {os.getpid()} forking num_processes={args.processes}", flush=True)
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    http_server.start(args.processes)
    print(f"process {os.getpid()} started", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
