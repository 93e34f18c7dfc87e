"""HTTPServer over real sockets: listen/bind/start/add_sockets, httpx, shutdown, signals."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from squall.http import HTTPServer, HTTPServerRequest
from squall.loop import bind_sockets

EXAMPLE = Path(__file__).parent.parent / "examples" / "standalone.py"


def test_plain_callable_server_answers_httpx_with_keep_alive(serve: Any) -> None:
    st = serve()
    with httpx.Client(base_url=st.url) as client:
        r1 = client.get("/a", params={"x": "1"})
        r2 = client.post("/b", data={"k": "v", "k2": "w"})
        r3 = client.post("/c", files={"up": ("a.txt", b"hello", "text/plain")})
        assert st.server.connections == 1  # all three went over one kept-alive connection
    assert (r1.status_code, r1.text) == (200, "GET /a 0 1 0")
    assert r2.text == "POST /b 8 2 0"  # len(b"k=v&k2=w")
    assert r3.text.endswith(" 0 1")
    assert r1.headers["content-length"] == str(len(r1.content))
    assert "date" in r1.headers


def test_async_callable_is_awaited(serve: Any) -> None:
    async def app(request: HTTPServerRequest) -> None:
        await asyncio.sleep(0.01)
        request.connection.respond(201, [("X-Async", "yes")], b"made")  # type: ignore[union-attr]

    st = serve(app)
    r = httpx.post(st.url + "/", content=b"x" * 10)
    assert (r.status_code, r.headers["x-async"], r.text) == (201, "yes", "made")


def test_request_attributes_seen_by_the_callback(serve: Any) -> None:
    seen: dict[str, Any] = {}

    def app(request: HTTPServerRequest) -> None:
        seen.update(
            method=request.method,
            uri=request.uri,
            path=request.path,
            query=request.query,
            version=request.version,
            host=request.host,
            host_name=request.host_name,
            remote_ip=request.remote_ip,
            protocol=request.protocol,
            full_url=request.full_url(),
            arguments=request.arguments,
            repr=repr(request),
            time=request.request_time(),
        )
        request.connection.respond(200, [], b"")  # type: ignore[union-attr]

    st = serve(app)
    httpx.get(st.url + "/p/q?a=1&a=2&b=", headers={"Host": "Example.COM:8080"})
    assert seen["method"] == "GET" and seen["uri"] == "/p/q?a=1&a=2&b="
    assert (seen["path"], seen["query"]) == ("/p/q", "a=1&a=2&b=")
    assert seen["version"] == "HTTP/1.1"
    assert (seen["host"], seen["host_name"]) == ("Example.COM:8080", "example.com")
    assert (seen["remote_ip"], seen["protocol"]) == ("127.0.0.1", "http")
    assert seen["full_url"] == "http://Example.COM:8080/p/q?a=1&a=2&b="
    assert seen["arguments"] == {"a": [b"1", b"2"], "b": [b""]}
    for part in ("GET", "/p/q?a=1&a=2&b=", "HTTP/1.1", "127.0.0.1"):
        assert part in seen["repr"]
    assert seen["time"] >= 0


def test_bind_then_start_and_add_sockets() -> None:
    async def main() -> None:
        server = HTTPServer(lambda r: r.connection.respond(200, [], b"bound"))
        server.bind(0, "127.0.0.1")
        server.start(1)
        port = server.sockets[0].getsockname()[1]
        other = HTTPServer(lambda r: r.connection.respond(200, [], b"added"))
        socks = bind_sockets(0, "127.0.0.1")
        other.add_sockets(socks)
        port2 = socks[0].getsockname()[1]
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/")).text == "bound"
            assert (await client.get(f"http://127.0.0.1:{port2}/")).text == "added"
        await server.shutdown(1)
        await other.shutdown(1)

    asyncio.run(main())


def test_stop_refuses_new_connections() -> None:
    async def main() -> None:
        server = HTTPServer(lambda r: r.connection.respond(200, [], b""))
        server.listen(0, "127.0.0.1")
        port = server.sockets[0].getsockname()[1]
        server.stop()
        await asyncio.sleep(0.01)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)
        await server.shutdown(1)

    asyncio.run(main())


def test_graceful_shutdown_finishes_in_flight_requests_and_closes_idle_ones() -> None:
    async def app(request: HTTPServerRequest) -> None:
        await asyncio.sleep(0.3)
        request.connection.respond(200, [], b"finished")  # type: ignore[union-attr]

    async def main() -> None:
        server = HTTPServer(app)
        server.listen(0, "127.0.0.1")
        port = server.sockets[0].getsockname()[1]
        busy_r, busy_w = await asyncio.open_connection("127.0.0.1", port)
        idle_r, idle_w = await asyncio.open_connection("127.0.0.1", port)
        busy_w.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.05)
        await server.shutdown(5)
        data = await busy_r.read()
        assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"finished")
        assert b"Connection: close" in data
        assert await idle_r.read() == b""
        for w in (busy_w, idle_w):
            w.close()
            await w.wait_closed()

    asyncio.run(main())


def test_shutdown_times_out_on_a_stuck_request() -> None:
    async def app(request: HTTPServerRequest) -> None:
        await asyncio.sleep(30)

    async def main() -> None:
        server = HTTPServer(app)
        server.listen(0, "127.0.0.1")
        port = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await asyncio.sleep(0.05)
        await server.shutdown(0.2)
        assert server.connections == 0
        w.close()
        await w.wait_closed()
        for t in asyncio.all_tasks():
            if t is not asyncio.current_task():
                t.cancel()

    asyncio.run(main())


def test_unknown_keyword_is_refused() -> None:
    with pytest.raises(TypeError, match="max_bdy_size"):
        HTTPServer(lambda r: None, max_bdy_size=1)


def _run_script(code: str, timeout: float = 20) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        _, err = proc.communicate(timeout)
        raise AssertionError(f"script failed: {err}")
    return proc, int(line)


@pytest.mark.slow
def test_sigterm_handler_shuts_down_gracefully_in_a_script() -> None:
    code = """
        import sys
        from squall.http import HTTPServer
        from squall.loop import IOLoop
        server = HTTPServer(lambda r: r.connection.respond(200, [], b"up"))
        server.listen(0, "127.0.0.1")
        server.install_signal_handlers(timeout=2)
        print(server.sockets[0].getsockname()[1], flush=True)
        IOLoop.current().start()
        print("stopped", flush=True)
    """
    proc, port = _run_script(code)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "up"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.slow
def test_start_with_two_processes_forks_children_that_serve_the_same_port() -> None:
    code = """
        import os
        from squall.http import HTTPServer
        from squall.loop import IOLoop
        def app(request):
            request.connection.respond(200, [], str(os.getpid()).encode())
        server = HTTPServer(app)
        server.bind(0, "127.0.0.1")
        print(server._pending[0].getsockname()[1], flush=True)
        server.start(2)
        IOLoop.current().start()
    """
    proc, port = _run_script(code)
    try:
        pids = set()
        deadline = time.monotonic() + 10
        while len(pids) < 2 and time.monotonic() < deadline:
            with httpx.Client() as client:
                try:
                    pids.add(client.get(f"http://127.0.0.1:{port}/").text)
                except httpx.TransportError:
                    time.sleep(0.05)
        assert len(pids) == 2 and str(proc.pid) not in pids
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


@pytest.mark.slow
def test_readme_standalone_example_runs() -> None:
    env = dict(os.environ, PORT="0", PRINT_PORT="1")
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/").text == "Hello, world!\n"
            streamed = client.get("/stream")
            assert streamed.headers["transfer-encoding"] == "chunked"
            assert streamed.text == "".join(f"line {i}\n" for i in range(5))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_listen_on_busy_port_fails_clearly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]

        async def main() -> None:
            with pytest.raises(OSError, match=str(port)):
                HTTPServer(lambda r: None).listen(port, "127.0.0.1")

        asyncio.run(main())


def test_tornado_keywords_are_understood(serve: Any) -> None:
    def app(request: HTTPServerRequest) -> None:
        request.connection.respond(200, [], request.protocol.encode())  # type: ignore[union-attr]

    st = serve(app, max_buffer_size=10, chunk_size=4096, protocol="https")
    assert st.server.limits.max_body_size == 10
    assert st.server.limits.chunk_size == 4096  # honoured: streamed pieces are cut to it
    assert httpx.get(st.url).text == "https"
    assert httpx.post(st.url, content=b"x" * 11).status_code == 413


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "64k"])
def test_a_chunk_size_that_is_no_positive_int_is_refused_by_name(bad: Any) -> None:
    with pytest.raises(ValueError, match=f"chunk_size must be a positive int.*{bad!r}"):
        HTTPServer(lambda r: None, chunk_size=bad)


def test_concurrent_clients_pipelining_streaming_and_vanishing_cause_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import random

    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        await asyncio.sleep(0.002 if request.path == "/slow" else 0)
        if request.path == "/stream":
            conn.write_headers(200, [])
            for _ in range(5):
                await conn.write(b"x" * 1000)
            conn.finish()
        else:
            conn.respond(200, [], request.body[:10])

    async def client(port: int, rng: random.Random) -> None:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        kinds = [
            b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n",
        ]
        data = b"".join(rng.choice(kinds) for _ in range(rng.randint(1, 15)))
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]  # vanish mid-request
        w.write(data)
        try:
            await asyncio.wait_for(r.read(rng.randint(0, 50_000)), 0.3)
        except TimeoutError:
            pass
        w.close()
        try:
            await w.wait_closed()
        except OSError:
            pass

    async def main() -> None:
        server = HTTPServer(app, header_timeout=0.3, body_timeout=0.3)
        server.listen(0, "127.0.0.1")
        port = server.sockets[0].getsockname()[1]
        rng = random.Random(7)
        for _ in range(3):
            await asyncio.gather(*(client(port, rng) for _ in range(20)))
        await server.shutdown(2)

    with caplog.at_level(logging.DEBUG):
        asyncio.run(main())
    bad = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "squall.http"]
    bad += [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]
