"""to_asgi: a squall.web Application driven through ASGI, in process (httpx.ASGITransport)
and by hand-fed ASGI messages where the transport cannot show a behaviour."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from squall.asgi import UpgradeNotSupportedError, to_asgi
from squall.http import StreamClosedError
from squall.web import Application, RequestHandler, hookimpl, stream_request_body


class Hello(RequestHandler):
    def get(self) -> None:
        self.set_header("X-Custom", "yes")
        self.write("hello word")


class Echo(RequestHandler):
    def post(self) -> None:
        self.write(
            {
                "body": self.request.body.decode(),
                "name": self.get_argument("name", ""),
                "ip": self.request.remote_ip,
                "protocol": self.request.protocol,
                "uri": self.request.uri,
                "q": self.get_query_argument("q", ""),
            }
        )


class Stream(RequestHandler):
    async def get(self) -> None:
        for i in range(3):
            self.write(f"part{i};")
            await self.flush()


@stream_request_body
class Upload(RequestHandler):
    def prepare(self) -> None:
        self.chunks: list[bytes] = []

    async def data_received(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def put(self) -> None:
        self.write({"count": len(self.chunks), "size": sum(map(len, self.chunks))})


class Gone(RequestHandler):
    closed: asyncio.Event

    async def get(self) -> None:
        self.write("start")
        await self.flush()
        await Gone.closed.wait()

    def on_connection_close(self) -> None:
        Gone.closed.set()


def make_app(**settings: Any) -> Application:
    return Application(
        [
            (r"/", Hello),
            (r"/echo", Echo),
            (r"/stream", Stream),
            (r"/upload", Upload),
            (r"/gone", Gone),
        ],
        **settings,
    )


def run(coro: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro())  # type: ignore[arg-type]


def client(app: Application, **kw: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=to_asgi(app), client=("10.9.8.7", 1234))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver", **kw)


def test_get_answers_with_status_headers_and_body() -> None:
    async def go() -> httpx.Response:
        async with client(make_app()) as c:
            return await c.get("/")

    r = run(go)
    assert r.status_code == 200
    assert r.text == "hello word"
    assert r.headers["x-custom"] == "yes"
    assert r.headers["content-length"] == "10"


def test_the_asgi_server_names_itself_in_server_unless_the_handler_set_its_own() -> None:
    # squall.web's default "Server: SquallServer/..." is left out (uvicorn and Hypercorn add
    # their own; a response has one Server field); a value the handler set stays.
    class Named(RequestHandler):
        def get(self) -> None:
            self.set_header("Server", "my-app/2")
            self.write("named")

    class Streamed(RequestHandler):
        async def get(self) -> None:
            self.write("a")
            await self.flush()

    async def go() -> list[httpx.Response]:
        app = Application([(r"/", Hello), (r"/named", Named), (r"/streamed", Streamed)])
        async with client(app) as c:
            return [await c.get("/"), await c.get("/named"), await c.get("/streamed")]

    default, named, streamed = run(go)
    assert default.status_code == named.status_code == streamed.status_code == 200
    assert "server" not in default.headers and "server" not in streamed.headers
    assert named.headers.get_list("server") == ["my-app/2"]


def test_request_built_from_scope_client_scheme_path_and_form_body() -> None:
    async def go() -> httpx.Response:
        async with client(make_app()) as c:
            return await c.post("/echo?q=%C3%A9t%C3%A9", data={"name": "squall"})

    data = run(go).json()
    assert data["name"] == "squall"
    assert data["body"] == "name=squall"
    assert data["ip"] == "10.9.8.7"
    assert data["protocol"] == "https"
    assert data["uri"] == "/echo?q=%C3%A9t%C3%A9"
    assert data["q"] == "été"


def test_unknown_path_is_404_and_wrong_method_405() -> None:
    async def go() -> tuple[int, int]:
        async with client(make_app()) as c:
            return (await c.get("/nowhere")).status_code, (await c.delete("/")).status_code

    assert run(go) == (404, 405)


def test_flush_streams_the_body_in_pieces() -> None:
    sent: list[dict[str, Any]] = []

    async def go() -> None:
        inbox = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if inbox:
                return inbox.pop(0)
            await asyncio.Event().wait()  # no disconnect: the server would block too
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = _scope("GET", "/stream")
        await to_asgi(make_app())(scope, receive, send)

    run(go)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert [m["body"] for m in bodies if m["body"]] == [b"part0;", b"part1;", b"part2;"]
    assert all(m["more_body"] for m in bodies[:-1]) and not bodies[-1]["more_body"]


def test_stream_request_body_gets_each_http_request_message() -> None:
    messages = [
        {"type": "http.request", "body": b"aaa", "more_body": True},
        {"type": "http.request", "body": b"bb", "more_body": True},
        {"type": "http.request", "body": b"c", "more_body": False},
    ]
    sent = _drive(to_asgi(make_app()), _scope("PUT", "/upload"), messages)
    assert json.loads(_body(sent)) == {"count": 3, "size": 6}


def test_http_disconnect_fires_on_connection_close_and_later_writes_raise() -> None:
    sent: list[dict[str, Any]] = []

    async def go() -> None:
        Gone.closed = asyncio.Event()
        body_sent = asyncio.Event()
        queue = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict[str, Any]:
            if queue:
                return queue.pop(0)
            await body_sent.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message.get("body"):
                body_sent.set()

        await asyncio.wait_for(to_asgi(make_app())(_scope("GET", "/gone"), receive, send), 5)
        await asyncio.wait_for(Gone.closed.wait(), 5)

    run(go)
    assert Gone.closed.is_set()
    assert [m.get("body") for m in sent[1:]] == [b"start"]


def test_lifespan_runs_startup_and_shutdown_hooks() -> None:
    calls: list[str] = []

    class Hooks:
        @hookimpl
        def squall_web_startup(self, app: Application) -> Any:
            calls.append("startup")

        @hookimpl
        def squall_web_shutdown(self, app: Application) -> Any:
            calls.append("shutdown")

    app = make_app(plugins=[Hooks()], autoload_plugins=False)
    sent: list[str] = []

    async def go() -> None:
        inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

        async def receive() -> dict[str, Any]:
            return inbox.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message["type"])

        await to_asgi(app)({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    run(go)
    assert calls == ["startup", "shutdown"]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_startup_failure_is_reported_as_lifespan_startup_failed() -> None:
    class Broken:
        @hookimpl
        def squall_web_startup(self, app: Application) -> Any:
            raise OSError("database unreachable")

    app = make_app(plugins=[Broken()], autoload_plugins=False)
    sent: list[dict[str, Any]] = []

    async def go() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "lifespan.startup"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await to_asgi(app)({"type": "lifespan"}, receive, send)

    run(go)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "database unreachable" in sent[0]["message"]


def test_without_lifespan_startup_hooks_run_before_the_first_request() -> None:
    calls: list[str] = []

    class Hooks:
        @hookimpl
        def squall_web_startup(self, app: Application) -> Any:
            calls.append("startup")

    app = make_app(plugins=[Hooks()], autoload_plugins=False)

    async def go() -> None:
        async with client(app) as c:
            await c.get("/")
            await c.get("/")

    run(go)
    assert calls == ["startup"]


def test_upgrade_is_refused_under_asgi() -> None:
    seen: list[BaseException] = []

    class Up(RequestHandler):
        def get(self) -> None:
            try:
                self.request.connection.upgrade([], object())  # type: ignore[union-attr]
            except UpgradeNotSupportedError as exc:
                seen.append(exc)
            self.write("no")

    async def go() -> httpx.Response:
        async with client(Application([(r"/", Up)])) as c:
            return await c.get("/")

    assert run(go).text == "no"
    assert "websocket" in str(seen[0])


def test_header_with_newline_is_refused_with_a_500_not_sent() -> None:
    class Split(RequestHandler):
        def get(self) -> None:
            self.set_header("X-A", "ok")
            self.request.connection.respond(200, [("X-B", "a\r\nSet-Cookie: x=1")], b"")  # type: ignore[union-attr]

    async def go() -> httpx.Response:
        async with client(Application([(r"/", Split)])) as c:
            return await c.get("/")

    r = run(go)
    assert r.status_code == 500
    assert "set-cookie" not in r.headers


def test_a_whole_body_over_max_body_size_is_413() -> None:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=to_asgi(make_app(), max_body_size=10))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.post("/echo", content=b"x" * 11)

    assert run(go).status_code == 413


def test_to_asgi_refuses_what_is_not_an_application() -> None:
    with pytest.raises(TypeError, match="start_request"):
        to_asgi(lambda request: None)


def test_write_after_disconnect_raises_stream_closed() -> None:
    from squall.asgi import ASGIConnection

    async def go() -> None:
        conn = ASGIConnection(head=False)
        conn.write_headers(200, [])
        conn._disconnected()
        with pytest.raises(StreamClosedError):
            conn.write(b"x")

    run(go)


def _scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }


def _drive(asgi_app: Any, scope: dict[str, Any], inbox: list[dict[str, Any]]) -> list[Any]:
    """Run one ASGI call: ``receive`` hands out ``inbox`` in order, then waits forever (a
    client that sends nothing more); returns every message the app sent."""
    sent: list[dict[str, Any]] = []

    async def go() -> None:
        async def receive() -> dict[str, Any]:
            if inbox:
                return inbox.pop(0)
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asgi_app(scope, receive, send)

    run(go)
    return sent


def _body(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_http2_body_without_content_length_is_read() -> None:
    scope = _scope("POST", "/echo")
    scope["http_version"] = "2"
    scope["headers"] = [
        (b"host", b"example.com"),
        (b"content-type", b"application/x-www-form-urlencoded"),
    ]
    inbox = [{"type": "http.request", "body": b"name=h2", "more_body": False}]
    sent = _drive(to_asgi(make_app()), scope, inbox)
    assert json.loads(_body(sent))["name"] == "h2"


def test_requests_arriving_during_startup_wait_for_it() -> None:
    order: list[str] = []

    class SlowStart:
        @hookimpl
        def squall_web_startup(self, app: Application) -> Any:
            async def opened() -> None:
                await asyncio.sleep(0.05)
                order.append("started")

            return opened()

    class Seen(RequestHandler):
        def get(self) -> None:
            order.append("request")
            self.write("ok")

    app = Application([(r"/", Seen)], plugins=[SlowStart()], autoload_plugins=False)

    async def go() -> None:
        async with client(app) as c:
            await asyncio.gather(c.get("/"), c.get("/"))

    run(go)
    assert order == ["started", "request", "request"]


class MarksHeaders(RequestHandler):
    def get(self) -> None:
        before = self.request.headers.get("X-Marked", "no")
        self.request.headers["X-Marked"] = "yes"  # must not reach the next request
        self.request.headers.add("X-Twice", "3")
        self.write({"marked": before, "twice": self.request.headers.get_list("X-Twice")})


def test_repeated_requests_each_get_their_own_headers_and_one_content_length() -> None:
    sent: list[dict[str, Any]] = []

    async def go() -> None:
        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()
            raise AssertionError("unreachable: a bodiless GET reads nothing")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        app = to_asgi(Application([(r"/", MarksHeaders)]))
        for _ in range(3):  # the very same header list each time, as a client repeats it
            scope = _scope("GET", "/")
            scope["headers"] = [(b"host", b"example.com"), (b"x-twice", b"1"), (b"x-twice", b"2")]
            await app(scope, receive, send)

    run(go)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    bodies = [json.loads(m["body"]) for m in sent if m["type"] == "http.response.body"]
    assert bodies == [{"marked": "no", "twice": ["1", "2", "3"]}] * 3
    assert len(starts) == 3
    for start in starts:
        assert [k for k, _ in start["headers"]].count(b"content-length") == 1
    assert starts[0]["headers"] is not starts[1]["headers"]


def test_a_request_announcing_a_body_by_transfer_encoding_has_it_read() -> None:
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "http.request", "body": b"name=chunked", "more_body": False}]

    async def go() -> None:
        async def receive() -> dict[str, Any]:
            if inbox:
                return inbox.pop(0)
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = _scope("POST", "/echo")
        scope["headers"] = [
            (b"host", b"example.com"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"transfer-encoding", b"chunked"),
        ]
        await to_asgi(make_app())(scope, receive, send)

    run(go)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert json.loads(body)["name"] == "chunked"


def test_request_version_host_and_client_come_from_the_scope() -> None:
    sent: list[dict[str, Any]] = []

    class Shows(RequestHandler):
        def get(self) -> None:
            r = self.request
            self.write({"version": r.version, "host": r.host, "Host": r.headers.get("Host"),
                        "ip": r.remote_ip, "protocol": r.protocol})  # fmt: skip

    async def go() -> None:
        async def receive() -> dict[str, Any]:  # (an HTTP/2 request's body is read)
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        app = to_asgi(Application([(r"/", Shows)]))
        for version, headers, client, scheme in [
            ("1.1", [(b"host", b"example.com")], ("10.0.0.1", 5), "http"),
            ("2", [(b"host", b"example.com")], ("10.0.0.2", 5), "https"),
            ("1.0", [], ("10.0.0.3", 5), "http"),  # no Host: the server's address
            ("1.1", [(b"host", b"")], None, "http"),  # an empty Host stays empty
        ]:
            scope = _scope("GET", "/")
            scope.update(http_version=version, headers=headers, client=client, scheme=scheme)
            await app(scope, receive, send)

    run(go)
    bodies = [json.loads(m["body"]) for m in sent if m["type"] == "http.response.body"]
    assert bodies == [
        {"version": "HTTP/1.1", "host": "example.com", "Host": "example.com",
         "ip": "10.0.0.1", "protocol": "http"},
        {"version": "HTTP/2", "host": "example.com", "Host": "example.com",
         "ip": "10.0.0.2", "protocol": "https"},
        {"version": "HTTP/1.0", "host": "127.0.0.1:80", "Host": "127.0.0.1:80",
         "ip": "10.0.0.3", "protocol": "http"},
        {"version": "HTTP/1.1", "host": "127.0.0.1", "Host": "", "ip": "127.0.0.1",
         "protocol": "http"},
    ]  # fmt: skip


# -- Tornado's per-request connection API (request.connection) under ASGI ------------------


@stream_request_body
class BigUpload(RequestHandler):
    """Raises its own body limit (and sets a body timeout) in an async prepare, as Tornado
    upload handlers do."""

    async def prepare(self) -> None:
        await asyncio.sleep(0)  # the body must not be read before this completes
        self.request.connection.set_max_body_size(int(self.get_query_argument("max")))
        timeout = self.get_query_argument("timeout", "")
        if timeout:
            self.request.connection.set_body_timeout(float(timeout))
        self.size = 0

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)

    def put(self) -> None:
        closed = self.request.connection.stream.closed()
        self.write({"size": self.size, "closed": closed})


def _feed(
    path: str, messages: list[dict[str, Any]], headers: list[tuple[bytes, bytes]], **kw: Any
) -> tuple[int, bytes]:
    scope = _scope("PUT", path.split("?")[0])
    scope["query_string"] = path.partition("?")[2].encode()
    scope["headers"] = [(b"host", b"example.com"), *headers]
    sent = _drive(to_asgi(Application([(r"/big", BigUpload)]), **kw), scope, messages)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, _body(sent)


def test_set_max_body_size_in_an_async_prepare_raises_the_limit_under_asgi() -> None:
    body = [{"type": "http.request", "body": b"x" * 30, "more_body": False}]
    status, out = _feed("/big?max=100", body, [(b"content-length", b"30")], max_body_size=10)
    assert (status, json.loads(out)) == (200, {"size": 30, "closed": False})


def test_set_max_body_size_lowered_refuses_the_declared_length_before_reading() -> None:
    messages = [{"type": "http.request", "body": b"x" * 30, "more_body": False}]
    status, out = _feed("/big?max=5", messages, [(b"content-length", b"30")])
    assert (status, out) == (413, b"request body too large")
    assert len(messages) == 1  # not one body message was read


def test_set_max_body_size_bounds_a_body_without_content_length() -> None:
    body = [{"type": "http.request", "body": b"x" * 4, "more_body": True}] * 3
    status, _ = _feed("/big?max=10", list(body), [(b"transfer-encoding", b"chunked")])
    assert status == 413


def test_set_body_timeout_answers_408_when_the_body_stalls() -> None:
    # one piece arrives, then nothing: the fake receive() waits forever
    body = [{"type": "http.request", "body": b"abc", "more_body": True}]
    status, out = _feed("/big?max=100&timeout=0.05", body, [(b"content-length", b"10")])
    assert (status, out) == (408, b"request body timeout")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.set_max_body_size(-1), ValueError),
        (lambda c: c.set_max_body_size("10"), TypeError),
        (lambda c: c.set_body_timeout(0), ValueError),
        (lambda c: c.set_body_timeout("1"), TypeError),
    ],
)
def test_bad_connection_limits_are_refused(call: Callable[[Any], None], error: type) -> None:
    from squall.asgi import ASGIConnection

    with pytest.raises(error, match="set_"):
        call(ASGIConnection(head=False))


def test_stream_closed_is_true_once_the_client_left() -> None:
    from squall.asgi import ASGIConnection

    conn = ASGIConnection(head=False)
    assert conn.stream.closed() is False
    conn._disconnected()
    assert conn.stream.closed() is True


class Context(RequestHandler):
    def get(self) -> None:
        context = self.request.connection.context
        self.write({"address": list(context.address), "ip": context.remote_ip,
                    "protocol": context.protocol, "str": str(context)})  # fmt: skip


def test_connection_context_comes_from_the_scope_client_and_scheme() -> None:
    async def go() -> httpx.Response:
        async with client(Application([(r"/c", Context)])) as c:
            return await c.get("/c")

    assert run(go).json() == {
        "address": ["10.9.8.7", 1234],
        "ip": "10.9.8.7",
        "protocol": "https",
        "str": "10.9.8.7",
    }
