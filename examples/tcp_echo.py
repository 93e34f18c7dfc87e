"""The TCP echo server and client of Tornado's demos (``tcpecho``), in squall form.

Run the server:  python examples/tcp_echo.py [server] [--port=9888]
Then a client:   python examples/tcp_echo.py client [--port=9888] [--message="hello"]

The server answers every line it receives with the same line, until the client leaves
(``TCPServer.handle_stream``, ``IOStream.read_until`` / ``write``). The client connects with
``TCPClient``, sends its message as one line, prints the echo and exits. The changes from
Tornado's demos: the imports, and both halves in one file.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from squall.loop import IOLoop
from squall.tcp import IOStream, StreamClosedError, TCPClient, TCPServer

logger = logging.getLogger("tcp_echo")


class EchoServer(TCPServer):
    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        while True:
            try:
                data = await stream.read_until(b"\n")
                logger.info("received %r from %s", data, address)
                if not data.endswith(b"\n"):
                    data = data + b"\n"
                await stream.write(data)
            except StreamClosedError:
                logger.info("lost client at host %s", address[0])
                break


async def send_message(port: int, message: str) -> str:
    stream = await TCPClient().connect("127.0.0.1", port)
    stream.set_nodelay(True)
    await stream.write(message.encode() + b"\n")
    reply = await stream.read_until(b"\n")
    stream.close()
    return reply.decode().rstrip("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["server", "client"], default="server")
    parser.add_argument("--port", type=int, default=9888)
    parser.add_argument("--message", default="ping")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.mode == "client":
        reply = IOLoop.current().run_sync(lambda: send_message(args.port, args.message))
        print(f"response from server: {reply}", flush=True)
        return
    server = EchoServer()
    server.listen(args.port, "127.0.0.1")
    print(f"echo server listening on 127.0.0.1:{args.port}", flush=True)
    IOLoop.current().start()


if __name__ == "__main__":
    main()
