"""Opens N keep-alive connections to 127.0.0.1:PORT, one `GET /` each, and holds them idle.

run.py starts it pinned to CPU 0, waits for the line "ready N" on its stdout, reads the
server's memory, then closes its stdin: the client closes every connection and exits.
"""

from __future__ import annotations

import argparse
import resource
import socket
import sys

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: squall-bench\r\n\r\n"


def read_response(sock: socket.socket) -> None:
    """Read one whole response (Content-Length or chunked) so the connection is idle."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(f"unexpected response: {head[:60]!r}")
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    while True:
        if length is not None and len(body) >= length:
            return
        if chunked and body.endswith(b"0\r\n\r\n"):
            return
        if length is None and not chunked:
            return
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks: list[socket.socket] = []
    try:
        for _ in range(args.n):
            s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
            socks.append(s)
            s.sendall(REQUEST)
            read_response(s)
        print(f"ready {len(socks)}", flush=True)
        sys.stdin.readline()  # run.py closes our stdin when it has measured
        alive = 0
        for s in socks:
            # An idle connection the server closed reads as EOF at once; a live one times out.
            s.settimeout(0)
            try:
                alive += s.recv(1) != b""
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        print(f"still open {alive}", flush=True)
    except Exception as e:
        print(f"error after {len(socks)} connections: {e}", flush=True)
    finally:
        for s in socks:
            s.close()


if __name__ == "__main__":
    main()
