"""debug: development mode (``debug=True``) and the four settings it turns on.

Run:
    python examples/debug.py --port=8000                    # debug=True (development)
    python examples/debug.py --port=8000 --debug=false      # production (the default)
    python examples/debug.py --debug=false --serve_traceback=true   # one feature alone

``debug=True`` turns on, each also settable alone (an explicit setting wins):

1. ``autoreload=True`` — edit and save this file: the process restarts itself and serves
   the new code (a syntax error is reported and the reloader waits for the next save).
2. ``compiled_template_cache=False`` — edit templates/debug.html: the next request shows it.
3. ``static_hash_cache=False`` — edit statics/css/style.css: ``static_url`` (``/static_url``)
   gives a new ``?v=`` at once.
4. ``serve_traceback=True`` — ``/boom`` raises: the 500 page shows the traceback.
"""

from __future__ import annotations

import argparse
import os

import squall.loop
import squall.web

HERE = os.path.dirname(os.path.abspath(__file__))

# The tests edit this line to see the automatic restart.
MESSAGE = "hello debug v1"


def flag(value: str) -> bool:
    """Parse true/false/1/0/yes/no."""
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {value!r}")


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write(MESSAGE)


class PidHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write(str(os.getpid()))


class PageHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.render("debug.html", message=MESSAGE)


class StaticUrlHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write(self.static_url("css/style.css"))


class BoomHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.write(str(1 / 0))


def make_app(**settings: object) -> squall.web.Application:
    """The application; ``debug=True`` unless ``settings`` say otherwise.

    A factory, so that ``squall run examples.debug:make_app --factory`` serves it too.
    """
    settings.setdefault("debug", True)
    settings.setdefault("template_path", os.path.join(HERE, "templates"))
    settings.setdefault("static_path", os.path.join(HERE, "statics"))
    return squall.web.Application(
        [
            (r"/", IndexHandler),
            (r"/pid", PidHandler),
            (r"/page", PageHandler),
            (r"/static_url", StaticUrlHandler),
            (r"/boom", BoomHandler),
        ],
        **settings,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--debug", type=flag, default=True)
    for name in ("autoreload", "compiled_template_cache", "static_hash_cache", "serve_traceback"):
        parser.add_argument(f"--{name}", type=flag, default=None)
    args = parser.parse_args()

    settings: dict[str, object] = {
        "debug": args.debug,
        "template_path": os.path.join(HERE, "templates"),
        "static_path": os.path.join(HERE, "statics"),
    }
    for name in ("autoreload", "compiled_template_cache", "static_hash_cache", "serve_traceback"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    app = make_app(**settings)
    app.listen(args.port)
    print(f"pid {os.getpid()} serving {MESSAGE!r} with {settings}", flush=True)
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
