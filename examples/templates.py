"""Templates: ``render`` a Jinja2 page with a form, ``static_url`` and autoescaping.

Run: python examples/templates.py [--port=9000]   then open http://127.0.0.1:9000/

- ``/``: ``self.render("index.html", ...)`` — a page (extending base.html) with a form
  whose action is ``reverse_url("submit")`` and a stylesheet linked with ``static_url``
  (``/static/css/style.css?v=<hash>``).
- ``/submit`` (POST, named "submit"): renders what was typed; autoescaping makes
  ``<script>`` harmless (``&lt;script&gt;``).
- ``/fragment``: ``render_string`` returns the page as bytes instead of sending it.

The debug section of the notes turns the compiled-template cache off
(``compiled_template_cache=False``): see debug.py. Needs squall-template and squall-static.
"""

from __future__ import annotations

import os

import squall.http
import squall.loop
import squall.options
import squall.web
from squall.web import url

squall.options.define("port", default=9000, type=int)

HERE = os.path.dirname(os.path.abspath(__file__))


class IndexHandler(squall.web.RequestHandler):
    def get(self) -> None:
        self.render("index.html", title="留言 guestbook", items=["first <b>entry</b>", "第二"])


class SubmitHandler(squall.web.RequestHandler):
    def post(self) -> None:
        text = self.get_body_argument("text")
        self.render("result.html", title="result", text=text)


class FragmentHandler(squall.web.RequestHandler):
    def get(self) -> None:
        page = self.render_string("result.html", title="fragment", text="<i>from render_string</i>")
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write(page)


def make_app() -> squall.web.Application:
    """The application (a factory: built after the options were parsed)."""
    return squall.web.Application(
        [
            url(r"/", IndexHandler, name="index"),
            url(r"/submit", SubmitHandler, name="submit"),
            (r"/fragment", FragmentHandler),
        ],
        template_path=os.path.join(HERE, "templates"),
        static_path=os.path.join(HERE, "statics"),
    )


if __name__ == "__main__":
    squall.options.parse_command_line()
    app = make_app()
    http_server = squall.http.HTTPServer(app)
    http_server.listen(squall.options.options.port)
    print(f"serving on http://127.0.0.1:{squall.options.options.port}/", flush=True)
    squall.loop.IOLoop.current().start()
