"""AsyncHTTPClient.fetch against a real squall.http server: each HTTPRequest field."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import errno
import gzip
import json
import os
import socket
import threading
import unicodedata
import zlib
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from squall.http import HTTPHeaders
from squall.httpclient import (
    AsyncHTTPClient,
    HTTPClientError,
    HTTPError,
    HTTPRequest,
    HTTPResponse,
    HTTPStreamClosedError,
    HTTPTimeoutError,
)

if TYPE_CHECKING:
    from conftest import Server


def run(fn: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        return await fn()

    return asyncio.run(main())


def fetch(url: str, **kwargs: Any) -> HTTPResponse:
    async def go() -> HTTPResponse:
        return await AsyncHTTPClient().fetch(url, **kwargs)

    result: HTTPResponse = run(go)
    return result


def echo(response: HTTPResponse) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(response.body)
    doc["headers"] = {k.lower(): v for k, v in doc["headers"]}
    return doc


# -- basics --------------------------------------------------------------------------


def test_get_returns_code_reason_headers_body_and_buffer(server: Server) -> None:
    response = fetch(server.url + "/echo?x=1")
    assert response.code == 200
    assert response.reason == "OK"
    assert response.headers["Content-Type"] == "application/json"
    assert response.buffer is not None
    assert response.buffer.getvalue() == response.body
    assert echo(response)["uri"] == "/echo?x=1"
    assert response.effective_url == server.url + "/echo?x=1"
    assert response.error is None
    response.rethrow()  # no error: nothing raised


def test_buffer_is_read_from_the_start_of_the_body(server: Server) -> None:
    # Tornado's suites read the body with response.buffer.read() (a BytesIO at 0).
    response = fetch(server.url + "/echo?x=1")
    assert response.buffer is not None
    assert response.buffer.read() == response.body != b""


def test_response_times_are_set(server: Server) -> None:
    response = fetch(server.url + "/echo")
    assert response.request_time is not None and response.request_time >= 0
    assert response.start_time is not None and response.start_time >= response.request.start_time
    assert "queue" in response.time_info


def test_time_info_names_the_timings_as_tornados_curl_client(server: Server) -> None:
    # Code written for the curl client reads time_info["total"] whenever time_info is
    # not empty (Thumbor's HTTP loader computes bytes per second with it).
    response = fetch(server.url + "/chunks")
    info = response.time_info
    assert set(info) == {"queue", "starttransfer", "total"}
    assert 0 <= info["starttransfer"] <= info["total"] == response.request_time
    assert info["total"] >= 0.02  # /chunks pauses between its chunks


def test_response_headers_are_squall_http_headers_and_keep_repeats(server: Server) -> None:
    from squall.http import HTTPHeaders

    response = fetch(server.url + "/cookie")
    assert isinstance(response.headers, HTTPHeaders)
    assert response.headers.get_list("Set-Cookie") == ["session=abc; Path=/"]


def test_response_request_is_the_callers_request(server: Server) -> None:
    request = HTTPRequest(server.url + "/echo", headers={"X-Mine": "1"})

    async def go() -> HTTPResponse:
        return await AsyncHTTPClient().fetch(request)

    response: HTTPResponse = run(go)
    assert response.request is request
    # the caller's headers are not touched by the fetch (User-Agent etc. went on a copy)
    assert list(request.headers.get_all()) == [("X-Mine", "1")]


def test_method_headers_and_body_are_sent(server: Server) -> None:
    response = fetch(
        server.url + "/echo",
        method="PUT",
        headers={"X-One": "1", "Content-Type": "text/plain"},
        body="héllo",
    )
    doc = echo(response)
    assert doc["method"] == "PUT"
    assert doc["headers"]["x-one"] == "1"
    assert doc["body"] == "héllo".encode().decode("latin-1")
    assert doc["headers"]["content-length"] == str(len("héllo".encode()))


@pytest.mark.parametrize("bad", ["a\rb", "a\nb", "a\r\nInjected: 1"])
def test_cr_or_lf_in_a_header_name_or_value_is_refused_before_sending(
    server: Server, bad: str
) -> None:
    for headers in ({"X-Test": bad}, {bad: "value"}):
        with pytest.raises(ValueError, match="CR or LF"):
            fetch(server.url + "/echo", headers=headers)
    assert server.app.seen == []


def test_header_values_may_be_bytes(server: Server) -> None:
    plain: dict[str, Any] = {"User-Agent": b"MyAgent", "X-Name": "caf\u00e9".encode()}
    as_headers = HTTPHeaders()
    as_headers["User-Agent"] = b"MyAgent"  # type: ignore[assignment]
    for headers in (plain, as_headers):
        doc = echo(fetch(server.url + "/echo", headers=headers))
        assert doc["headers"]["user-agent"] == "MyAgent"
    assert server.app.seen[0].headers["X-Name"] == "caf\u00e9"


def test_post_without_content_type_is_form_encoded(server: Server) -> None:
    doc = echo(fetch(server.url + "/echo", method="POST", body="a=1"))
    assert doc["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert doc["body"] == "a=1"


def test_user_agent_default_and_given(server: Server) -> None:
    assert echo(fetch(server.url + "/echo"))["headers"]["user-agent"].startswith(
        "squall-httpclient/"
    )
    doc = echo(fetch(server.url + "/echo", user_agent="spider/1.0"))
    assert doc["headers"]["user-agent"] == "spider/1.0"


def test_if_modified_since_is_sent_as_an_http_date(server: Server) -> None:
    when = datetime.datetime(2015, 10, 21, 7, 28, tzinfo=datetime.UTC)
    doc = echo(fetch(server.url + "/echo", if_modified_since=when))
    assert doc["headers"]["if-modified-since"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    doc = echo(fetch(server.url + "/echo", if_modified_since=0.0 + 86400))
    assert doc["headers"]["if-modified-since"] == "Fri, 02 Jan 1970 00:00:00 GMT"


def test_cookies_set_by_a_server_are_not_sent_back(server: Server) -> None:
    async def go() -> HTTPResponse:
        client = AsyncHTTPClient()
        await client.fetch(server.url + "/cookie")
        return await client.fetch(server.url + "/echo")

    assert "cookie" not in echo(run(go))["headers"]


def test_body_producer_streams_a_chunked_body(server: Server) -> None:
    async def producer(write: Callable[[bytes], Awaitable[None]]) -> None:
        for part in (b"one,", b"two,", b"three"):
            await write(part)

    doc = echo(fetch(server.url + "/echo", method="POST", body_producer=producer))
    assert doc["body"] == "one,two,three"
    assert doc["headers"]["transfer-encoding"] == "chunked"


def test_body_producer_with_content_length_is_not_chunked(server: Server) -> None:
    async def producer(write: Callable[[bytes], Awaitable[None]]) -> None:
        await write(b"12345")

    doc = echo(
        fetch(
            server.url + "/echo",
            method="POST",
            body_producer=producer,
            headers={"Content-Length": "5"},
        )
    )
    assert doc["body"] == "12345"
    assert "transfer-encoding" not in doc["headers"]


# -- methods and bodies (Tornado's sanity checks) -------------------------------------


def test_unknown_method_is_refused_unless_allowed(server: Server) -> None:
    with pytest.raises(KeyError, match="unknown method PROPFIND"):
        fetch(server.url + "/echo", method="PROPFIND")
    doc = echo(fetch(server.url + "/echo", method="PROPFIND", allow_nonstandard_methods=True))
    assert doc["method"] == "PROPFIND"


def test_post_without_body_and_get_with_body_are_refused(server: Server) -> None:
    with pytest.raises(ValueError, match="Body must not be None for method POST"):
        fetch(server.url + "/echo", method="POST")
    with pytest.raises(ValueError, match="Body must be None for method GET"):
        fetch(server.url + "/echo", body="x")
    doc = echo(fetch(server.url + "/echo", body="x", allow_nonstandard_methods=True))
    assert doc["body"] == "x"


def test_unsupported_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="Unsupported url scheme: ftp://x/"):
        fetch("ftp://x/")


# -- raise_error -----------------------------------------------------------------------


def test_non_2xx_raises_http_client_error_with_the_response(server: Server) -> None:
    with pytest.raises(HTTPClientError) as info:
        fetch(server.url + "/status/404")
    assert info.value.code == 404
    assert info.value.message == "Not Found"
    assert str(info.value) == "HTTP 404: Not Found"
    assert info.value.response is not None
    assert info.value.response.body == b"status body"
    assert HTTPError is HTTPClientError


def test_raise_error_false_returns_the_non_2xx_response(server: Server) -> None:
    response = fetch(server.url + "/status/503", raise_error=False)
    assert response.code == 503
    assert isinstance(response.error, HTTPClientError)
    with pytest.raises(HTTPClientError):
        response.rethrow()


def test_raise_error_false_still_raises_when_no_answer_came() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: the connection is refused
        with pytest.raises(ConnectionRefusedError):
            fetch(f"http://127.0.0.1:{port}/", raise_error=False)


def test_a_refused_connection_says_connection_refused_as_the_socket_does() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: the connection is refused
        with pytest.raises(ConnectionRefusedError) as info:
            fetch(f"http://127.0.0.1:{port}/")
    assert info.value.errno == errno.ECONNREFUSED
    assert str(info.value) == f"[Errno {errno.ECONNREFUSED}] {os.strerror(errno.ECONNREFUSED)}"


def test_304_is_an_error_as_in_tornado(server: Server) -> None:
    with pytest.raises(HTTPClientError) as info:
        fetch(server.url + "/status/304")
    assert info.value.code == 304


# -- redirects ---------------------------------------------------------------------------


def test_redirects_are_followed_up_to_max_redirects(server: Server) -> None:
    response = fetch(server.url + "/hops/3", max_redirects=3)
    assert response.code == 200
    assert response.effective_url == server.url + "/hops/0"
    # the hops' bodies were not the answer
    assert echo(response)["uri"] == "/hops/0"


def test_one_redirect_too_many_gives_the_last_3xx(server: Server) -> None:
    response = fetch(server.url + "/hops/3", max_redirects=2, raise_error=False)
    assert response.code == 302
    assert response.headers["Location"] == "/hops/0"
    assert response.effective_url == server.url + "/hops/1"
    with pytest.raises(HTTPClientError) as info:
        fetch(server.url + "/hops/6")  # default max_redirects is 5
    assert info.value.code == 302


def test_follow_redirects_false_returns_the_redirect(server: Server) -> None:
    with pytest.raises(HTTPClientError) as info:
        fetch(server.url + "/hops/1", follow_redirects=False)
    assert info.value.code == 302
    assert info.value.response is not None
    assert info.value.response.headers["Location"] == "/hops/0"


def test_a_location_that_is_no_http_url_is_returned_or_refused_by_scheme(
    server: Server,
) -> None:
    url = server.url + "/redirect/302?to=h:5"
    response = fetch(url, follow_redirects=False, raise_error=False)
    assert response.code == 302
    assert response.headers["Location"] == "h:5"
    with pytest.raises(ValueError, match="Unsupported url scheme: h:5"):
        fetch(url)


@pytest.mark.parametrize(
    ("code", "method", "after"),
    [(303, "PUT", "GET"), (302, "POST", "GET"), (301, "POST", "GET"), (307, "POST", "POST")],
)
def test_redirect_method_rules(server: Server, code: int, method: str, after: str) -> None:
    doc = echo(fetch(f"{server.url}/redirect/{code}", method=method, body="data"))
    assert doc["method"] == after
    assert doc["body"] == ("data" if after != "GET" else "")


def test_cross_origin_redirect_drops_credentials(server: Server) -> None:
    other = server.url.replace("127.0.0.1", "localhost")
    target = f"{server.url}/redirect/302?to={other}/echo"
    doc = echo(fetch(target, auth_username="ann", auth_password="s3cret"))
    assert "authorization" not in doc["headers"]
    same = echo(fetch(f"{server.url}/redirect/302", auth_username="ann", auth_password="x"))
    assert same["headers"]["authorization"].startswith("Basic ")


# -- timeouts and failures ------------------------------------------------------------------


def test_request_timeout_gives_599_timeout(server: Server) -> None:
    with pytest.raises(HTTPTimeoutError) as info:
        fetch(server.url + "/gate", request_timeout=0.2)
    assert info.value.code == 599
    assert str(info.value) == "Timeout during request"


def test_connect_timeout_gives_599_timeout_while_connecting() -> None:
    # A listening socket whose accept queue is full: the kernel drops further SYNs. It is
    # filled until a probe's connect times out, so the fetch cannot be accepted.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers: list[socket.socket] = []
    try:
        address = listener.getsockname()
        for _ in range(20):
            probe = socket.socket()
            probe.settimeout(0.3)
            try:
                probe.connect(address)
            except TimeoutError:
                probe.close()
                break
            fillers.append(probe)
        else:
            pytest.fail("the accept queue never filled")
        with pytest.raises(HTTPTimeoutError) as info:
            fetch(f"http://127.0.0.1:{address[1]}/", connect_timeout=0.3)
        assert info.value.code == 599
        assert str(info.value) == "Timeout while connecting"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_waiting_for_a_max_clients_slot_times_out_in_the_queue(server: Server) -> None:
    async def go() -> None:
        client = AsyncHTTPClient(force_instance=True, max_clients=1)
        try:
            held = client.fetch(server.url + "/gate")
            with pytest.raises(HTTPTimeoutError, match="Timeout in request queue"):
                await client.fetch(server.url + "/echo", connect_timeout=0.2)
            server.open_gate()
            assert (await held).body == b"opened"
            # a slot is free again
            assert (await client.fetch(server.url + "/echo")).code == 200
        finally:
            client.close()

    run(go)


def test_a_queued_fetch_runs_when_a_slot_frees(server: Server) -> None:
    async def go() -> None:
        client = AsyncHTTPClient(force_instance=True, max_clients=1)
        try:
            held = client.fetch(server.url + "/gate")
            queued = client.fetch(server.url + "/echo")
            await asyncio.sleep(0.05)
            assert not queued.done()
            server.open_gate()
            assert (await held).code == 200
            response = await queued
            assert response.code == 200
            assert response.time_info["queue"] > 0
        finally:
            client.close()

    run(go)


def test_server_closing_the_connection_is_a_stream_closed_error(server: Server) -> None:
    with pytest.raises((HTTPStreamClosedError, ConnectionError)) as info:
        fetch(server.url + "/close", raise_error=False)
    if isinstance(info.value, HTTPStreamClosedError):
        assert info.value.code == 599


# -- streaming and header callbacks ------------------------------------------------------


def test_streaming_callback_gets_the_chunks_and_body_is_empty(server: Server) -> None:
    chunks: list[bytes] = []
    response = fetch(server.url + "/chunks", streaming_callback=chunks.append)
    assert b"".join(chunks) == b"chunk0;chunk1;chunk2;"
    assert len(chunks) >= 2  # pieces as they arrived, not one body
    assert response.body == b""


def test_streaming_callback_may_be_a_coroutine(server: Server) -> None:
    chunks: list[bytes] = []

    async def on_chunk(chunk: bytes) -> None:
        await asyncio.sleep(0)
        chunks.append(chunk)

    fetch(server.url + "/chunks", streaming_callback=on_chunk)
    assert b"".join(chunks) == b"chunk0;chunk1;chunk2;"


def test_header_callback_gets_status_line_each_header_and_blank_line(server: Server) -> None:
    lines: list[str] = []
    fetch(server.url + "/chunks", header_callback=lines.append)
    assert lines[0] == "HTTP/1.1 200 OK\r\n"
    assert "X-Test: a\r\n" in lines
    assert "Transfer-Encoding: chunked\r\n" in lines
    assert lines[-1] == "\r\n"
    assert all(line.endswith("\r\n") for line in lines)


def test_callbacks_are_not_called_for_redirect_hops(server: Server) -> None:
    lines: list[str] = []
    chunks: list[bytes] = []
    fetch(server.url + "/hops/2", header_callback=lines.append, streaming_callback=chunks.append)
    assert [line for line in lines if line.startswith("HTTP/")] == ["HTTP/1.1 200 OK\r\n"]
    assert b"hop body" not in b"".join(chunks)


# -- compression ------------------------------------------------------------------------------


def test_gzip_is_asked_for_and_decompressed(server: Server) -> None:
    response = fetch(server.url + "/gzip")
    assert response.body == b"squall " * 100
    assert "Content-Encoding" not in response.headers
    assert response.headers["X-Consumed-Content-Encoding"] == "gzip"
    assert server.app.seen[-1].headers["Accept-Encoding"] == "gzip"


def test_decompress_response_false_asks_for_nothing(server: Server) -> None:
    response = fetch(server.url + "/gzip", decompress_response=False)
    assert response.body == b"squall " * 100
    assert "Accept-Encoding" not in server.app.seen[-1].headers


def test_use_gzip_is_the_old_name_of_decompress_response(server: Server) -> None:
    assert HTTPRequest("http://x/", use_gzip=False).decompress_response is False
    fetch(server.url + "/gzip", use_gzip=False)
    assert "Accept-Encoding" not in server.app.seen[-1].headers


def _gzip_bomb(size: int) -> bytes:
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [squeeze.compress(zeros) for _ in range(size // len(zeros))]
    return b"".join(parts) + squeeze.flush()


def test_gzip_body_reaches_a_streaming_callback_in_bounded_pieces(server: Server) -> None:
    # 16 MiB of zeros is about 16 KiB of gzip: one read from the socket.
    server.app.bodies["bomb"] = ([("Content-Encoding", "gzip")], _gzip_bomb(16 * 1024 * 1024))
    sizes: list[int] = []
    fetch(server.url + "/bytes/bomb", streaming_callback=lambda chunk: sizes.append(len(chunk)))
    assert sum(sizes) == 16 * 1024 * 1024
    assert max(sizes) <= 64 * 1024


def test_gzip_body_of_several_members_is_decompressed_whole(server: Server) -> None:
    data = gzip.compress(b"first member, ") + gzip.compress(b"second member")
    server.app.bodies["members"] = ([("Content-Encoding", "gzip")], data)
    assert fetch(server.url + "/bytes/members").body == b"first member, second member"


@pytest.mark.parametrize(
    "data",
    [
        gzip.compress(b"hello" * 100) + b"\0\0\0\0",
        gzip.compress(b"hello" * 100) + b"not gzip",
        gzip.compress(b"hello" * 100)[:-10],
        b"not gzip at all",
    ],
    ids=["trailing-nul", "trailing-garbage", "truncated", "garbage"],
)
def test_invalid_gzip_body_is_a_stream_closed_error(server: Server, data: bytes) -> None:
    server.app.bodies["bad"] = ([("Content-Encoding", "gzip")], data)
    with pytest.raises(HTTPStreamClosedError, match="Invalid gzip data"):
        fetch(server.url + "/bytes/bad", raise_error=False)


@contextlib.contextmanager
def raw_answers(answer: bytes, times: int = 1) -> Iterator[str]:
    """A URL on 127.0.0.1 whose server reads each request and sends ``answer`` verbatim.

    For answers no HTTP server library would write; it serves ``times`` connections, one
    after another, closing each after its answer.
    """
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve() -> None:
            for _ in range(times):
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)
                    conn.sendall(answer)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
        finally:
            thread.join(10)


def test_an_answer_with_both_transfer_encoding_and_content_length_is_refused() -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"
        b"\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    with raw_answers(answer) as url:
        with pytest.raises(HTTPStreamClosedError, match="both Transfer-Encoding"):
            fetch(url)


# -- body size limits ---------------------------------------------------------------------


def fetch_with(url: str, client_options: dict[str, Any], **kwargs: Any) -> HTTPResponse:
    async def go() -> HTTPResponse:
        client = AsyncHTTPClient(force_instance=True, **client_options)
        try:
            return await client.fetch(url, **kwargs)
        finally:
            client.close()

    result: HTTPResponse = run(go)
    return result


def test_body_limit_defaults_to_max_buffer_size_of_100_mib() -> None:
    async def go() -> None:
        client = AsyncHTTPClient(force_instance=True)
        assert (client.max_body_size, client.max_buffer_size) == (100 * 1024 * 1024,) * 2
        client.close()
        client = AsyncHTTPClient(force_instance=True, max_buffer_size=1000)
        assert client.max_body_size == 1000
        client.close()

    run(go)


@pytest.mark.parametrize("streamed", [False, True])
def test_a_body_larger_than_max_body_size_is_refused(server: Server, streamed: bool) -> None:
    server.app.bodies["small"] = ([], b"a" * 1000)
    server.app.bodies["large"] = ([], b"a" * 1001)
    received: list[bytes] = []
    kwargs: dict[str, Any] = {"streaming_callback": received.append} if streamed else {}
    response = fetch_with(server.url + "/bytes/small", {"max_body_size": 1000}, **kwargs)
    assert len(response.body or b"".join(received)) == 1000
    received.clear()
    with pytest.raises(HTTPStreamClosedError, match=r"max_body_size \(1000 bytes\)") as info:
        fetch_with(server.url + "/bytes/large", {"max_body_size": 1000}, **kwargs)
    assert info.value.code == 599
    assert received == []  # refused by its Content-Length, before any of it was read


def test_max_body_size_leaves_the_content_length_of_a_head_answer_alone(server: Server) -> None:
    server.app.bodies["large"] = ([], b"a" * 2000)
    response = fetch_with(server.url + "/bytes/large", {"max_body_size": 1000}, method="HEAD")
    assert response.code == 200
    assert response.headers["Content-Length"] == "2000"


@pytest.mark.parametrize("streamed", [False, True])
def test_max_body_size_counts_the_decompressed_body(server: Server, streamed: bool) -> None:
    server.app.bodies["bomb"] = ([("Content-Encoding", "gzip")], _gzip_bomb(4 * 1024 * 1024))
    received: list[bytes] = []
    kwargs: dict[str, Any] = {"streaming_callback": received.append} if streamed else {}
    with pytest.raises(HTTPStreamClosedError, match="max_body_size"):
        fetch_with(server.url + "/bytes/bomb", {"max_body_size": 1024 * 1024}, **kwargs)
    assert sum(map(len, received)) <= 1024 * 1024


def test_max_body_size_holds_for_a_body_read_until_close() -> None:
    # An HTTP/1.0 answer with no Content-Length: its end is the end of the connection.
    with raw_answers(b"HTTP/1.0 200 OK\r\n\r\n" + b"a" * 100_000, times=2) as url:
        response = fetch_with(url, {"max_body_size": 200_000})
        assert response.body == b"a" * 100_000
        with pytest.raises(HTTPStreamClosedError, match="max_body_size"):
            fetch_with(url, {"max_body_size": 64 * 1024})


def test_max_body_size_may_be_configured(server: Server) -> None:
    server.app.bodies["large"] = ([], b"a" * 2000)
    AsyncHTTPClient.configure(None, max_body_size=1000)
    try:
        with pytest.raises(HTTPStreamClosedError, match="max_body_size"):
            fetch(server.url + "/bytes/large")
    finally:
        AsyncHTTPClient.configure(None)


# -- authentication ---------------------------------------------------------------------------


def test_basic_auth(server: Server) -> None:
    response = fetch(server.url + "/basic", auth_username="ann", auth_password="s3cret")
    assert response.body == b"welcome ann"
    with pytest.raises(HTTPClientError) as info:
        fetch(server.url + "/basic", auth_username="ann", auth_password="wrong")
    assert info.value.code == 401


def test_basic_auth_sends_the_nfc_utf8_of_the_credentials(server: Server) -> None:
    # RFC 7617 section 2.1's example, and a user name typed in decomposed form.
    fetch(server.url + "/echo", auth_username="test", auth_password="123\u00a3")
    assert server.app.seen[-1].headers["Authorization"] == "Basic dGVzdDoxMjPCow=="
    decomposed = unicodedata.normalize("NFD", "jos\u00e9")
    fetch(server.url + "/echo", auth_username=decomposed, auth_password="s\u0259cr\u0259t")
    assert server.app.seen[-1].headers["Authorization"] == "Basic am9zw6k6c8mZY3LJmXQ="


def test_credentials_in_the_url_are_basic_auth(server: Server) -> None:
    url = server.url.replace("://", "://ann:s3cret@") + "/basic"
    assert fetch(url).body == b"welcome ann"


def test_digest_auth(server: Server) -> None:
    response = fetch(
        server.url + "/digest", auth_username="bob", auth_password="pa55", auth_mode="digest"
    )
    assert response.body == b"welcome bob"
    with pytest.raises(HTTPClientError) as info:
        fetch(server.url + "/digest", auth_username="bob", auth_password="no", auth_mode="digest")
    assert info.value.code == 401


# -- local address ------------------------------------------------------------------------------


def test_network_interface_is_the_source_address(server: Server) -> None:
    doc = echo(fetch(server.url + "/echo", network_interface="127.0.0.2"))
    assert doc["remote_ip"] == "127.0.0.2"


def test_allow_ipv6_false_connects_over_ipv4_only(make_server: Callable[..., Server]) -> None:
    v6 = make_server(host="::1")
    assert echo(fetch(v6.url + "/echo"))["remote_ip"] == "::1"
    with pytest.raises(OSError):
        fetch(v6.url + "/echo", allow_ipv6=False)
    v4 = make_server()
    assert echo(fetch(v4.url + "/echo", allow_ipv6=False))["remote_ip"] == "127.0.0.1"
