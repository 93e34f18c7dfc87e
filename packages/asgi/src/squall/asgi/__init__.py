"""squall.asgi: squall.web on any ASGI server, ASGI and WSGI applications on squall's.

- ``to_asgi(app)``: a ``squall.web.Application`` as an ASGI 3 application (HTTP and
  lifespan scopes) for uvicorn, Hypercorn, Granian or ``httpx.ASGITransport``.
- ``ASGIServer(asgi_app, **server_options)``: an ``HTTPServer`` serving an ASGI
  application (Starlette, FastAPI...) with squall.http.
- ``ASGIHandler`` / ``mount(prefix, asgi_app)``: an ASGI application under a path prefix
  of a squall.web Application.
- ``WSGIContainer(wsgi_app)``: a WSGI application (Flask...) run on a thread pool, served
  alone (``HTTPServer(container)``) or beside squall handlers with ``FallbackHandler``.
"""

from __future__ import annotations

from squall.asgi._app import SquallASGIApp, UnsupportedScopeError, to_asgi
from squall.asgi._cli import CLIAppError, cli_app
from squall.asgi._connection import ASGIConnection, UpgradeNotSupportedError
from squall.asgi._fallback import FallbackHandler
from squall.asgi._mount import ASGIHandler, mount
from squall.asgi._server import ASGIBridge, ASGIServer, ClientDisconnectedError, LifespanError
from squall.asgi._version import __version__
from squall.asgi._wsgi import WSGIContainer, WSGIError

__all__ = [
    "CLIAppError",
    "ASGIBridge",
    "ASGIConnection",
    "ASGIHandler",
    "ASGIServer",
    "ClientDisconnectedError",
    "FallbackHandler",
    "LifespanError",
    "SquallASGIApp",
    "UnsupportedScopeError",
    "UpgradeNotSupportedError",
    "WSGIContainer",
    "WSGIError",
    "__version__",
    "cli_app",
    "mount",
    "to_asgi",
]
