"""squall.tcp: TCP servers, clients and streams on asyncio (Tornado's ``tornado.iostream``,
``tornado.tcpserver``, ``tornado.tcpclient`` and ``tornado.netutil`` in squall form)::

    from squall.loop import IOLoop
    from squall.tcp import StreamClosedError, TCPServer

    class EchoServer(TCPServer):
        async def handle_stream(self, stream, address):
            try:
                while True:
                    await stream.write(await stream.read_until(b"\\n"))
            except StreamClosedError:
                pass

    EchoServer().listen(8888)
    IOLoop.current().start()

It sits on squall.loop only: squall.http does not import it.
"""

from __future__ import annotations

from squall.loop import bind_sockets, bind_unix_socket, bind_unused_port
from squall.tcp._client import TCPClient
from squall.tcp._errors import (
    StreamBufferFullError,
    StreamClosedError,
    TCPError,
    UnsatisfiableReadError,
)
from squall.tcp._iostream import BaseIOStream, IOStream, SSLIOStream
from squall.tcp._netutil import (
    DefaultLoopResolver,
    OverrideResolver,
    Resolver,
    add_accept_handler,
    is_valid_ip,
    ssl_options_to_context,
)
from squall.tcp._server import TCPServer
from squall.tcp._version import __version__

__all__ = [
    "BaseIOStream",
    "DefaultLoopResolver",
    "IOStream",
    "OverrideResolver",
    "Resolver",
    "SSLIOStream",
    "StreamBufferFullError",
    "StreamClosedError",
    "TCPClient",
    "TCPError",
    "TCPServer",
    "UnsatisfiableReadError",
    "__version__",
    "add_accept_handler",
    "bind_sockets",
    "bind_unix_socket",
    "bind_unused_port",
    "is_valid_ip",
    "ssl_options_to_context",
]
