"""Output transforms (squall_web_transforms, the `transforms` setting, add_transform) and the
complete-hook that lets a plugin wrap the handler call (tracing), over real HTTP."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from squall.http import HTTPHeaders, HTTPServerRequest
from squall.web import (
    Application,
    ConfigurationError,
    HTTPError,
    OutputTransform,
    RequestHandler,
    RequestHooks,
    hookimpl,
)
from squall.web.testing import wait_until

Calls = list[tuple[Any, ...]]


def recording(name: str, calls: Calls) -> type[OutputTransform]:
    """A transform class that logs every call and tags the body with ``name``."""

    class Recording(OutputTransform):
        def transform_first_chunk(
            self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
        ) -> tuple[int, HTTPHeaders, bytes]:
            calls.append((name, "first", status_code, chunk, finishing))
            headers.add("X-Transformed", name)
            return status_code, headers, chunk + f"<{name}>".encode() if chunk else chunk

        def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
            calls.append((name, "chunk", chunk, finishing))
            return chunk.upper() if name == "upper" else chunk

    return Recording


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("hello")


class Streamed(RequestHandler):
    async def get(self) -> None:
        self.write("a")
        await self.flush()
        self.write("b")
        await self.flush()
        self.finish("c")


class Fails(RequestHandler):
    def get(self) -> None:
        raise HTTPError(403)


class Crashes(RequestHandler):
    def get(self) -> None:
        raise ZeroDivisionError("boom")


class StreamThenCrash(RequestHandler):
    async def get(self) -> None:
        self.write("part")
        await self.flush()
        raise ValueError("mid-stream")


RULES: list[Any] = [
    (r"/", Hello),
    (r"/stream", Streamed),
    (r"/403", Fails),
    (r"/500", Crashes),
    (r"/midstream", StreamThenCrash),
]


class TransformPlugin:
    def __init__(self, *factories: Callable[[HTTPServerRequest], Any]) -> None:
        self.factories = factories

    @hookimpl
    def squall_web_transforms(self, app: Application) -> tuple[Any, ...]:
        return self.factories


def test_a_buffered_response_passes_through_every_transform_in_order(
    squall_live_server: Any,
) -> None:
    calls: Calls = []
    app = Application(
        RULES,
        plugins=[TransformPlugin(recording("plugin", calls))],
        transforms=[recording("setting", calls)],
    )
    app.add_transform(recording("added", calls))
    r = httpx.get(squall_live_server(app).url + "/", timeout=10)
    assert r.text == "hello<plugin><setting><added>"
    assert r.headers.get_list("X-Transformed") == ["plugin", "setting", "added"]
    # Content-Length is computed from the transformed body
    assert r.headers["Content-Length"] == str(len(r.content))
    assert [c[:2] for c in calls] == [("plugin", "first"), ("setting", "first"), ("added", "first")]
    assert calls[0][2:] == (200, b"hello", True)
    assert calls[1][2:] == (200, b"hello<plugin>", True)


def test_a_streamed_response_passes_each_flush_and_the_last_chunk(squall_live_server: Any) -> None:
    calls: Calls = []
    app = Application(RULES, transforms=[recording("upper", calls)])
    r = httpx.get(squall_live_server(app).url + "/stream", timeout=10)
    assert r.text == "a<upper>BC"
    assert "Content-Length" not in r.headers  # chunked: the transform may change lengths
    assert calls == [
        ("upper", "first", 200, b"a", False),
        ("upper", "chunk", b"b", False),
        ("upper", "chunk", b"c", True),
    ]


def test_head_and_not_modified_go_through_the_transforms(squall_live_server: Any) -> None:
    calls: Calls = []
    app = Application(RULES, transforms=[recording("t", calls)])
    url = squall_live_server(app).url + "/"
    head = httpx.head(url, timeout=10)
    assert head.headers["X-Transformed"] == "t"
    assert head.content == b""
    etag = httpx.get(url, timeout=10).headers["Etag"]
    calls.clear()
    r = httpx.get(url, headers={"If-None-Match": etag}, timeout=10)
    assert r.status_code == 304
    assert r.headers["X-Transformed"] == "t"
    assert calls == [("t", "first", 304, b"", True)]


def test_error_pages_go_through_fresh_transforms(squall_live_server: Any) -> None:
    calls: Calls = []
    app = Application(RULES, transforms=[recording("t", calls)])
    url = squall_live_server(app).url
    r = httpx.get(url + "/403", timeout=10)
    assert r.status_code == 403
    assert r.text.endswith("<t>")
    assert calls[0][2] == 403


def test_an_error_after_a_flush_still_finishes_through_the_transforms(
    squall_live_server: Any,
) -> None:
    calls: Calls = []
    app = Application(RULES, transforms=[recording("t", calls)])
    r = httpx.get(squall_live_server(app).url + "/midstream", timeout=10)
    assert r.text == "part<t>"
    assert calls[-1] == ("t", "chunk", b"", True)


def test_a_transform_may_change_the_status(squall_live_server: Any) -> None:
    class Teapot(OutputTransform):
        def transform_first_chunk(
            self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
        ) -> tuple[int, HTTPHeaders, bytes]:
            return 418, headers, chunk

    app = Application(RULES, transforms=[Teapot])
    r = httpx.get(squall_live_server(app).url + "/", timeout=10)
    assert r.status_code == 418
    assert r.text == "hello"


def test_a_transform_factory_is_called_once_per_request_with_the_request(
    squall_live_server: Any,
) -> None:
    seen: list[str] = []

    def factory(request: HTTPServerRequest) -> OutputTransform:
        seen.append(request.path)
        return OutputTransform(request)

    app = Application(RULES, transforms=[factory])
    url = squall_live_server(app).url
    httpx.get(url + "/stream", timeout=10)
    httpx.get(url + "/", timeout=10)
    assert seen == ["/stream", "/"]


def test_an_app_without_transforms_has_none() -> None:
    app = Application(RULES, autoload_plugins=False)
    assert app._transforms == ()


def test_bad_transforms_are_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="transforms"):
        Application(RULES, transforms=["not callable"])
    with pytest.raises(ConfigurationError, match="not callable"):
        Application(RULES, plugins=[TransformPlugin(42)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="add_transform"):
        Application(RULES).add_transform(42)  # type: ignore[arg-type]


# -- wrapping the handler call: a tiny tracing plugin ----------------------------------------


class Tracing:
    """An example tracing plugin: one span per request, closed with status and exception."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self._open: weakref.WeakKeyDictionary[RequestHandler, float] = weakref.WeakKeyDictionary()

    def before(self, handler: RequestHandler) -> None:
        self._open[handler] = time.perf_counter()

    def complete(self, handler: RequestHandler, exception: BaseException | None) -> None:
        started = self._open.pop(handler, None)
        self.spans.append(
            {
                "path": handler.request.path,
                "status": handler.get_status(),
                "exception": type(exception).__name__ if exception else None,
                "timed": started is not None and time.perf_counter() >= started,
            }
        )

    @hookimpl
    def squall_web_request_hooks(self, app: Application) -> RequestHooks:
        return RequestHooks(before=self.before, complete=self.complete)


