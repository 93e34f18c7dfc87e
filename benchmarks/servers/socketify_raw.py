"""socketify (Python bindings of the C++ uWebSockets server) with a raw app, one process.

``/`` ends the response with ``hello word``; ``/json`` passes a dict to ``res.end``, which
is socketify's own JSON path (its serializer, the stdlib's ``json`` by default, and
``Content-Type: application/json``).
"""

from __future__ import annotations

import argparse
from typing import Any

from socketify import App


def hello(res: Any, req: Any) -> None:
    res.end("hello word")


def json_(res: Any, req: Any) -> None:
    res.end({"message": "Hello, World!"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = App()
    app.get("/", hello)
    app.get("/json", json_)
    app.listen(args.port, lambda config: None)
    app.run()


if __name__ == "__main__":
    main()
