"""HTTPServerRequest: one HTTP request as the application sees it.

Cheap on the hot path: only what every request needs is computed when the head arrives
(method, uri, version, headers, path, query, remote_ip, protocol). Query arguments, the
host name, cookies and the merged ``arguments`` are computed on first access, and a body
spooled to disk is only read when ``body`` is asked for.
"""

from __future__ import annotations

import http.cookies
import time
from typing import TYPE_CHECKING, Any, BinaryIO

from squall.http._cookies import load_cookie_header
from squall.http._files import HTTPFile
from squall.http._forms import parse_qs_bytes
from squall.http._headers import HTTPHeaders

if TYPE_CHECKING:
    from squall.http._connection import HTTPConnection

__all__ = ["HTTPServerRequest", "split_host_and_port"]


def split_host_and_port(netloc: str) -> tuple[str, int | None]:
    """Split ``host:port`` (``[v6]:port`` too) into the host and the port (or None)."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end > 0:
            host = netloc[1:end]
            rest = netloc[end + 1 :]
            if rest.startswith(":") and rest[1:].isdigit():
                return host, int(rest[1:])
            return host, None
    host, sep, port = netloc.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return netloc, None


class HTTPServerRequest:
    """A single HTTP request.

    Attributes:
        method: ``"GET"``, ``"POST"``…
        uri: the request-target as sent (``/path?query``).
        version: ``"HTTP/1.0"`` or ``"HTTP/1.1"``.
        headers: the request's ``HTTPHeaders``.
        host: the Host header (``"127.0.0.1"`` when absent).
        path, query: ``uri`` split at the first ``?``.
        remote_ip: the client's address (from X-Real-IP / X-Forwarded-For under ``xheaders``).
        protocol: ``"http"`` or ``"https"``.
        body_arguments, files: form fields and uploaded ``HTTPFile``s of the body.
        connection: the ``HTTPConnection`` to answer through (None for a detached request).
        start_time: ``time.time()`` when the head arrived.

    ``query_arguments``, ``arguments``, ``host_name`` and ``cookies`` are computed on first
    use; ``body`` reads a body spooled to disk on first use (``body_file`` gives the file).
    """

    # No __slots__ on purpose: the lazily computed attributes below are class-level
    # defaults, so the server's fast constructor stores only what every request needs
    # (measured: half the cost of initialising every slot). Instances keep __weakref__.
    _body_file: BinaryIO | None = None
    _body_arguments: dict[str, list[bytes]] | None = None
    _files: dict[str, list[HTTPFile]] | None = None
    _query_arguments: dict[str, list[bytes]] | None = None
    _arguments: dict[str, list[bytes]] | None = None
    _host_name: str | None = None
    _cookies: http.cookies.SimpleCookie | None = None
    _finish_time: float | None = None
    trailers: HTTPHeaders | None = None
    """Trailer fields of a chunked request body, if any."""

    def __init__(
        self,
        method: str = "GET",
        uri: str = "/",
        version: str = "HTTP/1.0",
        headers: HTTPHeaders | None = None,
        body: bytes | None = None,
        host: str | None = None,
        files: dict[str, list[HTTPFile]] | None = None,
        connection: HTTPConnection | None = None,
        remote_ip: str | None = None,
        protocol: str | None = None,
    ) -> None:
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers if headers is not None else HTTPHeaders()
        self.host = host or self.headers.get("Host") or "127.0.0.1"
        self.path, _, self.query = uri.partition("?")
        self.remote_ip = remote_ip or "127.0.0.1"
        self.protocol = protocol or "http"
        self.connection = connection
        self.start_time = time.time()
        self._body: bytes | None = body if body is not None else b""
        if files is not None:
            self._files = files

    @classmethod
    def _from_wire(
        cls,
        method: str,
        uri: str,
        version: str,
        headers: HTTPHeaders,
        connection: HTTPConnection,
        remote_ip: str,
        protocol: str,
    ) -> HTTPServerRequest:
        """Build a request from a parsed head (the server's fast path: no defaults logic)."""
        self = cls.__new__(cls)
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers
        self.host = headers._dict.get("Host") or "127.0.0.1"
        self.path, _, self.query = uri.partition("?")
        self.remote_ip = remote_ip
        self.protocol = protocol
        self.connection = connection
        self.start_time = time.time()
        self._body = b""
        return self

    # -- body ------------------------------------------------------------------------------

    @property
    def body(self) -> bytes:
        """The raw request body (read from its temporary file on first use when spooled)."""
        body = self._body
        if body is None:
            f = self._body_file
            if f is None:
                return b""
            pos = f.tell()
            f.seek(0)
            body = f.read()
            f.seek(pos)
            self._body = body
        return body

    @body.setter
    def body(self, value: bytes) -> None:
        self._body = value

    @property
    def body_file(self) -> BinaryIO | None:
        """The temporary file holding a large body (position 0), or None when in memory."""
        return self._body_file

    def _set_spooled_body(self, spool: BinaryIO | None, body: bytes | None) -> None:
        self._body_file = spool
        self._body = body

    # -- arguments ---------------------------------------------------------------------------

    @property
    def query_arguments(self) -> dict[str, list[bytes]]:
        """Arguments of the query string, ``name → [bytes, ...]`` (blank values kept)."""
        qa = self._query_arguments
        if qa is None:
            qa = parse_qs_bytes(self.query, keep_blank_values=True) if self.query else {}
            self._query_arguments = qa
        return qa

    @query_arguments.setter
    def query_arguments(self, value: dict[str, list[bytes]]) -> None:
        self._query_arguments = value
        self._arguments = None

    @property
    def body_arguments(self) -> dict[str, list[bytes]]:
        """Form fields of the body (url-encoded or multipart), ``name → [bytes, ...]``."""
        ba = self._body_arguments
        if ba is None:
            ba = self._body_arguments = {}
        return ba

    @body_arguments.setter
    def body_arguments(self, value: dict[str, list[bytes]]) -> None:
        self._body_arguments = value
        self._arguments = None

    @property
    def files(self) -> dict[str, list[HTTPFile]]:
        """Uploaded files of a multipart body, ``name → [HTTPFile, ...]``."""
        f = self._files
        if f is None:
            f = self._files = {}
        return f

    @files.setter
    def files(self, value: dict[str, list[HTTPFile]]) -> None:
        self._files = value

    @property
    def arguments(self) -> dict[str, list[bytes]]:
        """Query and body arguments merged (query values first), as Tornado's."""
        args = self._arguments
        if args is None:
            args = {k: list(v) for k, v in self.query_arguments.items()}
            for k, v in self.body_arguments.items():
                args.setdefault(k, []).extend(v)
            self._arguments = args
        return args

    @arguments.setter
    def arguments(self, value: dict[str, list[bytes]]) -> None:
        self._arguments = value

    # -- derived ---------------------------------------------------------------------------

    @property
    def host_name(self) -> str:
        """The host without its port, lower-cased (``"example.com"`` for ``Example.com:80``)."""
        hn = self._host_name
        if hn is None:
            hn = self._host_name = split_host_and_port(self.host.lower())[0]
        return hn

    @property
    def cookies(self) -> http.cookies.SimpleCookie:
        """The Cookie header parsed into a ``SimpleCookie``.

        Values are read as browsers send them (JSON, spaces, non-ASCII text are kept, a
        quoted value is unquoted); a pair whose name no cookie can have is skipped.
        """
        c = self._cookies
        if c is None:
            c = http.cookies.SimpleCookie()
            for value in self.headers.get_list("Cookie"):
                load_cookie_header(c, value)
            self._cookies = c
        return c

    def get_ssl_certificate(self, binary_form: bool = False) -> Any:
        """The client's TLS certificate (``ssl.SSLObject.getpeercert``), or None.

        Only set when the server's SSLContext asks for client certificates.
        """
        conn = self.connection
        if conn is None or conn.closed:
            return None
        ssl_object = conn.transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return None
        return ssl_object.getpeercert(binary_form=binary_form)

    def full_url(self) -> str:
        """The whole URL: ``protocol://host/uri``."""
        return f"{self.protocol}://{self.host}{self.uri}"

    def request_time(self) -> float:
        """Seconds the request has taken (until it finished, or until now)."""
        end = self._finish_time
        if end is None:
            return time.time() - self.start_time
        return end - self.start_time

    def _mark_finished(self) -> None:
        self._finish_time = time.time()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(protocol={self.protocol!r}, host={self.host!r}, "
            f"method={self.method!r}, uri={self.uri!r}, version={self.version!r}, "
            f"remote_ip={self.remote_ip!r})"
        )
