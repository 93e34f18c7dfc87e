"""squall.http on its own: a plain callable, a fixed response and a streamed one.

Run it with ``python standalone.py`` and open http://127.0.0.1:8000/ and /stream.
(``PORT=0 PRINT_PORT=1`` picks a free port and prints it: the test suite does this.)
"""

from __future__ import annotations

import asyncio
import os

from squall.http import HTTPServer, HTTPServerRequest
from squall.loop import IOLoop


async def stream(request: HTTPServerRequest) -> None:
    conn = request.connection
    assert conn is not None
    conn.write_headers(200, [("Content-Type", "text/plain")])  # no length: sent chunked
    for i in range(5):
        await conn.write(f"line {i}\n".encode())  # awaiting honours flow control
        await asyncio.sleep(0.01)
    conn.finish()


def app(request: HTTPServerRequest) -> object:
    if request.path == "/stream":
        return stream(request)  # a coroutine: the server runs it
    conn = request.connection
    assert conn is not None
    # One call, one write: status, headers (Content-Length and Date are added) and body.
    conn.respond(200, [("Content-Type", "text/plain")], b"Hello, world!\n")
    return None


if __name__ == "__main__":
    server = HTTPServer(app)
    server.listen(int(os.environ.get("PORT", "8000")), "127.0.0.1")
    server.install_signal_handlers()  # SIGTERM / Ctrl-C: finish requests, then exit
    if os.environ.get("PRINT_PORT"):
        print(server.sockets[0].getsockname()[1], flush=True)
    IOLoop.current().start()
