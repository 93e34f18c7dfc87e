"""squall.http: a fast, strict HTTP/1.1 server.

A sans-I/O parser driven by an asyncio Protocol, ``HTTPServer``, ``HTTPServerRequest``,
``HTTPHeaders`` and ``HTTPFile``. Standalone use with a plain callable::

    from squall.http import HTTPServer
    from squall.loop import IOLoop

    def app(request):
        request.connection.respond(200, [("Content-Type", "text/plain")], b"Hello")

    HTTPServer(app).listen(8000)
    IOLoop.current().start()
"""

from __future__ import annotations

from squall.http._body import BodyCollector, ParsedBody
from squall.http._closing import unlink_transport
from squall.http._compiled import compiled
from squall.http._connection import ConnectionContext, ConnectionStream, HTTPConnection
from squall.http._errors import (
    ContentLengthMismatchError,
    HTTPError,
    HTTPInputError,
    InvalidHeaderError,
    LocalProtocolError,
    RemoteProtocolError,
    ResponseStateError,
    StreamClosedError,
)
from squall.http._files import HTTPFile
from squall.http._forms import parse_body_arguments, parse_qs_bytes
from squall.http._headers import HTTPHeaders
from squall.http._limits import HTTPLimits, checked_body_timeout, checked_max_body_size
from squall.http._request import HTTPServerRequest, split_host_and_port
from squall.http._server import HTTPServer
from squall.http._url import url_concat
from squall.http._version import __version__
from squall.http._writer import responses

__all__ = [
    "BodyCollector",
    "ConnectionContext",
    "ConnectionStream",
    "ContentLengthMismatchError",
    "HTTPConnection",
    "HTTPError",
    "HTTPFile",
    "HTTPHeaders",
    "HTTPInputError",
    "HTTPLimits",
    "HTTPServer",
    "HTTPServerRequest",
    "InvalidHeaderError",
    "LocalProtocolError",
    "ParsedBody",
    "RemoteProtocolError",
    "ResponseStateError",
    "StreamClosedError",
    "unlink_transport",
    "__version__",
    "checked_body_timeout",
    "checked_max_body_size",
    "compiled",
    "parse_body_arguments",
    "parse_qs_bytes",
    "responses",
    "split_host_and_port",
    "url_concat",
]
