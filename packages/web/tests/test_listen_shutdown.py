"""Application.listen: the server's shutdown (SIGTERM in a script) runs the app's shutdown."""

from __future__ import annotations

import asyncio
import socket

import squall.web
from squall.web._health import HEALTH


class Hello(squall.web.RequestHandler):
    def get(self) -> None:
        self.write("hello word")


class Recorder:
    """A plugin that records its shutdown hook."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @squall.web.hookimpl
    def squall_web_shutdown(self, app: squall.web.Application) -> None:
        self.calls.append("squall_web_shutdown")


async def _get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    return data


def test_server_shutdown_runs_the_application_shutdown_hooks_once() -> None:
    recorder = Recorder()
    app = squall.web.Application([(r"/", Hello)], health_path="/healthz", plugins=[recorder])

    async def main() -> None:
        server = app.listen(0, "127.0.0.1")
        port = server.sockets[0].getsockname()[1]
        assert (await _get(port, "/healthz")).startswith(b"HTTP/1.1 200 ")
        assert recorder.calls == []
        shutting = asyncio.ensure_future(server.shutdown(2))
        await asyncio.sleep(0)  # shutdown() has begun
        # the hooks ran at its start: the health route now says draining
        for _ in range(100):
            if recorder.calls:
                break
            await asyncio.sleep(0.01)
        assert recorder.calls == ["squall_web_shutdown"]
        assert app.stash[HEALTH].draining
        await shutting
        await app.shutdown()  # an explicit call after it does not run the hooks again
        assert recorder.calls == ["squall_web_shutdown"]

    asyncio.run(asyncio.wait_for(main(), 10))


def test_listen_takes_tornados_socket_arguments() -> None:
    # Application.listen(port, address, family=, flags=, reuse_port=, backlog=) as in
    # Tornado 6.2+: the binding arguments reach the sockets, the rest the HTTPServer.
    app = squall.web.Application([(r"/", Hello)])

    async def main() -> None:
        first = app.listen(
            0,
            "127.0.0.1",
            family=socket.AF_INET,
            flags=socket.AI_PASSIVE,
            reuse_port=True,
            backlog=16,
            xheaders=True,
        )
        port = first.sockets[0].getsockname()[1]
        assert first.sockets[0].family == socket.AF_INET
        assert first.sockets[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        # reuse_port lets a second server bind the same port (pre-fork style)
        second = app.listen(port, "127.0.0.1", reuse_port=True)
        assert (await _get(port, "/")).endswith(b"hello word")
        for server in (first, second):
            server.stop()
            await server.shutdown(2)

    asyncio.run(asyncio.wait_for(main(), 10))
