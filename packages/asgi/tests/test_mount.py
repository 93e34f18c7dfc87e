"""mount / ASGIHandler: FastAPI and raw ASGI apps under a prefix of a squall.web app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import StreamingResponse

from squall.asgi import ASGIHandler, mount
from squall.http import HTTPServer
from squall.web import Application, RequestHandler


def make_api() -> FastAPI:
    api = FastAPI()

    @api.get("/items/{item_id}")
    async def item(item_id: int, request: Request, q: str = "") -> dict[str, Any]:
        return {
            "item_id": item_id,
            "q": q,
            "root_path": request.scope["root_path"],
            "url": str(request.url_for("item", item_id=item_id)),
        }

    @api.post("/echo")
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return {"got": payload}

    @api.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for i in range(3):
                yield b"s%d" % i

        return StreamingResponse(parts(), media_type="text/plain")

    @api.post("/upload")
    async def upload(file: UploadFile = File(...)) -> dict[str, Any]:  # noqa: B008
        return {"name": file.filename, "size": len(await file.read())}

    return api


class Home(RequestHandler):
    def get(self) -> None:
        self.write("squall home")


def make_app() -> Application:
    return Application([(r"/", Home), mount("/api", make_api())])


def test_fastapi_mounted_under_a_prefix_sees_root_path(serve: Any) -> None:
    with serve(lambda: HTTPServer(make_app())) as url, httpx.Client(base_url=url) as c:
        assert c.get("/").text == "squall home"
        data = c.get("/api/items/5?q=x").json()
        assert data["item_id"] == 5 and data["q"] == "x"
        assert data["root_path"] == "/api"
        assert data["url"].endswith("/api/items/5")
        assert c.get("/api/items/zz").status_code == 422
        assert c.get("/api/nothing").status_code == 404
        assert c.get("/apis").status_code == 404  # not under the prefix: squall's 404


def test_mounted_fastapi_json_body_streaming_and_upload(serve: Any) -> None:
    with serve(lambda: HTTPServer(make_app())) as url, httpx.Client(base_url=url) as c:
        assert c.post("/api/echo", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}
        with c.stream("GET", "/api/stream") as r:
            assert r.headers["content-type"].startswith("text/plain")
            assert r.read() == b"s0s1s2"
        content = b"u" * 300_000
        r = c.post("/api/upload", files={"file": ("f.txt", content, "text/plain")})
        assert r.json() == {"name": "f.txt", "size": len(content)}


def test_asgi_status_and_headers_replace_web_defaults(serve: Any) -> None:
    async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 418, "headers": [(b"x-raw", b"1")]})
        await send({"type": "http.response.body", "body": scope["root_path"].encode()})

    app = Application([(r"/tea(/.*)", ASGIHandler, {"app": raw})])
    with serve(lambda: HTTPServer(app)) as url:
        r = httpx.get(f"{url}/tea/pot")
    assert r.status_code == 418
    assert r.headers["x-raw"] == "1"
    assert "content-type" not in r.headers  # web's text/html default is not added
    assert "etag" not in r.headers
    assert r.text == "/tea"  # the prefix: the path less the rule's last group


def test_asgi_app_error_before_response_is_a_500(serve: Any) -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise ValueError("broken app")

    app = Application([mount("/b", broken)])
    with serve(lambda: HTTPServer(app)) as url:
        assert httpx.get(f"{url}/b/x").status_code == 500


def test_mount_prefix_must_be_a_path_without_trailing_slash() -> None:
    with pytest.raises(ValueError, match="prefix"):
        mount("api", make_api())
    with pytest.raises(ValueError, match="prefix"):
        mount("/api/", make_api())
