"""Application: listen (both loop styles), server options, the plain-callable form."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from squall.http import HTTPServer
from squall.loop import IOLoop
from squall.web import Application, RequestHandler, hookimpl


class Who(RequestHandler):
    def get(self) -> None:
        self.write({"ip": self.request.remote_ip, "started": self.application.settings.get("s")})


def test_listen_in_a_running_loop_returns_the_server_and_passes_options(
    squall_live_server: Any,
) -> None:
    helper = squall_live_server(Application([]))  # only lends its loop thread
    app = Application([(r"/", Who)])
    server = helper.call(lambda: app.listen(0, "127.0.0.1", xheaders=True))
    try:
        assert isinstance(server, HTTPServer)
        port = server.sockets[0].getsockname()[1]
        r = httpx.get(f"http://127.0.0.1:{port}/", headers={"X-Real-IP": "10.1.2.3"})
        assert r.json()["ip"] == "10.1.2.3"
    finally:
        helper.call(lambda: server.shutdown(1.0))


def test_listen_before_the_ioloop_starts_runs_startup_hooks_first() -> None:
    class Startup:
        @hookimpl
        def squall_web_startup(self, app: Application) -> Any:
            async def opened() -> None:
                await asyncio.sleep(0)
                app.settings["s"] = "yes"

            return opened()

    app = Application([(r"/", Who)], plugins=[Startup()], autoload_plugins=False)
    ready = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        ioloop = IOLoop()
        ioloop.make_current()
        server = app.listen(0, "127.0.0.1")
        box["port"] = server.sockets[0].getsockname()[1]
        box["ioloop"] = ioloop
        box["started_before_loop"] = app.settings.get("s")
        ioloop.add_callback(ready.set)
        ioloop.start()
        ioloop.run_sync(lambda: server.shutdown(1.0))
        ioloop.close()
        IOLoop.clear_current()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        assert box["started_before_loop"] == "yes"
        r = httpx.get(f"http://127.0.0.1:{box['port']}/")
        assert r.json() == {"ip": "127.0.0.1", "started": "yes"}
    finally:
        if "ioloop" in box:
            box["ioloop"].add_callback(box["ioloop"].stop)
        thread.join(10)
    assert not thread.is_alive()


def test_application_is_a_plain_request_callable(squall_live_server: Any) -> None:
    app = Application([(r"/", Who)])

    def callback(request: Any) -> Any:
        return app(request)

    server = squall_live_server(callback)
    assert httpx.get(server.url + "/").json()["ip"] == "127.0.0.1"
    assert httpx.get(server.url + "/missing").status_code == 404


def test_defaults_of_the_constructor() -> None:
    app = Application(autoload_plugins=False)  # installed plugins would add functions
    assert app.default_host is None
    assert app.settings["debug"] is False
    assert app.handler_functions == {}
    assert app._base_headers["Server"].startswith("SquallServer/")
