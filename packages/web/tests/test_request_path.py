"""The request path's shortcuts keep Tornado's behaviour for every override.

squall.web skips work a request does not need (a dict look-up for a literal rule instead of
``find_handler``, no call to the base class's no-op ``prepare``, ...). Each test here
overrides, or patches in later, the thing a shortcut skips and checks that it still runs.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from squall.web import Application, RequestHandler, RequestHooks, hookimpl
from squall.web.testing import wait_until


class Hello(RequestHandler):
    def get(self, *args: str) -> None:
        self.write({"cls": "Hello", "args": list(args)})


class Other(RequestHandler):
    def get(self, *args: str) -> None:
        self.write({"cls": "Other", "args": list(args)})


class PrepareSetsPathArgs(RequestHandler):
    def prepare(self) -> None:
        self.path_args = ["from prepare"]

    def get(self, *args: str) -> None:
        self.write({"args": list(args)})


class PatchedLater(RequestHandler):
    def get(self) -> None:
        self.write("get ran")


class ClearSetsHeader(RequestHandler):
    def clear(self) -> None:
        super().clear()
        self.set_header("X-From-Clear", "yes")

    def get(self) -> None:
        self.write("ok")


class InitializeWithoutArguments(RequestHandler):
    def initialize(self) -> None:
        self.word = "initialized"

    def get(self) -> None:
        self.write(self.word)


# -- routing -------------------------------------------------------------------------------


def test_a_subclass_find_handler_routes_literal_paths_too(squall_live_server: Any) -> None:
    class Rerouting(Application):
        def find_handler(self, request: Any) -> Any:
            if request.path == "/":
                return Other, {}, (), {}
            return super().find_handler(request)

    server = squall_live_server(Rerouting([(r"/", Hello), (r"/hello", Hello)]))
    assert httpx.get(server.url + "/").json()["cls"] == "Other"
    assert httpx.get(server.url + "/hello").json()["cls"] == "Hello"


def test_host_rules_added_later_win_over_a_literal_rule(squall_live_server: Any) -> None:
    # add_handlers' rules come before the constructor's, for every literal path too.
    app = Application([(r"/", Hello), (r"/kept", Hello)])
    app.add_handlers(r".*", [(r"/", Other)])
    server = squall_live_server(app)
    assert httpx.get(server.url + "/").json()["cls"] == "Other"
    assert httpx.get(server.url + "/kept").json()["cls"] == "Hello"


def test_a_literal_rule_after_a_pattern_rule_loses_to_it(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/(x)", Hello), (r"/x", Other), (r"/y", Other)]))
    assert httpx.get(server.url + "/x").json() == {"cls": "Hello", "args": ["x"]}
    assert httpx.get(server.url + "/y").json() == {"cls": "Other", "args": []}


# -- lifecycle -------------------------------------------------------------------------------


method_ran: list[str] = []


class GetMustNotRun(RequestHandler):
    def get(self) -> None:
        method_ran.append(self.request.path)
        self.write("get ran after the hook answered")


def test_a_sync_before_hook_that_answers_skips_the_method(squall_live_server: Any) -> None:
    class Gate:
        @hookimpl
        def squall_web_request_hooks(self, app: Any) -> RequestHooks:
            def before(handler: RequestHandler) -> None:
                handler.set_status(403)
                handler.finish("refused by the hook")

            return RequestHooks(before=before)

    app = Application([(r"/", GetMustNotRun)], plugins=[Gate()], autoload_plugins=False)
    server = squall_live_server(app)
    method_ran.clear()
    response = httpx.get(server.url + "/")
    assert (response.status_code, response.text) == (403, "refused by the hook")
    # The method would run right after the answer, in the same callback: once a second
    # answer is in, the first request is over.
    assert httpx.get(server.url + "/").status_code == 403
    assert method_ran == []


def test_path_args_set_in_prepare_reach_the_method(squall_live_server: Any) -> None:
    server = squall_live_server(Application([(r"/", PrepareSetsPathArgs)]))
    assert httpx.get(server.url + "/").json() == {"args": ["from prepare"]}


def test_prepare_patched_onto_a_class_after_a_request_runs(
    squall_live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = squall_live_server(Application([(r"/", PatchedLater)]))
    assert httpx.get(server.url + "/").text == "get ran"

    def prepare(self: RequestHandler) -> None:
        self.finish("prepare ran")

    monkeypatch.setattr(PatchedLater, "prepare", prepare, raising=False)
    assert httpx.get(server.url + "/").text == "prepare ran"


def test_a_clear_override_runs_when_the_handler_is_made(squall_live_server: Any) -> None:
    # Tornado's __init__ calls clear(); handlers written before set_default_headers existed
    # set their default headers by overriding it.
    server = squall_live_server(Application([(r"/", ClearSetsHeader)]))
    response = httpx.get(server.url + "/")
    assert response.headers["X-From-Clear"] == "yes"
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"


def test_initialize_without_arguments_runs_for_a_rule_without_kwargs(
    squall_live_server: Any,
) -> None:
    server = squall_live_server(Application([(r"/", InitializeWithoutArguments)]))
    assert httpx.get(server.url + "/").text == "initialized"


def test_initialize_and_default_headers_patched_in_after_a_request_run(
    squall_live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = squall_live_server(Application([(r"/", PatchedLater)]))
    assert "X-Patched" not in httpx.get(server.url + "/").headers

    def set_default_headers(self: RequestHandler) -> None:
        self.set_header("X-Patched", "default headers")

    def initialize(self: RequestHandler) -> None:
        self.set_header("X-Initialized", "yes")

    monkeypatch.setattr(PatchedLater, "set_default_headers", set_default_headers)
    monkeypatch.setattr(PatchedLater, "initialize", initialize)
    response = httpx.get(server.url + "/")
    assert response.headers["X-Patched"] == "default headers"
    assert response.headers["X-Initialized"] == "yes"


def test_on_finish_patched_in_after_a_request_runs(
    squall_live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished: list[str] = []
    server = squall_live_server(Application([(r"/", PatchedLater)]))
    assert httpx.get(server.url + "/?before").text == "get ran"

    def on_finish(self: RequestHandler) -> None:
        finished.append(self.request.uri)

    monkeypatch.setattr(PatchedLater, "on_finish", on_finish)
    assert httpx.get(server.url + "/?after").text == "get ran"
    # on_finish runs once the response is out (the first request's may see the patch too)
    wait_until(lambda: "/?after" in finished)
