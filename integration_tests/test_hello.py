"""过程: the first snippet of the notes — hello world with ``app.listen`` and the IOLoop.

Statements checked: GET / answers "hello word"; a method the handler does not define
answers 405; ``app.listen`` + ``IOLoop.current().start()`` serve in one process; the loop
is epoll (Linux); a client connection gets its own socket watched by epoll while the
listening socket goes on listening (此时epoll中有2个); the server keeps looping.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("hello.py") as srv:
        yield srv


def test_get_root_answers_hello_word(server):
    r = httpx.get(server.url + "/")
    assert r.status_code == 200
    assert r.text == "hello word"
    assert r.headers["content-type"] == "text/html; charset=UTF-8"


def test_undefined_method_answers_405(server, raw):
    # 对应http的get请求。当用请求方式没有定义时状态码405
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        r = raw.request(server.port, method, "/", body=b"x=1")
        assert r.status == 405, (method, r.status_line)
        assert r.status_line == "HTTP/1.1 405 Method Not Allowed"
        allow = r.header("Allow") or ""
        assert "GET" in allow, allow


def test_unknown_path_answers_404(server):
    r = httpx.get(server.url + "/nowhere")
    assert r.status_code == 404


def test_listen_serves_from_a_single_process(server, procs):
    # app.listen() is the single-process mode: the process started serves, it forks nothing.
    assert procs.children(server.pid) == []


def test_the_loop_is_epoll(server, procs):
    # 利用Linux的epoll工具 — the IOLoop on Linux is epoll.
    assert procs.has_epoll(server.pid)


def test_each_client_gets_its_own_socket_in_epoll_while_listening_goes_on(server, procs):
    # 2. 当socket接收到客户端链接请求时，创建新的socket和客户端通信，并用epoll监听。
    #    原来的socket继续监听。此时epoll中有2个。
    before = _settled_epoll_count(procs, server.pid)
    request = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as a:
        a.sendall(request)
        assert b"hello word" in _read_response(a)
        # Connection a stays open (keep-alive): its socket is registered beside the listener.
        _wait_epoll_count(procs, server.pid, before + 1)
        # The listening socket still accepts: a second client is served meanwhile.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as b:
            b.sendall(request)
            assert b"hello word" in _read_response(b)
            _wait_epoll_count(procs, server.pid, before + 2)
        # b is gone: its socket leaves epoll; a is still served on its own socket.
        _wait_epoll_count(procs, server.pid, before + 1)
        a.sendall(request)
        assert b"hello word" in _read_response(a)
    _wait_epoll_count(procs, server.pid, before)


def _settled_epoll_count(procs, pid: int) -> int:
    """The epoll registration count once connections of earlier tests are closed."""
    deadline = time.monotonic() + 5
    last = procs.epoll_watch_count(pid)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = procs.epoll_watch_count(pid)
        if now == last:
            return now
        last = now
    raise AssertionError("epoll registrations never settled")


def _wait_epoll_count(procs, pid: int, want: int) -> None:
    deadline = time.monotonic() + 5
    while (now := procs.epoll_watch_count(pid)) != want:
        assert time.monotonic() < deadline, f"epoll watches {now} fds, expected {want}"
        time.sleep(0.01)


def test_the_loop_keeps_serving(server, raw):
    # 5. 继续循环: request after request, on new connections and on one kept alive.
    for _ in range(20):
        assert raw.request(server.port, "GET", "/").body == b"hello word"
    with httpx.Client(base_url=server.url) as client:
        for _ in range(20):
            assert client.get("/").text == "hello word"


def _read_response(sock: socket.socket) -> bytes:
    """Read one Content-Length-delimited response from a kept-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the headers ended"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the body ended"
        body += chunk
    return head + b"\r\n\r\n" + body


ASYNC_HELLO = """
import asyncio, sys
import squall.web

class IndexHandler(squall.web.RequestHandler):
    async def get(self):
        await asyncio.sleep(0)
        self.write("hello word")

async def main():
    app = squall.web.Application([(r"/", IndexHandler)])
    app.listen(int(sys.argv[1].split("=", 1)[1]), "127.0.0.1")
    await asyncio.Event().wait()

asyncio.run(main())
"""


def test_async_get_under_asyncio_run(launcher, tmp_path):
    # `async def get(self)` works too, and so does the asyncio style (asyncio.run(main())).
    script = tmp_path / "hello_asyncio.py"
    script.write_text(ASYNC_HELLO)
    with launcher.running_example(script) as srv:
        r = httpx.get(srv.url + "/")
        assert (r.status_code, r.text) == (200, "hello word")
