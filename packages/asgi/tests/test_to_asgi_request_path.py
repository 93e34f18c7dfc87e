"""to_asgi's per-request path, driven by hand-fed ASGI messages: the request built inline
from a full scope and the general form for a scope leaving keys out, the response header
and Content-Length memos, a whole response sent as a pair (at once, or later through the
draining loop), HEAD and 304, and a server refusing to send."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from squall.asgi import to_asgi
from squall.web import Application, RequestHandler


class Shows(RequestHandler):
    def get(self) -> None:
        r = self.request
        self.write({"uri": r.uri, "path": r.path, "query": r.query, "version": r.version,
                    "host": r.host, "ip": r.remote_ip, "protocol": r.protocol,
                    "headers": sorted(r.headers.get_all())})  # fmt: skip


class Sized(RequestHandler):
    """Answers ``n`` bytes with the same header list whatever ``n`` is."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write(b"x" * int(self.get_query_argument("n")))


class Later(RequestHandler):
    """Answers after an await: the response goes through the draining loop."""

    async def get(self) -> None:
        await asyncio.sleep(0)
        self.write("later")


class Left(RequestHandler):
    closed = 0

    def get(self) -> None:
        self.write("unsent")

    def on_connection_close(self) -> None:
        Left.closed += 1


def _app() -> Any:
    return to_asgi(
        Application(
            [(r"/show", Shows), (r"/sized", Sized), (r"/later", Later), (r"/left", Left)],
            etag=True,
        )
    )


