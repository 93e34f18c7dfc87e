"""Tornado's template language on squall: a guestbook page with a UI module and translations.

Run: python examples/tornado_templates.py [--port=9000]   then open http://127.0.0.1:9000/
     (try it with another language: curl -H 'Accept-Language: es' http://127.0.0.1:9000/)

- ``template_syntax="tornado"``: the templates in ``templates_tornado/`` are Tornado's
  (``{% extends %}``, ``{% block %}``, ``{% include %}``, ``{% for %}...{% end %}``,
  ``{% module %}``, ``{{ _("...") }}``), rendered as Tornado renders them.
- ``ui_modules={"Entry": EntryModule}``: ``{% module Entry(entry) %}`` renders one entry with
  its own template; the module asks for a stylesheet (``static_url``), a bit of CSS and of
  JavaScript, which ``render()`` puts before ``</head>`` and ``</body>``, once per page.
- ``ui_methods``: ``{{ shout(text) }}`` calls ``shout(handler, text)``.
- Translations: ``squall.web.locale.load_translations`` reads ``translations/LANG.csv``;
  each request gets the language its ``Accept-Language`` header asks for (``?lang=es`` wins,
  through ``get_user_locale``).
- ``/plain``: the same entries through ``render_string`` (no page assembly).

Needs squall-template and squall-static.
"""

from __future__ import annotations

import argparse
import os

import squall.loop
import squall.web
from squall.template import UIModule
from squall.web import locale, url

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates_tornado")

ENTRIES = [
    {"author": "Ann", "text": "First <b>entry</b> & more"},
    {"author": "Bob", "text": "Second entry, see http://www.tornadoweb.org/"},
]


class EntryModule(UIModule):
    """One guestbook entry, with the CSS and JavaScript every entry needs."""

    def render(self, entry: dict[str, str]) -> bytes:
        return self.render_string("modules/entry.html", entry=entry)

    def css_files(self) -> list[str]:
        return ["entry.css"]

    def embedded_css(self) -> str:
        return ".entry .author { font-weight: bold }"

    def embedded_javascript(self) -> str:
        return "document.documentElement.dataset.entries = 'ready';"


def shout(handler: squall.web.RequestHandler, text: str) -> str:
    """A UI method: templates call it as ``shout(text)``."""
    return text.upper() + "!"


class IndexHandler(squall.web.RequestHandler):
    def get_user_locale(self) -> locale.Locale | None:
        lang = self.get_query_argument("lang", None)
        return locale.get(lang) if lang else None

    def get(self) -> None:
        self.render("index.html", entries=ENTRIES)


class PlainHandler(IndexHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write(self.render_string("index.html", entries=ENTRIES))


def make_app() -> squall.web.Application:
    """The application: Tornado-syntax templates, one UI module, one UI method."""
    locale.load_translations(os.path.join(HERE, "translations"))
    return squall.web.Application(
        [url(r"/", IndexHandler, name="index"), url(r"/plain", PlainHandler, name="plain")],
        template_path=HERE,
        template_syntax="tornado",
        static_path=os.path.join(HERE, "static"),
        ui_modules={"Entry": EntryModule},
        ui_methods={"shout": shout},
    )


app = make_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    app.listen(args.port, "127.0.0.1")
    print(f"serving on http://127.0.0.1:{args.port}/", flush=True)
    squall.loop.IOLoop.current().start()


if __name__ == "__main__":
    main()
