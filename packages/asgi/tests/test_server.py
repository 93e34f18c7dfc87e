"""ASGIServer: raw ASGI applications on squall.http over real sockets (httpx, raw sockets)."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import httpx
import pytest

from squall.asgi import ASGIServer, ClientDisconnectedError, LifespanError


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["greeting"] = "hello from lifespan"
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    text = (
        f"{scope['method']} {scope['path']} {scope['raw_path'].decode()} "
        f"{scope['query_string'].decode()} {scope['client'][0]} {scope['scheme']} "
        f"{scope['http_version']} {scope['state']['greeting']} {len(body)}"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain"), (b"x-one", b"1"), (b"x-one", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def test_raw_asgi_app_sees_scope_body_and_lifespan_state(serve: Any) -> None:
    with serve(lambda: ASGIServer(hello)) as url:
        r = httpx.post(f"{url}/a%20b?x=1", content=b"12345")
    assert r.status_code == 201
    assert r.text == "POST /a b /a%20b x=1 127.0.0.1 http 1.1 hello from lifespan 5"
    assert r.headers.get_list("x-one") == ["1", "2"]


def test_streamed_response_in_pieces_is_chunked(serve: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(3):
            await send({"type": "http.response.body", "body": b"x%d" % i, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    with serve(lambda: ASGIServer(app)) as url, httpx.stream("GET", url) as r:
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.read() == b"x0x1x2"


def test_request_body_streams_to_the_app_in_pieces_with_back_pressure(serve: Any) -> None:
    sizes: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        while True:
            message = await receive()
            sizes.append(len(message["body"]))
            await asyncio.sleep(0.01)  # a slow consumer: http must stop reading meanwhile
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"%d" % sum(sizes)})

    payload = b"z" * (4 * 1024 * 1024)

    def body() -> Any:
        for i in range(0, len(payload), 65536):
            yield payload[i : i + 65536]

    with serve(lambda: ASGIServer(app)) as url:
        r = httpx.post(url, content=body(), timeout=30)
    assert r.text == str(len(payload))
    assert len(sizes) > 2  # arrived in pieces, not as one buffered body
    assert max(sizes) < len(payload) // 2


def test_http_disconnect_reaches_a_streaming_app_and_send_raises_oserror(serve: Any) -> None:
    seen: list[Any] = []
    done = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        seen.append((await receive())["type"])
        try:
            for _ in range(1000):
                await send({"type": "http.response.body", "body": b"y" * 1024, "more_body": True})
                await asyncio.sleep(0.001)
        except OSError as exc:
            seen.append(type(exc))
        done.set()

    with serve(lambda: ASGIServer(app)) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"first" in _read_until(s, b"first")
        deadline = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert seen == ["http.disconnect", ClientDisconnectedError]


def test_app_exception_before_start_is_500_and_server_goes_on(serve: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        if scope["path"] == "/boom":
            raise ValueError("boom")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with serve(lambda: ASGIServer(app)) as url, httpx.Client() as c:
        assert c.get(f"{url}/boom").status_code == 500
        assert c.get(url).text == "ok"


def test_head_gets_headers_without_body(serve: Any) -> None:
    with serve(lambda: ASGIServer(hello)) as url:
        r = httpx.head(url)
    assert r.status_code == 201 and r.content == b""


def test_lifespan_startup_failure_raises_lifespan_error(serve: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(LifespanError, match="no database"), serve(lambda: ASGIServer(app)):
        pass


def test_lifespan_shutdown_runs_at_server_shutdown(serve: Any) -> None:
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    with serve(lambda: ASGIServer(app), startup=False) as url:
        assert httpx.get(url).status_code == 204  # lifespan starts before the first request
        assert events == ["lifespan.startup"]
    assert events == ["lifespan.startup", "lifespan.shutdown"]


def _read_until(s: socket.socket, marker: bytes) -> bytes:
    data = b""
    s.settimeout(5)
    while marker not in data:
        piece = s.recv(65536)
        if not piece:
            break
        data += piece
    return data


def test_app_returning_without_a_response_is_500(serve: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")

    with serve(lambda: ASGIServer(app)) as url:
        assert httpx.get(url).status_code == 500


def test_exception_after_the_start_cuts_the_streamed_response(serve: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise ValueError("broke mid-stream")

    with serve(lambda: ASGIServer(app)) as url, pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)


def test_scope_headers_are_lowercase_bytes_and_a_fresh_list_each_request(serve: Any) -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        seen.append(list(scope["headers"]))
        scope["headers"].append((b"x-added-by-the-app", b"1"))  # must not leak to the next
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Twice: 1\r\nX-TWICE: 2\r\nAccept: */*\r\n\r\n"
    with (
        serve(lambda: ASGIServer(app)) as url,
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as s,
    ):
        for _ in range(3):  # the same headers again and again, on one connection
            s.sendall(head)
            assert b"204" in _read_until(s, b"\r\n\r\n")
    expected = [(b"host", b"a"), (b"x-twice", b"1"), (b"x-twice", b"2"), (b"accept", b"*/*")]
    assert seen == [expected] * 3


def test_shutdown_cancels_a_request_still_running_after_its_timeout(serve: Any) -> None:
    events: list[str] = []
    box: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        box["loop"] = asyncio.get_running_loop()
        events.append("started")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    def make() -> ASGIServer:
        box["server"] = ASGIServer(app)
        return box["server"]

    with (
        serve(make) as url,
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as s,
    ):
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        deadline = time.monotonic() + 5
        while not events and time.monotonic() < deadline:
            time.sleep(0.01)
        stopping = asyncio.run_coroutine_threadsafe(box["server"].bridge.shutdown(0.1), box["loop"])
        stopping.result(5)
        assert events == ["started", "cancelled"]
        assert _read_until(s, b"\r\n\r\n").startswith(b"HTTP/1.1 500 ")


def test_a_receive_waiting_when_the_whole_response_is_sent_gets_http_disconnect(
    serve: Any,
) -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        assert (await receive())["type"] == "http.request"  # the (empty) body
        watcher = asyncio.ensure_future(receive())  # as a disconnect listener does
        await asyncio.sleep(0)  # now it waits
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        seen.append((await asyncio.wait_for(watcher, 5))["type"])

    with serve(lambda: ASGIServer(app)) as url:
        assert httpx.get(url).text == "done"
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
    assert seen == ["http.disconnect"]