def test_a_tracing_plugin_sees_status_and_exception_of_every_request(
    squall_live_server: Any,
) -> None:
    tracing = Tracing()
    app = Application(RULES, plugins=[tracing])
    url = squall_live_server(app).url
    with httpx.Client(timeout=10) as client:
        assert client.get(url + "/").status_code == 200
        assert client.get(url + "/403").status_code == 403
        assert client.get(url + "/500").status_code == 500
        assert client.get(url + "/stream").status_code == 200
        assert client.get(url + "/midstream").status_code == 200
        assert client.post(url + "/").status_code == 405
        assert client.request("PROPFIND", url + "/").status_code == 405
    # complete runs after the response went out: the server thread may still be there
    wait_until(lambda: len(tracing.spans) == 7)
    assert tracing.spans == [
        {"path": "/", "status": 200, "exception": None, "timed": True},
        {"path": "/403", "status": 403, "exception": "HTTPError", "timed": True},
        {"path": "/500", "status": 500, "exception": "ZeroDivisionError", "timed": True},
        {"path": "/stream", "status": 200, "exception": None, "timed": True},
        {"path": "/midstream", "status": 200, "exception": "ValueError", "timed": True},
        {"path": "/", "status": 405, "exception": "HTTPError", "timed": True},
        # a method squall does not know never reaches before-hooks; complete still runs
        {"path": "/", "status": 405, "exception": "HTTPError", "timed": False},
    ]


def test_complete_runs_after_after_and_before_on_finish(squall_live_server: Any) -> None:
    order: list[str] = []

    class Finishing(RequestHandler):
        def get(self) -> None:
            self.write("x")

        def on_finish(self) -> None:
            order.append("on_finish")

    class Plugin:
        @hookimpl
        def squall_web_request_hooks(self, app: Application) -> RequestHooks:
            return RequestHooks(
                after=lambda h: order.append("after"),
                complete=lambda h, e: order.append("complete"),
            )

    app = Application([(r"/", Finishing)], plugins=[Plugin()])
    httpx.get(squall_live_server(app).url + "/", timeout=10)
    wait_until(lambda: len(order) == 3)
    assert order == ["after", "complete", "on_finish"]


def test_a_failing_complete_hook_is_logged_and_the_response_stands(
    squall_live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(handler: RequestHandler, exception: BaseException | None) -> None:
        raise RuntimeError("broken hook")

    class Plugin:
        @hookimpl
        def squall_web_request_hooks(self, app: Application) -> RequestHooks:
            return RequestHooks(complete=broken)

    app = Application(RULES, plugins=[Plugin()])
    r = httpx.get(squall_live_server(app).url + "/", timeout=10)
    assert r.text == "hello"
    wait_until(lambda: "complete-request hook" in caplog.text)


def test_the_transform_sees_raw_bytes_on_the_wire(squall_live_server: Any) -> None:
    # What a client reads is exactly what the last transform returned, chunk framing aside.
    app = Application(RULES, transforms=[recording("upper", [])])
    server = squall_live_server(app)
    host, port = server.url.removeprefix("http://").split(":")

    async def raw() -> bytes:
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = await reader.read()
        writer.close()
        return data

    data = asyncio.run(raw())
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"8\r\na<upper>\r\n1\r\nB\r\n1\r\nC\r\n0\r\n\r\n"