def _scope(path: str, query: bytes = b"", method: str = "GET") -> dict[str, Any]:
    """What uvicorn gives for a request: every key, optional ones included."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8080),
        "client": ("10.1.2.3", 51234),
        "scheme": "https",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"example.com"), (b"x-a", b"1")],
        "state": {},
    }


async def _call(app: Any, scope: dict[str, Any], send: Any = None) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable: a bodiless GET reads nothing")

    async def keep(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send or keep)
    return sent


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _json(sent: list[dict[str, Any]]) -> Any:
    return json.loads(b"".join(m["body"] for m in sent if m["type"] == "http.response.body"))


def test_a_scope_leaving_out_optional_keys_gives_the_request_a_full_one_gives() -> None:
    full = _scope("/show", b"a=1")
    full["scheme"], full["client"], full["http_version"] = "http", None, "1.0"
    sparse = dict(full)
    for key in ("raw_path", "client", "scheme", "state"):
        del sparse[key]
    sparse["http_version"] = "1.0"

    async def go() -> tuple[Any, Any, Any]:
        app = _app()
        none_raw = dict(full, raw_path=None)
        return (
            _json(await _call(app, full)),
            _json(await _call(app, sparse)),
            _json(await _call(app, none_raw)),
        )

    inline, general, no_raw = _run(go())
    assert inline == general == no_raw
    assert inline["uri"] == "/show?a=1" and inline["query"] == "a=1"
    assert inline["version"] == "HTTP/1.0" and inline["protocol"] == "http"
    assert inline["ip"] == "127.0.0.1" and inline["host"] == "example.com"


def test_raw_path_is_the_uri_as_sent_and_path_is_quoted_without_it() -> None:
    with_raw = _scope("/show", b"q=%C3%A9")
    with_raw["raw_path"] = b"/sh%6Fw"  # as the client sent it (an ASGI server decodes path)
    without = _scope("/sh ow")
    del without["raw_path"]

    async def go() -> tuple[Any, list[dict[str, Any]]]:
        app = to_asgi(Application([(r"/sh.*", Shows)]))
        return _json(await _call(app, with_raw)), await _call(app, without)

    raw, quoted = _run(go())
    assert raw["uri"] == "/sh%6Fw?q=%C3%A9"
    assert _json(quoted)["uri"] == "/sh%20ow"


def test_an_unknown_http_version_is_kept_and_its_body_read() -> None:
    scope = _scope("/show")
    scope["http_version"] = "3"

    async def go() -> list[dict[str, Any]]:
        inbox = [{"type": "http.request", "body": b"", "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return inbox.pop(0)  # read once: HTTP/3 frames a body without announcing it

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await _app()(scope, receive, send)
        assert inbox == []
        scope["http_version"] = "4.2"
        inbox.append({"type": "http.request", "body": b"", "more_body": False})
        await _app()(scope, receive, send)
        assert inbox == []
        return sent

    bodies = [json.loads(m["body"]) for m in _run(go()) if m["type"] == "http.response.body"]
    assert [b["version"] for b in bodies] == ["HTTP/3", "HTTP/4.2"]


def test_headers_repeated_by_a_client_are_each_requests_own() -> None:
    async def go() -> list[Any]:
        app = _app()
        scopes = [_scope("/show"), _scope("/show")]
        scopes[1]["headers"] = [(b"host", b"example.com"), (b"x-a", b"2")]  # same shape
        return [_json(await _call(app, s)) for s in (scopes[0], scopes[1], scopes[0])]

    first, other, again = _run(go())
    assert first == again
    assert ["X-A", "1"] in first["headers"] and ["X-A", "2"] in other["headers"]


def test_the_same_response_headers_get_each_bodys_own_content_length() -> None:
    async def go() -> list[list[dict[str, Any]]]:
        app = _app()
        return [await _call(app, _scope("/sized", b"n=%d" % n)) for n in (3, 70000, 3, 0)]

    for n, sent in zip((3, 70000, 3, 0), _run(go()), strict=True):
        start, body = sent
        lengths = [v for k, v in start["headers"] if k == b"content-length"]
        assert lengths == [b"%d" % n]
        assert body == {"type": "http.response.body", "body": b"x" * n, "more_body": False}


def test_a_middleware_changing_a_sent_header_list_does_not_change_the_next_response() -> None:
    async def go() -> list[list[dict[str, Any]]]:
        app = _app()
        out = []
        for _ in range(3):  # a new header list, then the memo's twice
            sent = await _call(app, _scope("/sized", b"n=1"))
            sent[0]["headers"].append((b"x-added", b"by a middleware"))
            sent[0]["headers"][0] = (b"x-replaced", b"1")
            out.append(sent)
        return out

    first, second, third = _run(go())
    assert first[0]["headers"] == second[0]["headers"] == third[0]["headers"]
    names = [k for k, _ in first[0]["headers"]]
    assert names.count(b"x-added") == 1 and names.count(b"content-length") == 1


def test_an_answer_after_an_await_is_sent_whole_and_once() -> None:
    async def go() -> list[dict[str, Any]]:
        return await _call(_app(), _scope("/later"))

    start, body = _run(go())
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert (b"content-length", b"5") in start["headers"]
    assert body == {"type": "http.response.body", "body": b"later", "more_body": False}


def test_head_gets_gets_headers_and_no_body_at_once_and_after_an_await() -> None:
    async def go() -> list[list[dict[str, Any]]]:
        app = _app()
        return [
            await _call(app, _scope(path, b"n=7" if path == "/sized" else b"", method))
            for path in ("/sized", "/later")
            for method in ("GET", "HEAD")
        ]

    sized_get, sized_head, later_get, later_head = _run(go())
    for get, head in ((sized_get, sized_head), (later_get, later_head)):
        assert head[0]["headers"] == get[0]["headers"]  # Content-Length of the GET
        assert get[1]["body"] and head[1]["body"] == b""
        assert head[1]["more_body"] is False


def test_a_matching_if_none_match_is_304_without_body_or_content_length() -> None:
    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        app = _app()
        first = await _call(app, _scope("/sized", b"n=4"))
        etag = dict(first[0]["headers"])[b"etag"]
        again = _scope("/sized", b"n=4")
        again["headers"] = [(b"host", b"example.com"), (b"if-none-match", etag)]
        return first, await _call(app, again)

    first, cached = _run(go())
    assert first[0]["status"] == 200
    assert cached[0]["status"] == 304
    assert b"content-length" not in dict(cached[0]["headers"])
    assert cached[1]["body"] == b""


def test_a_server_refusing_to_send_ends_the_call_quietly_without_close_callback() -> None:
    calls: list[str] = []

    async def refuses(message: dict[str, Any]) -> None:
        calls.append(message["type"])
        raise RuntimeError("the client is gone")

    async def go() -> None:
        Left.closed = 0
        await _call(_app(), _scope("/left"), refuses)  # must not raise
        await _call(_app(), _scope("/later"), refuses)  # (through the draining loop)

    _run(go())
    assert calls == ["http.response.start", "http.response.start"]
    assert Left.closed == 0  # the response was finished: no on_connection_close


class Plain:
    """An http delegate factory that is not squall.web's (no ``stream_body``)."""

    def start_request(self, connection: Any) -> Any:
        return _PlainDelegate(connection)


class _PlainDelegate:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.body = b""

    def headers_received(self, request: Any) -> None:
        self.request = request

    def data_received(self, chunk: bytes) -> None:
        raise AssertionError("a whole body is handed over on the request")

    def finish(self) -> None:
        self.connection.respond(200, [("X-Body", self.request.body.decode())], b"ok")


def test_a_delegate_without_stream_body_gets_the_whole_body() -> None:
    scope = _scope("/", method="POST")
    scope["headers"] = [(b"host", b"example.com"), (b"content-length", b"5")]

    async def go() -> list[dict[str, Any]]:
        inbox = [{"type": "http.request", "body": b"hello", "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return inbox.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await to_asgi(Plain())(scope, receive, send)
        return sent

    start, body = _run(go())
    assert (b"x-body", b"hello") in start["headers"] and body["body"] == b"ok"
