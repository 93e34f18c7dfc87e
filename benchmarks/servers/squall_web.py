"""squall.web: the notes' IndexHandler ("hello word" on /), a JSON route on /json.

Options select the scenario: ``--routes N`` serves exactly N literal routes
``/route/0`` … ``/route/N-1`` (nothing else), ``--static DIR`` sets ``static_path``
(squall.static serves ``/static/…``), ``--access-log FILE`` turns the access log on at its
default level (info) into FILE the notes' way, with squall.options' ``--log_file_prefix``
(``--access-log-stdlib`` instead: ``logging.basicConfig(filename=FILE)``, the stdlib's
``FileHandler``). ``--loop default`` runs the notes' way
(``IOLoop.current().start()``, squall's own loop choice): the start-up measurement uses it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop", "default"], default="asyncio")
    parser.add_argument("--routes", type=int, default=0)
    parser.add_argument("--static")
    parser.add_argument("--access-log")
    parser.add_argument("--access-log-stdlib", action="store_true")
    args = parser.parse_args()
    if args.loop == "asyncio":
        os.environ["SQUALL_NO_UVLOOP"] = "1"
    if args.access_log:
        # The notes' way to log to a file: squall.options' --log_file_prefix, at the default
        # level (info). --access-log-stdlib measures the stdlib's FileHandler instead.
        if args.access_log_stdlib:
            logging.basicConfig(
                filename=args.access_log,
                level=logging.INFO,
                format="%(asctime)s %(levelname)s %(name)s %(message)s",
            )
        else:
            import squall.options

            squall.options.parse_command_line(
                ["squall_web.py", f"--log_file_prefix={args.access_log}"]
            )

    import squall.http
    import squall.web

    if os.environ.get("SQUALL_BENCH_COMPILED") == "1" and not squall.http.compiled():
        sys.exit("error: this row measures the mypyc build, but squall.http here is pure Python")

    class IndexHandler(squall.web.RequestHandler):  # type: ignore[misc]
        def get(self) -> None:
            self.write("hello word")

    class JsonHandler(squall.web.RequestHandler):  # type: ignore[misc]
        def get(self) -> None:
            self.write({"message": "Hello, World!"})

    handlers: list[Any]
    if args.routes:
        handlers = [(f"/route/{i}", IndexHandler) for i in range(args.routes)]
    else:
        handlers = [(r"/", IndexHandler), (r"/json", JsonHandler)]
    settings: dict[str, Any] = {}
    if args.static:
        settings["static_path"] = args.static
    app = squall.web.Application(handlers, **settings)

    if args.loop == "default":
        import squall.loop

        app.listen(args.port, "127.0.0.1")
        squall.loop.IOLoop.current().start()
        return

    async def serve() -> None:
        app.listen(args.port, "127.0.0.1")
        await asyncio.Event().wait()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


if __name__ == "__main__":
    main()
