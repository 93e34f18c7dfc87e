"""The floor of benchmarks/websocket.py's echo tables: a bare uvloop Protocol, no WebSocket.

Not a WebSocket server anyone should run: it answers the handshake with a fixed 101 and
sends each client frame back with the mask bit and key dropped, without unmasking (the
benchmark's client masks with the all-zero key, so the echo is still right), validating
anything, or calling a handler. What it costs per round trip is the event loop and the
kernel's share (read, write, wake-ups), which every server measured pays too: a server's
CPU per round trip minus this is its own work, and the best ratio any server could reach
against a peer is the peer's CPU over this one's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.upgraded = False
        self.buf = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        tr = self.transport
        assert tr is not None
        if self.buf:
            self.buf += data
            data = bytes(self.buf)
            self.buf.clear()
        if not self.upgraded:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf += data
                return
            key = b""
            for line in data[:end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"sec-websocket-key":
                    key = value.strip()
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            tr.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.upgraded = True
            data = data[end + 4 :]
        pos = 0
        size = len(data)
        while size - pos >= 2:
            n = data[pos + 1] & 0x7F
            ext = 0 if n < 126 else 2 if n == 126 else 8
            if size - pos < 2 + ext:
                break
            if ext:
                n = int.from_bytes(data[pos + 2 : pos + 2 + ext], "big")
            start = pos + 2 + ext + 4
            end = start + n
            if end > size:
                break
            head = bytes((data[pos], data[pos + 1] & 0x7F)) + data[pos + 2 : pos + 2 + ext]
            if n < 16384:
                tr.write(head + data[start:end])
            else:  # no copy of a big payload at all (uvloop sends both with one writev)
                tr.writelines((head, memoryview(data)[start:end]))
            pos = end
        if pos < size:
            self.buf += data[pos:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(Echo, "127.0.0.1", args.port, backlog=4096)
        await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
