"""ASGIServer's per-request path over real sockets: scopes from a per-connection template,
the request's own task and context, send()'s done awaitable, answers in order."""

from __future__ import annotations

import asyncio
import contextvars
import socket
from typing import Any

from squall.asgi import ASGIServer

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _responses(s: socket.socket, count: int) -> list[bytes]:
    """The bodies of ``count`` Content-Length responses read from ``s``."""
    s.settimeout(5)
    data = b""
    bodies: list[bytes] = []
    while len(bodies) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode("latin-1").lower()
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            end = head_end + 4 + length
            if len(data) >= end:
                bodies.append(data[head_end + 4 : end])
                data = data[end:]
                continue
        piece = s.recv(65536)
        if not piece:
            break
        data += piece
    return bodies


TEXT = [(b"content-type", b"text/plain")]


async def _answer(send: Any, text: str) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": TEXT})
    await send({"type": "http.response.body", "body": text.encode()})


def test_each_request_on_one_connection_gets_its_own_scope(serve: Any) -> None:
    seen: list[tuple[Any, ...]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        seen.append(
            (scope["method"], scope["path"], scope["raw_path"], scope["query_string"],
             scope["client"][0], scope["server"], "extensions" in scope)
        )  # fmt: skip
        # an application (or middleware) that rewrites its scope must not change the next
        scope["path"] = "/rewritten"
        scope["query_string"] = b"rewritten"
        scope["client"] = ("10.9.9.9", 1)
        scope["extensions"] = {"x": {}}
        await _answer(send, "ok")

    with serve(lambda: ASGIServer(app)) as url:
        port = _port(url)
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /a%20b?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _responses(s, 1) == [b"ok"]
            s.sendall(b"DELETE /c HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _responses(s, 1) == [b"ok"]
    server = ("127.0.0.1", port)
    assert seen == [
        ("GET", "/a b", b"/a%20b", b"x=1", "127.0.0.1", server, False),
        ("DELETE", "/c", b"/c", b"", "127.0.0.1", server, False),
    ]


def test_a_request_repeated_on_one_connection_gets_a_pristine_scope_each_time(
    serve: Any,
) -> None:
    # A keep-alive client repeats its request: the scope is then copied from the last one,
    # so what an application changed in its scope (or its header list) must not show.
    seen: list[tuple[Any, ...]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        seen.append(
            (scope["method"], scope["path"], scope["query_string"], scope["client"][0],
             list(scope["headers"]), "extensions" in scope)
        )  # fmt: skip
        scope["path"] = "/rewritten"
        scope["client"] = ("10.9.9.9", 1)
        scope["extensions"] = {"x": {}}
        scope["headers"].append((b"x-added", b"1"))
        scope["headers"][0] = (b"host", b"rewritten")
        await _answer(send, "ok")

    head = b"GET /p%2Fq?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n"
    other = b"GET /p%2Fq?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\n\r\n"
    with serve(lambda: ASGIServer(app)) as url:
        with socket.create_connection(("127.0.0.1", _port(url))) as s:
            for request in (head, head, head, other, head):
                s.sendall(request)
                assert _responses(s, 1) == [b"ok"]
    first = ("GET", "/p/q", b"x=1", "127.0.0.1", [(b"host", b"a"), (b"accept", b"*/*")], False)
    changed = first[:4] + ([(b"host", b"a"), (b"accept", b"text/html")], False)
    assert seen == [first, first, first, changed, first]


def test_xheaders_client_and_scheme_follow_each_request_on_one_connection(serve: Any) -> None:
    seen: list[tuple[str, str]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        seen.append((scope["client"][0], scope["scheme"]))
        await _answer(send, "ok")

    heads = [
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Real-Ip: 10.0.0.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Real-Ip: 10.0.0.2\r\nX-Scheme: https\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Real-Ip: 10.0.0.1\r\n\r\n",
    ]
    with (
        serve(lambda: ASGIServer(app, xheaders=True)) as url,
        socket.create_connection(("127.0.0.1", _port(url))) as s,
    ):
        for head in heads:
            s.sendall(head)
            assert _responses(s, 1) == [b"ok"]
    assert seen == [
        ("10.0.0.1", "http"),
        ("127.0.0.1", "http"),
        ("10.0.0.2", "https"),
        ("10.0.0.1", "http"),
    ]


def test_answers_at_once_and_after_waiting_go_out_in_request_order(serve: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        if scope["path"] == "/wait":
            await asyncio.sleep(0.05)  # really suspends: the next request waits its turn
            await _answer(send, "waited")
        elif scope["path"] == "/boom":
            raise ValueError("raised before any await")
        else:
            await _answer(send, "now")

    pipelined = b"".join(
        f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode()
        for path in ("/now", "/wait", "/now", "/boom", "/wait", "/now")
    )
    with (
        serve(lambda: ASGIServer(app)) as url,
        socket.create_connection(("127.0.0.1", _port(url))) as s,
    ):
        s.sendall(pipelined)
        bodies = _responses(s, 6)
    assert bodies == [b"now", b"waited", b"now", b"Internal Server Error", b"waited", b"now"]


def test_every_request_runs_in_its_own_task_and_context(serve: Any) -> None:
    seen: list[tuple[Any, ...]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        task = asyncio.current_task()
        before = REQUEST_ID.get("unset")
        REQUEST_ID.set(scope["path"])  # must not leak into the next request's context
        async with asyncio.timeout(5):  # needs the current task, as anyio's scopes do
            await asyncio.sleep(0)
        seen.append((task is not None, task is asyncio.current_task(), before, id(task)))
        await _answer(send, "ok")

    with (
        serve(lambda: ASGIServer(app)) as url,
        socket.create_connection(("127.0.0.1", _port(url))) as s,
    ):
        for path in (b"/one", b"/two"):
            s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _responses(s, 1) == [b"ok"]
    assert [entry[:3] for entry in seen] == [(True, True, "unset"), (True, True, "unset")]


def test_a_task_factory_set_on_the_loop_makes_the_request_tasks(serve: Any) -> None:
    made: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        made.append(getattr(coro, "__qualname__", ""))
        return asyncio.Task(coro, loop=loop, **kwargs)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        await _answer(send, "ok")

    def make() -> ASGIServer:
        asyncio.get_event_loop().set_task_factory(factory)
        return ASGIServer(app)

    with serve(make) as url, socket.create_connection(("127.0.0.1", _port(url))) as s:
        for _ in range(2):
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _responses(s, 1) == [b"ok"]
    assert made.count("_ASGIRequest._call") == 2


def test_what_send_returns_can_be_gathered_waited_for_and_awaited_again(serve: Any) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        started = send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.gather(started)
        await started  # awaiting the same awaitable again does not wait nor resend
        sent = asyncio.ensure_future(
            send({"type": "http.response.body", "body": scope["path"].encode()})
        )
        await asyncio.wait_for(sent, 5)
        await asyncio.wait([sent])

    with (
        serve(lambda: ASGIServer(app)) as url,
        socket.create_connection(("127.0.0.1", _port(url))) as s,
    ):
        for path in (b"/first", b"/second"):
            s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            s.settimeout(5)
            data = b""
            while not data.endswith(path):
                piece = s.recv(65536)
                assert piece, data
                data += piece
            assert data.startswith(b"HTTP/1.1 200 ")
