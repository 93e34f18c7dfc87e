"""静态文件: ``static_path`` (``/static/...``) and ``StaticFileHandler`` with ``default_filename``.

Run: python examples/static.py [--port=9000]
then open http://127.0.0.1:9000/static/html/index.html (static_path) or
http://127.0.0.1:9000/ (StaticFileHandler: the default file index.html of statics/html).

- ``static_path=.../statics``: a URL path starting with ``/static/`` is looked up in that
  folder (``/static/html/index.html`` → ``statics/html/index.html``).
- ``(r"/(.*)", StaticFileHandler, dict(path=.../statics/html, default_filename="index.html"))``:
  the captured part names a file under ``path``; a directory (``/`` included) serves its
  ``index.html``.

Needs squall-static (from this clone: ``uv pip install ./packages/static``).
"""

from __future__ import annotations

import os

import squall.http
import squall.loop
import squall.options
import squall.web
from squall.static import StaticFileHandler
from squall.web import RequestHandler

squall.options.define("port", default=9000, type=int)


class Show(RequestHandler):
    def get(self) -> None:
        print(1111, flush=True)


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    current_static = os.path.dirname(os.path.abspath(__file__))
    return squall.web.Application(
        [
            # The notes define Show without a rule; here it gets one, before the catch-all.
            (r"/show", Show),
            (
                r"/(.*)",
                StaticFileHandler,
                dict(
                    path=os.path.join(current_static, "statics/html"), default_filename="index.html"
                ),
            ),
        ],
        debug=True,
        static_path=os.path.join(current_static, "statics"),
    )


if __name__ == "__main__":
    squall.options.parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
