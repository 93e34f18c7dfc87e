"""IOStream reads, writes, closing and flow control over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import re
import socket
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from squall.loop import IOLoop, bind_unused_port
from squall.tcp import (
    IOStream,
    StreamBufferFullError,
    StreamClosedError,
    TCPClient,
    TCPServer,
    UnsatisfiableReadError,
)


class Capture(TCPServer):
    """Hands each accepted stream to the test."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accepted: asyncio.Queue[tuple[IOStream, Any]] = asyncio.Queue()

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        self.accepted.put_nowait((stream, address))


async def connected_pair(**server_kwargs: Any) -> tuple[Capture, IOStream, IOStream]:
    """(server, the server's stream, the client's stream) of one TCP connection."""
    sock, port = bind_unused_port()
    server = Capture(**server_kwargs)
    server.add_socket(sock)
    client = await TCPClient().connect("127.0.0.1", port)
    server_stream, _ = await server.accepted.get()
    return server, server_stream, client


def run(io_loop: IOLoop, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return io_loop.run_sync(main, timeout=30)


# -- reads -----------------------------------------------------------------------------------


def test_read_bytes_whole_and_partial(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        await theirs.write(b"hello world")
        assert await ours.read_bytes(5) == b"hello"
        assert await ours.read_bytes(100, partial=True) == b" world"
        assert await ours.read_bytes(0) == b""
        ours.close()
        theirs.close()
        server.stop()

    run(io_loop, main)


def test_read_until_waits_for_a_delimiter_split_across_writes(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        reading = ours.read_until(b"\r\n\r\n")
        for piece in (b"GET / HTTP/1.1\r", b"\n", b"Host: x\r\n\r", b"\nrest"):
            await theirs.write(piece)
            await asyncio.sleep(0.001)
        assert await reading == b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        assert await ours.read_bytes(4) == b"rest"
        ours.close()
        server.stop()

    run(io_loop, main)


def test_read_until_past_max_bytes_closes_the_stream_as_tornado(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        await theirs.write(b"x" * 100)
        with pytest.raises(StreamClosedError) as info:
            await ours.read_until(b"\n", max_bytes=50)
        assert isinstance(info.value.real_error, UnsatisfiableReadError)
        assert "max_bytes=50" in str(info.value.real_error)
        assert ours.closed() and ours.error is info.value.real_error
        # the peer sees the close
        assert await theirs.read_until_close() == b""
        server.stop()

    with caplog.at_level(logging.INFO, logger="squall.general"):
        run(io_loop, main)
    assert any(
        r.name == "squall.general" and r.getMessage().startswith("Unsatisfiable read, closing")
        for r in caplog.records
    )


def test_read_until_with_the_delimiter_beyond_max_bytes_fails(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        await theirs.write(b"0123456789\n")
        with pytest.raises(StreamClosedError) as info:
            await ours.read_until(b"\n", max_bytes=5)
        assert isinstance(info.value.real_error, UnsatisfiableReadError)
        server.stop()

    run(io_loop, main)


def test_read_until_regex_and_its_max_bytes(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        await theirs.write(b"abc123def;")
        assert await ours.read_until_regex(rb"\d+") == b"abc123"
        assert await ours.read_until_regex(re.compile(rb";"), max_bytes=10) == b"def;"
        await theirs.write(b"no digits here at all")
        with pytest.raises(StreamClosedError) as info:
            await ours.read_until_regex(rb"\d", max_bytes=8)
        assert isinstance(info.value.real_error, UnsatisfiableReadError)
        assert ours.closed()
        server.stop()

    run(io_loop, main)


def test_read_until_close_returns_everything_after_the_peer_closes(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        reading = ours.read_until_close()
        for i in range(10):
            await theirs.write(b"%d," % i)
        theirs.close()
        assert await reading == b"0,1,2,3,4,5,6,7,8,9,"
        assert ours.closed()
        # and on a closed stream it returns what is left (nothing)
        assert await ours.read_until_close() == b""
        server.stop()

    run(io_loop, main)


def test_read_into_fills_the_buffer_or_returns_partially(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        buf = bytearray(6)
        reading = ours.read_into(buf)
        await theirs.write(b"abc")
        await asyncio.sleep(0.01)
        assert not reading.done()
        await theirs.write(b"defgh")
        assert await reading == 6
        assert buf == b"abcdef"
        small = bytearray(10)
        count = await ours.read_into(small, partial=True)
        assert 1 <= count <= 2 and small[:count] == b"gh"[:count]
        server.stop()
        ours.close()

    run(io_loop, main)


def test_one_read_at_a_time(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        pending = ours.read_bytes(1)
        assert ours.reading()
        with pytest.raises(RuntimeError, match="Already reading"):
            ours.read_bytes(1)
        await theirs.write(b"x")
        await pending
        assert not ours.reading()
        server.stop()
        ours.close()

    run(io_loop, main)


def test_a_read_given_up_by_its_awaiter_makes_room_for_the_next(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ours.read_until(b"\n"), 0.01)
        assert not ours.reading()
        await theirs.write(b"after\n")
        assert await ours.read_until(b"\n") == b"after\n"
        ours.close()
        server.stop()

    run(io_loop, main)


def test_buffered_data_is_still_readable_after_the_peer_closed(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        await theirs.write(b"last words")
        theirs.close()
        await asyncio.sleep(0.01)
        assert await ours.read_bytes(4) == b"last"
        with pytest.raises(StreamClosedError) as info:
            await ours.read_bytes(100)
        assert info.value.real_error is None
        assert ours.closed()
        # buffered " words" was 6 bytes: a read of 100 can never be satisfied, but 6 can
        assert await ours.read_bytes(6) == b" words"
        server.stop()

    run(io_loop, main)


def test_a_read_exceeding_max_buffer_size_fails_and_closes(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair(max_buffer_size=1000)
        reading = theirs.read_until(b"\n")
        with pytest.raises(StreamClosedError) as info:  # as Tornado
            await ours.write(b"y" * 5000)
            await reading
        assert isinstance(info.value.real_error, StreamBufferFullError)
        assert "max_buffer_size" in str(info.value.real_error)
        assert theirs.closed()
        server.stop()

    with caplog.at_level(logging.ERROR, logger="squall.general"):
        run(io_loop, main)
    assert any(r.getMessage().startswith("Reached maximum read buffer") for r in caplog.records)


# -- writes and closing ----------------------------------------------------------------------


def test_write_on_a_closed_stream_raises(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        ours.close()
        with pytest.raises(StreamClosedError):
            ours.write(b"too late")
        server.stop()
        theirs.close()

    run(io_loop, main)


def test_max_write_buffer_size_refuses_a_write_that_would_pass_it(io_loop: IOLoop) -> None:
    async def main() -> None:
        sock, port = bind_unused_port()
        server = Capture()
        server.add_socket(sock)
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stream = IOStream(raw, max_write_buffer_size=64 * 1024)
        await stream.connect(("127.0.0.1", port))
        theirs, _ = await server.accepted.get()
        with pytest.raises(StreamBufferFullError, match="max_write_buffer_size"):
            for _ in range(10_000):  # nobody reads: the kernel buffers fill, then ours
                stream.write(b"z" * 8192)
        stream.close()
        theirs.close()
        server.stop()

    run(io_loop, main)


def test_close_callback_runs_once_on_either_side(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        calls: list[str] = []
        peer_closed = asyncio.Event()

        async def on_peer_close() -> None:
            calls.append(f"ours closed, error={ours.error}")
            peer_closed.set()

        ours.set_close_callback(on_peer_close)
        theirs.set_close_callback(lambda: calls.append("theirs closed"))
        theirs.close()
        theirs.close()  # twice: harmless
        await asyncio.wait_for(peer_closed.wait(), 10)
        await asyncio.sleep(0.01)
        assert sorted(calls) == ["ours closed, error=None", "theirs closed"]
        # set after the close: still called
        late = asyncio.Event()
        ours.set_close_callback(late.set)
        await asyncio.wait_for(late.wait(), 10)
        server.stop()

    run(io_loop, main)


def test_close_with_exc_info_records_the_error(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        pending = ours.read_bytes(10)
        try:
            raise ValueError("protocol broken")
        except ValueError:
            ours.close(exc_info=True)
        assert isinstance(ours.error, ValueError)
        with pytest.raises(StreamClosedError) as info:
            await pending
        assert info.value.real_error is ours.error
        other = await connected_pair()
        other[2].close(exc_info=KeyError("given"))
        assert isinstance(other[2].error, KeyError)
        for s in (theirs, other[1]):
            s.close()
        server.stop()
        other[0].stop()

    run(io_loop, main)


def test_read_until_close_pending_when_an_error_closes_the_stream_fails(io_loop: IOLoop) -> None:
    # A body cut short by an error must not look complete (Tornado 6.6).
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        reading = ours.read_until_close()
        await theirs.write(b"half a body")
        for _ in range(5000):  # until the bytes arrived (no fixed sleep: a loaded CI is slow)
            if len(ours._buffer) == len(b"half a body"):
                break
            await asyncio.sleep(0.001)
        ours.close(exc_info=OSError("broken"))
        with pytest.raises(StreamClosedError) as info:
            await reading
        assert isinstance(info.value.real_error, OSError)
        assert await ours.read_until_close() == b"half a body"  # started after: what is left
        theirs.close()
        server.stop()

    run(io_loop, main)


def test_a_read_on_a_closed_stream_the_buffer_cannot_satisfy_raises_at_once(
    io_loop: IOLoop,
) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        await theirs.write(b"ab")
        assert await ours.read_bytes(1) == b"a"
        theirs.close()
        assert await ours.read_until_close() == b"b"
        with pytest.raises(StreamClosedError):
            ours.read_bytes(1)  # raised by the call, as Tornado's, not by a Future
        with pytest.raises(StreamClosedError):
            ours.read_until(b"\n")
        server.stop()

    run(io_loop, main)


def test_a_read_failed_by_the_close_is_not_reported_as_never_retrieved(
    io_loop: IOLoop, caplog: pytest.LogCaptureFixture
) -> None:
    # As Tornado: a program may start a read, then close (or see the peer close) without
    # awaiting it; the close callback reports the close, asyncio logs nothing.
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        ours.read_until(b"\r\n")  # never awaited
        theirs.close()
        await asyncio.sleep(0.05)
        other = await connected_pair()
        await other[1].write(b"abcdef")
        other[2].read_until(b"def", max_bytes=3)  # unsatisfiable: closes, never awaited
        await asyncio.sleep(0.05)
        for s in (ours, other[1], other[2]):
            s.close()
        server.stop()
        other[0].stop()

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        run(io_loop, main)
        gc.collect()  # a failed Future reports "never retrieved" when it is freed
    assert [r for r in caplog.records if r.name == "asyncio"] == []


def test_set_nodelay_sets_tcp_nodelay(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        sock = ours.get_extra_info("socket")
        ours.set_nodelay(True)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        ours.set_nodelay(False)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        ours.close()
        theirs.close()
        server.stop()

    run(io_loop, main)


# -- flow control ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_large_transfer_arrives_whole_with_bounded_buffers(io_loop: IOLoop) -> None:
    total = 16 * 1024 * 1024
    chunk = bytes(range(256)) * 256  # 64 KiB

    async def main() -> None:
        server, theirs, ours = await connected_pair(read_chunk_size=64 * 1024)
        most_unsent = 0
        most_buffered = 0

        async def send() -> str:
            nonlocal most_unsent
            digest = hashlib.sha256()
            for _ in range(total // len(chunk)):
                await ours.write(chunk)
                digest.update(chunk)
                most_unsent = max(most_unsent, _unsent(ours))
            ours.close()
            return digest.hexdigest()

        async def receive() -> str:
            nonlocal most_buffered
            digest = hashlib.sha256()
            received = 0
            while received < total:
                # a slow reader: the sender must be held back, not buffered without end
                await asyncio.sleep(0)
                data = await theirs.read_bytes(32 * 1024, partial=True)
                most_buffered = max(most_buffered, _buffered(theirs))
                digest.update(data)
                received += len(data)
            return digest.hexdigest()

        sent, got = await asyncio.gather(send(), receive())
        assert sent == got
        # Bounded by the high-water mark plus one write, and by the pause threshold plus
        # what one transport read can bring: never near the 16 MiB sent.
        assert most_unsent <= 256 * 1024 + len(chunk)
        assert most_buffered <= 64 * 1024 + 256 * 1024
        server.stop()

    run(io_loop, main)


def _unsent(stream: IOStream) -> int:
    transport = stream._transport
    return 0 if transport is None else transport.get_write_buffer_size()


def _buffered(stream: IOStream) -> int:
    return len(stream._buffer)


def test_writing_reports_unsent_bytes(io_loop: IOLoop) -> None:
    async def main() -> None:
        server, theirs, ours = await connected_pair()
        assert not ours.writing()
        for _ in range(200):  # nobody reads: eventually bytes wait in the transport
            ours.write(b"w" * 65536)
            if ours.writing():
                break
        assert ours.writing()
        ours.close()
        theirs.close()
        server.stop()

    run(io_loop, main)


# -- IOStream made by hand ---------------------------------------------------------------------


def test_iostream_connect_on_an_unconnected_socket(io_loop: IOLoop) -> None:
    async def main() -> None:
        sock, port = bind_unused_port()
        server = Capture()
        server.add_socket(sock)
        stream = IOStream(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        assert await stream.connect(("127.0.0.1", port)) is stream
        theirs, address = await server.accepted.get()
        assert address == stream.get_extra_info("sockname")
        await stream.write(b"ping")
        assert await theirs.read_bytes(4) == b"ping"
        stream.close()
        theirs.close()
        server.stop()

    run(io_loop, main)


def test_connect_starts_at_once_and_what_is_written_meanwhile_is_sent(io_loop: IOLoop) -> None:
    # Tornado's IOStream.connect returns a Future and connecting begins at the call:
    # a program may write before it completes (and need not await it).
    async def main() -> None:
        sock, port = bind_unused_port()
        server = Capture()
        server.add_socket(sock)
        stream = IOStream(socket.socket())
        connecting = stream.connect(("127.0.0.1", port))
        assert asyncio.isfuture(connecting) and not connecting.done()
        written = stream.write(b"sent while connecting")
        theirs, _ = await asyncio.wait_for(server.accepted.get(), 10)
        assert await theirs.read_bytes(21) == b"sent while connecting"
        assert await connecting is stream
        await written
        stream.close()
        theirs.close()
        server.stop()

    run(io_loop, main)


def test_a_write_made_while_connecting_completes_after_the_connect(io_loop: IOLoop) -> None:
    async def main() -> list[str]:
        sock, port = bind_unused_port()
        server = Capture()
        server.add_socket(sock)
        stream = IOStream(socket.socket())
        order: list[str] = []
        connecting = stream.connect(("127.0.0.1", port))
        connecting.add_done_callback(lambda _: order.append("connected"))
        written = stream.write(b"early")
        written.add_done_callback(lambda _: order.append("written"))
        await asyncio.gather(connecting, written)
        await asyncio.sleep(0)
        theirs, _ = await server.accepted.get()
        stream.close()
        theirs.close()
        server.stop()
        return order

    assert run(io_loop, main) == ["connected", "written"]


def test_closing_while_connecting_fails_the_connect_future(io_loop: IOLoop) -> None:
    async def main() -> None:
        sock, port = bind_unused_port()
        server = Capture()
        server.add_socket(sock)
        stream = IOStream(socket.socket())
        connecting = stream.connect(("127.0.0.1", port))
        stream.close()
        with pytest.raises(StreamClosedError):
            await connecting
        server.stop()

    run(io_loop, main)


def test_iostream_connect_refused_raises_stream_closed_error(io_loop: IOLoop) -> None:
    async def main() -> None:
        sock, port = bind_unused_port()
        sock.close()
        stream = IOStream(socket.socket())
        with pytest.raises(StreamClosedError) as info:
            await stream.connect(("127.0.0.1", port))
        assert isinstance(info.value.real_error, ConnectionRefusedError)
        assert stream.closed()

    run(io_loop, main)


def test_iostream_takes_over_a_connected_socket(io_loop: IOLoop) -> None:
    async def main() -> None:
        a, b = socket.socketpair()
        stream = IOStream(a)
        b.sendall(b"from the other end\n")
        assert await stream.read_until(b"\n") == b"from the other end\n"
        await stream.write(b"back")
        b.setblocking(True)
        b.settimeout(10)
        assert b.recv(4) == b"back"
        stream.close()
        b.close()

    run(io_loop, main)


def test_what_is_written_to_a_taken_over_socket_is_sent_when_closed_at_once(
    io_loop: IOLoop,
) -> None:
    async def main() -> None:
        a, b = socket.socketpair()
        stream = IOStream(a)
        stream.write(b"x" * 100_000)  # before the transport took the socket over
        stream.close()
        b.setblocking(False)
        loop = asyncio.get_running_loop()
        got = b""
        while chunk := await asyncio.wait_for(loop.sock_recv(b, 65536), 10):
            got += chunk
        assert got == b"x" * 100_000
        b.close()

    run(io_loop, main)


def test_closing_while_connecting_with_writes_pending_fails_the_connect_and_its_socket(
    io_loop: IOLoop,
) -> None:
    async def main() -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        sock = socket.socket()
        stream = IOStream(sock)
        connecting = stream.connect(listener.getsockname())
        stream.write(b"never sent")
        stream.close()
        with pytest.raises(StreamClosedError):
            await connecting
        assert sock.fileno() == -1
        listener.close()

    run(io_loop, main)


def test_closing_an_unconnected_stream_closes_its_socket(io_loop: IOLoop) -> None:
    async def main() -> None:
        sock = socket.socket()
        stream = IOStream(sock)
        stream.close()
        assert sock.fileno() == -1
        assert stream.closed()

    run(io_loop, main)


def test_exc_info_tuple_form(io_loop: IOLoop) -> None:
    async def main() -> None:
        a, b = socket.socketpair()
        stream = IOStream(a)
        try:
            raise OSError("tuple form")
        except OSError:
            stream.close(exc_info=sys.exc_info())
        assert str(stream.error) == "tuple form"
        b.close()

    run(io_loop, main)
