"""FastAPI and Starlette applications on ASGIServer over real sockets: their own test
expectations (path and query parameters, JSON bodies, streaming, background tasks, uploads,
lifespan) hold on squall.http."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import BackgroundTasks, FastAPI, File, HTTPException, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from squall.asgi import ASGIServer


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def make_fastapi(log: list[str]) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        log.append("startup")
        yield {"db": "connected"}
        log.append("shutdown")

    api = FastAPI(lifespan=lifespan)

    @api.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None, limit: int = 10) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "limit": limit}

    @api.post("/items", status_code=201)
    async def create_item(item: Item) -> dict[str, Any]:
        return {"name": item.name, "total": item.price * 2, "tags": item.tags}

    @api.get("/missing")
    async def missing() -> None:
        raise HTTPException(status_code=404, detail="no such thing")

    @api.get("/stream")
    async def stream() -> StreamingResponse:
        async def numbers() -> AsyncIterator[bytes]:
            for i in range(5):
                yield b"%d\n" % i
                await asyncio.sleep(0)

        return StreamingResponse(numbers(), media_type="text/plain")

    @api.post("/notify")
    async def notify(email: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(log.append, f"sent to {email}")
        return {"queued": email}

    @api.post("/upload")
    async def upload(file: UploadFile = File(...)) -> dict[str, Any]:  # noqa: B008
        data = await file.read()
        return {"filename": file.filename, "size": len(data), "type": file.content_type}

    return api


def test_fastapi_path_and_query_parameters(serve: Any) -> None:
    log: list[str] = []
    with serve(lambda: ASGIServer(make_fastapi(log))) as url, httpx.Client(base_url=url) as c:
        assert c.get("/items/42?q=abc").json() == {"item_id": 42, "q": "abc", "limit": 10}
        assert c.get("/items/7?limit=3").json() == {"item_id": 7, "q": None, "limit": 3}
        bad = c.get("/items/notanumber")
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["path", "item_id"]


def test_fastapi_json_body_and_validation(serve: Any) -> None:
    with serve(lambda: ASGIServer(make_fastapi([]))) as url, httpx.Client(base_url=url) as c:
        r = c.post("/items", json={"name": "pen", "price": 1.5, "tags": ["a"]})
        assert r.status_code == 201
        assert r.json() == {"name": "pen", "total": 3.0, "tags": ["a"]}
        assert c.post("/items", json={"name": "pen"}).status_code == 422
        missing = c.get("/missing")
        assert missing.status_code == 404 and missing.json() == {"detail": "no such thing"}


def test_fastapi_streaming_response(serve: Any) -> None:
    with (
        serve(lambda: ASGIServer(make_fastapi([]))) as url,
        httpx.stream("GET", f"{url}/stream") as r,
    ):
        assert r.headers["content-type"].startswith("text/plain")
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.read() == b"0\n1\n2\n3\n4\n"


def test_fastapi_background_task_runs_after_the_response(serve: Any) -> None:
    log: list[str] = []
    with serve(lambda: ASGIServer(make_fastapi(log))) as url:
        r = httpx.post(f"{url}/notify", params={"email": "a@b.c"})
        assert r.json() == {"queued": "a@b.c"}
    # the server's shutdown waits for the ASGI call, background task included
    assert "sent to a@b.c" in log


def test_fastapi_uploaded_file(serve: Any) -> None:
    content = bytes(range(256)) * 1000
    with serve(lambda: ASGIServer(make_fastapi([]))) as url:
        r = httpx.post(
            f"{url}/upload", files={"file": ("data.bin", content, "application/octet-stream")}
        )
    assert r.json() == {
        "filename": "data.bin",
        "size": len(content),
        "type": "application/octet-stream",
    }


def test_fastapi_lifespan_runs_around_serving(serve: Any) -> None:
    log: list[str] = []
    with serve(lambda: ASGIServer(make_fastapi(log))) as url:
        assert log == ["startup"]
        assert httpx.get(f"{url}/items/1").status_code == 200
    assert log == ["startup", "shutdown"]


def test_starlette_request_state_from_lifespan(serve: Any) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        yield {"db": "connected"}

    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{request.state.db} {request.url.path} {request.client.host}")  # type: ignore[union-attr]

    app = Starlette(routes=[Route("/home", home)], lifespan=lifespan)
    with serve(lambda: ASGIServer(app)) as url:
        assert httpx.get(f"{url}/home").text == "connected /home 127.0.0.1"
