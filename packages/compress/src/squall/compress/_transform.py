"""The output transform that compresses one response (built per request by web).

Decisions, in the order they are taken on the first chunk:

1. ``Vary: Accept-Encoding`` is added to every response (as Tornado does): caches must key
   the answer on the header even when this one was not compressed.
2. Left as is: a HEAD request, a status without a body (1xx, 204, 304), a 206 (its
   ``Content-Range`` counts bytes of the unencoded body), a response that already has a
   ``Content-Encoding`` (a precompressed file), a media type that is not compressible.
3. The coding is negotiated from ``Accept-Encoding`` (q-values, ``*``, ``identity``) among
   the configured ones, server preference order breaking ties.
4. Finished in one piece: compressed only from ``compress_min_length`` bytes (Tornado's
   1024) and only when the result is smaller; ``Content-Length`` follows.
   Streamed (a first ``flush()``): compressed from the first chunk, whatever its size (as
   Tornado), each ``flush()`` ending with a sync flush so the client can decode what has
   arrived; a streamed response that announced its ``Content-Length`` is left as is (its
   body may not pass through the transforms: squall-static sends large files with
   ``sendfile``).
5. An ``ETag`` becomes weak (``W/"..."``): the encoded bytes are not the bytes the tag was
   computed from, and a weak tag still matches ``If-None-Match`` (compared weakly). A 304
   answers with the weak form when the client's ``If-None-Match`` holds it (RFC 9110
   15.4.5: the tag its 200 carried).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from squall.compress._codecs import Codec, Encoder
from squall.compress._types import is_compressible, media_type
from squall.web import negotiate_encoding

if TYPE_CHECKING:
    from squall.http import HTTPHeaders, HTTPServerRequest


class CompressConfig(NamedTuple):
    """What an application's compression does, resolved once from its settings.

    Attributes:
        codecs: coding name → codec, in server preference order.
        names: the same names, as the tuple ``negotiate_encoding`` takes.
        levels: coding name → level.
        min_length: smallest body (finished in one piece) worth compressing.
        types: exact media types to compress (besides ``text/*``, ``+json``, ``+xml``).
    """

    codecs: dict[str, Codec]
    names: tuple[str, ...]
    levels: dict[str, int]
    min_length: int
    types: frozenset[str]


_NO_BODY = frozenset({204, 206, 304})


def add_vary(headers: HTTPHeaders) -> None:
    """Add ``Accept-Encoding`` to ``Vary`` unless it is there (or ``Vary: *``)."""
    values = headers.get_list("Vary")
    for value in values:
        for token in value.split(","):
            token = token.strip().lower()
            if token == "accept-encoding" or token == "*":
                return
    if values:
        headers["Vary"] = ", ".join([*values, "Accept-Encoding"])
    else:
        headers["Vary"] = "Accept-Encoding"


def weaken_etag(headers: HTTPHeaders) -> None:
    """Make a strong ``Etag`` weak (``"x"`` → ``W/"x"``)."""
    etag = headers.get("Etag")
    if etag is not None and not etag.startswith("W/"):
        headers["Etag"] = "W/" + etag


class CompressTransform:
    """Compresses one response; see the module docstring for every rule.

    Built per request by the factory the plugin gives web (``squall_web_transforms``).
    """

    __slots__ = ("_request", "_config", "_encoder")

    def __init__(self, request: HTTPServerRequest, config: CompressConfig) -> None:
        self._request = request
        self._config = config
        self._encoder: Encoder | None = None

    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        """Decide whether (and how) this response is compressed; encode its first chunk."""
        add_vary(headers)
        if status_code == 304:
            self._not_modified_etag(headers)
            return status_code, headers, chunk
        if (
            status_code in _NO_BODY
            or status_code < 200
            or self._request.method == "HEAD"
            or "Content-Encoding" in headers
        ):
            return status_code, headers, chunk
        config = self._config
        if finishing and len(chunk) < config.min_length:
            return status_code, headers, chunk
        if not finishing and "Content-Length" in headers:
            return status_code, headers, chunk
        if not is_compressible(media_type(headers.get("Content-Type", "")), config.types):
            return status_code, headers, chunk
        coding = negotiate_encoding(self._request.headers.get("Accept-Encoding"), config.names)
        if coding is None:
            return status_code, headers, chunk
        codec = config.codecs[coding]
        level = config.levels[coding]
        if finishing:
            body = codec.whole(chunk, level)
            if len(body) >= len(chunk):
                return status_code, headers, chunk  # it would not shrink: send it as is
            if "Content-Length" in headers:
                headers["Content-Length"] = str(len(body))
            chunk = body
        else:
            encoder = self._encoder = codec.stream(level)
            chunk = encoder.compress(chunk) + encoder.flush()
        headers["Content-Encoding"] = coding
        weaken_etag(headers)
        return status_code, headers, chunk

    def _not_modified_etag(self, headers: HTTPHeaders) -> None:
        """Give a 304 the ETag its 200 carried: weak when the client holds the weak form.

        A 304 has no body, so whether its 200 would have been compressed cannot be decided
        here; the client's ``If-None-Match`` tells which representation it holds (only
        this transform makes squall's tags weak).
        """
        etag = headers.get("Etag")
        if etag is None or etag.startswith("W/"):
            return
        weak = "W/" + etag
        held = self._request.headers.get("If-None-Match", "")
        if any(tag.strip() == weak for tag in held.split(",")):
            headers["Etag"] = weak

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        """Encode a later chunk; sync-flush it, or end the stream when ``finishing``."""
        encoder = self._encoder
        if encoder is None:
            return chunk
        if finishing:
            self._encoder = None
            return encoder.compress(chunk) + encoder.finish()
        return encoder.compress(chunk) + encoder.flush()
