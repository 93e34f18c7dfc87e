"""过程 (the first snippet of the notes): hello world on http://127.0.0.1:8000/.

Run: python examples/hello.py [--port=8000]
 or: squall run examples.hello:app --port 8000   (from the repository's root)

What happens (the notes' five steps): ``listen`` creates the socket and binds the port;
``IOLoop.current().start()`` runs the loop (epoll on Linux), which accepts each client on a
new socket that epoll watches beside the listening one; the request is parsed and routed
through the Application's list of rules to ``IndexHandler``; the response goes back on the
client's socket; and the loop goes on.
"""

from __future__ import annotations

import argparse

import squall.loop
import squall.web


class IndexHandler(squall.web.RequestHandler):
    # Answers GET; a method the handler does not define (POST here) is answered with 405.
    def get(self) -> None:
        self.write("hello word")


# The rules: a list of (regex, handler class) tuples. Built at module level (nothing runs
# yet: no socket, no loop), so that `squall run examples.hello:app` can serve it too.
app = squall.web.Application([(r"/", IndexHandler)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    # listen() binds the port (single-process mode only); serving starts with the loop.
    app.listen(args.port, "127.0.0.1")
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
