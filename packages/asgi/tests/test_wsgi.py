"""WSGIContainer: a Flask app (and raw WSGI callables) on squall.http, on a thread pool."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any

import httpx
import pytest
from flask import Flask, jsonify, request

from squall.asgi import WSGIContainer
from squall.http import HTTPServer


def make_flask(barrier: threading.Barrier | None = None) -> Flask:
    app = Flask(__name__)

    @app.get("/hello/<name>")
    def hello(name: str) -> Any:
        return jsonify(
            name=name,
            q=request.args.get("q"),
            ip=request.remote_addr,
            agent=request.headers.get("User-Agent"),
            path=request.path,
        )

    @app.post("/form")
    def form() -> Any:
        return jsonify(field=request.form["field"], size=request.content_length)

    @app.get("/together")
    def together() -> str:
        assert barrier is not None
        barrier.wait(10)  # both requests inside at once: only a thread pool allows it
        return "met"

    return app


def test_flask_app_answers_with_path_query_and_headers(serve: Any) -> None:
    with serve(lambda: HTTPServer(WSGIContainer(make_flask()))) as url:
        r = httpx.get(f"{url}/hello/w%C3%B6rld?q=1", headers={"User-Agent": "t/1"})
    assert r.status_code == 200
    assert r.json() == {"name": "wörld", "q": "1", "ip": "127.0.0.1", "agent": "t/1",
                        "path": "/hello/wörld"}  # fmt: skip


def test_flask_form_body_and_404(serve: Any) -> None:
    with serve(lambda: HTTPServer(WSGIContainer(make_flask()))) as url, httpx.Client() as c:
        r = c.post(f"{url}/form", data={"field": "v"})
        assert r.json() == {"field": "v", "size": 7}
        assert c.get(f"{url}/nowhere").status_code == 404


def test_requests_run_on_a_thread_pool_concurrently(serve: Any) -> None:
    barrier = threading.Barrier(2)
    with serve(lambda: HTTPServer(WSGIContainer(make_flask(barrier)))) as url:
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: httpx.get(f"{url}/together", timeout=15), range(2)))
    assert [a.text for a in answers] == ["met", "met"]


def test_write_callable_iterable_close_and_default_content_type(serve: Any) -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Any:
            return iter([b"b", b"c"])

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        write = start_response("201 Made", [("X-Env", environ["SERVER_PROTOCOL"])])
        write(b"a")
        return Body()

    with serve(lambda: HTTPServer(WSGIContainer(app))) as url:
        r = httpx.get(url)
    assert r.status_code == 201 and r.reason_phrase == "Made"
    assert r.text == "abc"
    assert r.headers["content-type"] == "text/html; charset=UTF-8"
    assert r.headers["x-env"] == "HTTP/1.1"
    assert closed == [True]


def test_app_that_never_starts_the_response_is_a_500(serve: Any) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return [b"no start_response"]

    with serve(lambda: HTTPServer(WSGIContainer(app))) as url:
        assert httpx.get(url).status_code == 500


def test_process_pool_is_refused() -> None:
    with (
        concurrent.futures.ProcessPoolExecutor(1) as pool,
        pytest.raises(TypeError, match="thread pool"),
    ):
        WSGIContainer(make_flask(), executor=pool)


def test_fallback_handler_serves_flask_beside_squall_handlers(serve: Any) -> None:
    from squall.asgi import FallbackHandler
    from squall.web import Application, RequestHandler

    finished: list[str] = []

    class Native(RequestHandler):
        def get(self) -> None:
            self.write("native squall")

    class Fallback(FallbackHandler):
        def on_finish(self) -> None:
            finished.append(self.request.path)

    container = WSGIContainer(make_flask())
    app = Application([(r"/native", Native), (r"/hello/.*", Fallback, {"fallback": container})])
    with serve(lambda: HTTPServer(app)) as url, httpx.Client() as c:
        assert c.get(f"{url}/native").text == "native squall"
        r = c.get(f"{url}/hello/flask?q=2")
        assert r.json()["name"] == "flask" and r.json()["q"] == "2"
        assert c.get(f"{url}/other").status_code == 404
    assert finished == ["/hello/flask"]
