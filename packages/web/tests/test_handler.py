"""RequestHandler lifecycle: sync and async, Finish, early close, context attributes."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from typing import Any

import httpx
import pytest

from squall.web import (
    Application,
    Finish,
    HTTPError,
    MissingPluginError,
    RequestHandler,
    hookimpl,
    url,
)
from squall.web.testing import serve, wait_until

events: list[str] = []


class AsyncEverything(RequestHandler):
    async def prepare(self) -> None:
        await asyncio.sleep(0)
        events.append("prepare")

    async def get(self) -> None:
        await asyncio.sleep(0.001)
        events.append("get")
        self.write("async ok")

    def on_finish(self) -> None:
        events.append("on_finish")


class AsyncPrepareFinishes(RequestHandler):
    async def prepare(self) -> None:
        await asyncio.sleep(0)
        self.set_status(403)
        self.finish("stopped in prepare")

    def get(self) -> None:
        events.append("get must not run")


class SyncPrepareFinishes(RequestHandler):
    def prepare(self) -> None:
        self.finish("early")

    def get(self) -> None:
        events.append("get must not run")


class RaisesFinish(RequestHandler):
    def get(self) -> None:
        self.set_status(201)
        self.write("partial ")
        raise Finish("done")


class AsyncRaises(RequestHandler):
    async def get(self) -> None:
        await asyncio.sleep(0)
        raise HTTPError(418, reason="I'm a teapot")


class Context(RequestHandler):
    def initialize(self, tag: str) -> None:
        self.tag = tag

    def get(self, first: str) -> None:
        self.write(
            {
                "tag": self.tag,
                "path_args": self.path_args,
                "path_kwargs": self.path_kwargs,
                "same_app": self.application is self.settings["me"],
                "debug": self.settings["debug"],
            }
        )


class NoAutoFinish(RequestHandler):
    async def get(self) -> None:
        self._auto_finish = False
        asyncio.get_running_loop().call_later(0.01, self.finish, "later")


closed = threading.Event()


class SlowHandler(RequestHandler):
    async def get(self) -> None:
        await asyncio.sleep(10)

    def on_connection_close(self) -> None:
        closed.set()


class BadInitialize(RequestHandler):
    def initialize(self) -> None:
        raise RuntimeError("broken initialize")


class RefusedInInitialize(RequestHandler):
    def initialize(self) -> None:
        if not self.request.headers.get("X-Allowed"):
            self.set_status(401)
            self.finish("refused")

    def post(self) -> None:
        events.append("post ran")
        self.write("done")


def refuse_without_token(handler_class: type[RequestHandler]) -> type[RequestHandler]:
    """A class decorator as JWT recipes write it: it wraps _execute and answers 401 there."""
    original = handler_class._execute

    def _execute(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        if not self.request.headers.get("X-Allowed"):
            self.set_status(401)
            self.finish("no token")
        return original(self, *args, **kwargs)

    handler_class._execute = _execute  # type: ignore[method-assign]
    return handler_class


@refuse_without_token
class GuardedByExecuteWrapper(RequestHandler):
    def delete(self) -> None:
        events.append("delete ran")
        self.write("deleted")


class UsesPluginFunctions(RequestHandler):
    def get(self, what: str) -> None:
        try:
            if what == "static_url":
                self.static_url("a.css")
            elif what == "render":
                self.render("x.html")
            elif what == "render_string":
                self.render_string("x.html")
            elif what == "ui":
                self.write(repr(self.ui))
            else:
                self.plugin_function(what)
        except MissingPluginError as e:
            self.write(str(e))


@pytest.fixture
def app() -> Application:
    app = Application(
        [
            (r"/async", AsyncEverything),
            (r"/async-prepare-finishes", AsyncPrepareFinishes),
            (r"/sync-prepare-finishes", SyncPrepareFinishes),
            (r"/finish", RaisesFinish),
            (r"/async-raises", AsyncRaises),
            (r"/ctx/(.+)", Context, {"tag": "T"}),
            (r"/no-auto-finish", NoAutoFinish),
            (r"/slow", SlowHandler),
            (r"/bad-init", BadInitialize),
            (r"/plugin/(.+)", UsesPluginFunctions),
            (r"/refused-in-initialize", RefusedInInitialize),
            (r"/guarded", GuardedByExecuteWrapper),
        ],
        autoload_plugins=False,  # static_url()/render() must find no plugin, whatever is installed
    )
    app.settings["me"] = app
    return app


def test_async_prepare_and_method(squall_client: httpx.Client) -> None:
    events.clear()
    r = squall_client.get("/async")
    assert r.text == "async ok"
    wait_until(lambda: "on_finish" in events)
    assert events == ["prepare", "get", "on_finish"]


def test_async_prepare_may_finish_the_request(squall_client: httpx.Client) -> None:
    events.clear()
    r = squall_client.get("/async-prepare-finishes")
    assert (r.status_code, r.text) == (403, "stopped in prepare")
    assert events == []


def test_sync_prepare_may_finish_the_request(squall_client: httpx.Client) -> None:
    events.clear()
    assert squall_client.get("/sync-prepare-finishes").text == "early"
    assert events == []


def test_a_handler_finished_in_initialize_does_not_run_its_method(
    squall_client: httpx.Client,
) -> None:
    events.clear()
    r = squall_client.post("/refused-in-initialize")
    assert (r.status_code, r.text) == (401, "refused")
    assert events == []
    r = squall_client.post("/refused-in-initialize", headers={"X-Allowed": "1"})
    assert (r.status_code, r.text) == (200, "done")
    assert events == ["post ran"]


def test_a_handler_finished_by_an_execute_wrapper_does_not_run_its_method(
    squall_client: httpx.Client,
) -> None:
    events.clear()
    r = squall_client.delete("/guarded")
    assert (r.status_code, r.text) == (401, "no token")
    assert events == []
    r = squall_client.delete("/guarded", headers={"X-Allowed": "1"})
    assert (r.status_code, r.text) == (200, "deleted")
    assert events == ["delete ran"]


def test_finish_exception_ends_the_request_without_error(squall_client: httpx.Client) -> None:
    r = squall_client.get("/finish")
    assert (r.status_code, r.text) == (201, "partial done")


def test_http_error_from_async_method(squall_client: httpx.Client) -> None:
    r = squall_client.get("/async-raises")
    assert r.status_code == 418
    assert r.reason_phrase == "I'm a teapot"
    assert "418: I&#x27;m a teapot" in r.text


def test_handler_context_attributes(squall_client: httpx.Client) -> None:
    assert squall_client.get("/ctx/x%20y").json() == {
        "tag": "T",
        "path_args": ["x y"],
        "path_kwargs": {},
        "same_app": True,
        "debug": False,
    }


def test_auto_finish_off_lets_the_handler_finish_later(squall_client: httpx.Client) -> None:
    assert squall_client.get("/no-auto-finish").text == "later"


def test_on_connection_close_when_the_client_leaves(squall_server: Any) -> None:
    closed.clear()
    with socket.create_connection(("127.0.0.1", squall_server.port), timeout=5) as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: squall_server.app._tasks)
        # An abortive close (RST): the server learns at once that the client is gone.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert closed.wait(5)


def test_exception_in_initialize_is_a_500(
    squall_client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    r = squall_client.get("/bad-init")
    assert r.status_code == 500
    wait_until(lambda: any("broken initialize" in str(x.exc_info) for x in caplog.records))


@pytest.mark.parametrize(
    ("what", "package"),
    [
        ("static_url", "squall-static"),
        ("render", "squall-template"),
        ("render_string", "squall-template"),
        ("ui", "squall-template"),
    ],
)
def test_plugin_methods_name_the_package_to_install(
    squall_client: httpx.Client, what: str, package: str
) -> None:
    folder = package.removeprefix("squall-")
    assert squall_client.get(f"/plugin/{what}").text == (
        f"{what}() needs the {package} package: pip install {package} "
        f"(from a clone of squall's repository: uv pip install ./packages/{folder})"
    )


def test_unknown_plugin_function(squall_client: httpx.Client) -> None:
    assert "nope" in squall_client.get("/plugin/nope").text


def test_initialize_without_override_refuses_kwargs() -> None:
    class Plain(RequestHandler):
        pass

    with pytest.raises(TypeError, match="initialize"):
        Plain(Application([]), object(), x=1)  # type: ignore[arg-type]


def test_current_user_is_computed_once_and_settable() -> None:
    calls: list[int] = []

    class WithUser(RequestHandler):
        def get_current_user(self) -> str:
            calls.append(1)
            return "bob"

    class FakeConnection:
        pass

    class FakeRequest:
        connection = FakeConnection()

    handler = WithUser(Application([]), FakeRequest())  # type: ignore[arg-type]
    assert handler.current_user == "bob"
    assert handler.current_user == "bob"
    assert calls == [1]
    handler.current_user = "alice"
    assert handler.current_user == "alice"


class _FakeRequest:
    connection = object()
    path = "/"
    headers: dict[str, str] = {}


def test_get_template_namespace_has_the_handler_names_for_templates() -> None:
    class WithUser(RequestHandler):
        def get_current_user(self) -> str:
            return "bob"

    app = Application([url(r"/item/(\d+)", WithUser, name="item")], autoload_plugins=False)
    request = _FakeRequest()
    handler = WithUser(app, request)  # type: ignore[arg-type]
    ns = handler.get_template_namespace()
    assert set(ns) == {
        "handler",
        "request",
        "current_user",
        "locale",
        "_",
        "pgettext",
        "reverse_url",
    }
    assert ns["handler"] is handler
    assert ns["locale"] is handler.locale
    assert ns["_"]("Sunday") == "Sunday"
    assert ns["request"] is request
    assert ns["current_user"] == "bob"
    assert ns["reverse_url"]("item", 7) == "/item/7"


def test_get_template_namespace_offers_static_url_when_a_plugin_does() -> None:
    class FakeStatic:
        @hookimpl
        def squall_web_handler_functions(self, app: Application) -> dict[str, Any]:
            return {"static_url": lambda handler, path, include_host=None: f"/s/{path}?v=1"}

    class Extends(RequestHandler):
        def get_template_namespace(self) -> dict[str, Any]:
            ns = super().get_template_namespace()
            ns["mine"] = 1
            return ns

    app = Application([], plugins=[FakeStatic()], autoload_plugins=False)
    ns = Extends(app, _FakeRequest()).get_template_namespace()  # type: ignore[arg-type]
    assert ns["static_url"]("a.css") == "/s/a.css?v=1"
    assert ns["mine"] == 1


class StreamsToAGoneClient(RequestHandler):
    async def get(self) -> None:
        self.write("x" * 1000)
        await self.flush()
        events.append("flushed")
        while True:
            self.write("y" * 65536)
            await self.flush()
            # Yield even when the transport is not paused, so the loop sees the reset.
            await asyncio.sleep(0)


def test_client_leaving_a_stream_is_not_logged_as_an_error(
    squall_live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    events.clear()
    server = squall_live_server(Application([(r"/", StreamsToAGoneClient)]))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(100)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    wait_until(lambda: not server.app._tasks)
    assert "flushed" in events
    assert not [r for r in caplog.records if r.levelno >= 40 and r.name.startswith("squall.app")]


# -- `return self.finish()` in a synchronous handler stays synchronous --------------------


class ReturnsFinish(RequestHandler):
    def get(self) -> Any:
        return self.finish("finished by return")


class ReturnsFlushThenNone(RequestHandler):
    def get(self) -> Any:
        self.write("flushed, ")
        self.flush()  # the headers go out; awaiting it would only wait for the buffer
        self.write("then auto-finished")
        return None


class PrepareReturnsFinish(RequestHandler):
    def prepare(self) -> Any:
        self.set_status(403)
        return self.finish("stopped in prepare")

    def get(self) -> None:
        raise AssertionError("not reached: prepare finished the request")


def _handler_tasks_during(app: Application, paths: list[str]) -> tuple[list[str], list[str]]:
    """Request ``paths``; return the bodies and the RequestHandler coroutines made into Tasks."""
    spawned: list[str] = []

    async def go() -> list[str]:
        loop = asyncio.get_running_loop()

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            name = getattr(coro, "__qualname__", "")
            if name.startswith("RequestHandler."):
                spawned.append(name)
            return asyncio.Task(coro, loop=loop, **kwargs)

        loop.set_task_factory(factory)
        try:
            async with serve(app) as url, httpx.AsyncClient() as client:
                return [(await client.get(url + p, timeout=10)).text for p in paths]
        finally:
            loop.set_task_factory(None)

    return asyncio.run(go()), spawned


def test_returning_finish_or_none_from_sync_methods_spawns_no_task() -> None:
    app = Application(
        [
            (r"/finish", ReturnsFinish),
            (r"/none", ReturnsFlushThenNone),
            (r"/p", PrepareReturnsFinish),
        ],
        autoload_plugins=False,
    )
    bodies, spawned = _handler_tasks_during(app, ["/finish", "/none", "/p"])
    assert bodies == ["finished by return", "flushed, then auto-finished", "stopped in prepare"]
    assert spawned == []


def test_an_async_method_still_runs_in_a_task() -> None:
    # The counterpart: the task-counting above does see the handler's coroutines.
    app = Application([(r"/", AsyncEverything)], autoload_plugins=False)
    bodies, spawned = _handler_tasks_during(app, ["/"])
    assert bodies == ["async ok"]
    assert spawned


def test_get_template_path_is_none_without_the_setting_and_can_be_overridden() -> None:
    class Reads(RequestHandler):
        def get(self) -> None:
            self.write(repr(self.get_template_path()))

    class Own(Reads):
        def get_template_path(self) -> str:
            return "/srv/own"

    async def go(app: Application) -> list[str]:
        async with serve(app) as url, httpx.AsyncClient() as client:
            return [(await client.get(url + p, timeout=10)).text for p in ("/r", "/o")]

    # Without the setting: None (squall-template's tests check it returns the setting).
    bare = Application([("/r", Reads), ("/o", Own)], autoload_plugins=False)
    assert asyncio.run(go(bare)) == ["None", "'/srv/own'"]


def _defining_class(method: Any) -> type | None:
    """The class in the handler's MRO whose namespace holds the method's __name__."""
    for cls in type(method.__self__).__mro__:
        if method.__name__ in cls.__dict__:
            return cls
    return None


def test_methods_a_handler_leaves_alone_are_found_defined_on_request_handler() -> None:
    # The introspection CORS mixins use to build Access-Control-Allow-Methods: a method
    # counts as implemented unless the class defining it is RequestHandler itself.
    class OnlyPost(RequestHandler):
        def post(self) -> None:
            pass

    handler = object.__new__(OnlyPost)
    implemented = [
        m
        for m in ("get", "head", "post", "delete", "patch", "put", "options")
        if _defining_class(getattr(handler, m)) is not RequestHandler
    ]
    assert implemented == ["post"]


def _cancelled_future() -> asyncio.Future[None]:
    fut = asyncio.get_running_loop().create_future()
    fut.cancel()
    return fut


class AwaitsSomethingCancelled(RequestHandler):
    async def prepare(self) -> None:
        if self.get_argument("where") == "prepare":
            await _cancelled_future()

    async def get(self) -> None:
        await _cancelled_future()

    def post(self) -> None:
        _cancelled_future().result()  # raises CancelledError without any await


@pytest.mark.parametrize(("method", "where"), [("GET", "get"), ("GET", "prepare"), ("POST", "")])
def test_awaiting_something_cancelled_is_an_uncaught_exception(
    squall_live_server: Any, caplog: pytest.LogCaptureFixture, method: str, where: str
) -> None:
    # CancelledError is no Exception, but the handler's own task was not cancelled: as in
    # Tornado, a logged 500 rather than a request that never gets an answer.
    server = squall_live_server(Application([(r"/", AwaitsSomethingCancelled)]))
    with caplog.at_level("ERROR", logger="squall.application"):
        r = httpx.request(method, server.url + "/", params={"where": where}, timeout=5)
    assert r.status_code == 500
    assert "Uncaught exception" in caplog.text and "CancelledError" in caplog.text


own_task: dict[str, Any] = {}


class WaitsForever(RequestHandler):
    async def get(self) -> None:
        own_task["loop"] = asyncio.get_running_loop()
        own_task["task"] = asyncio.current_task()
        await asyncio.Event().wait()


def test_a_handler_whose_own_task_is_cancelled_answers_500_unlogged(
    squall_live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    own_task.clear()
    server = squall_live_server(Application([(r"/", WaitsForever)]))
    result: list[httpx.Response] = []
    client = threading.Thread(target=lambda: result.append(httpx.get(server.url + "/", timeout=5)))
    with caplog.at_level("ERROR", logger="squall.application"):
        client.start()
        wait_until(lambda: "task" in own_task)
        own_task["loop"].call_soon_threadsafe(own_task["task"].cancel)
        client.join(10)
    assert result and result[0].status_code == 500
    wait_until(lambda: own_task["task"].done())
    assert own_task["task"].cancelled()
    assert "Uncaught exception" not in caplog.text
