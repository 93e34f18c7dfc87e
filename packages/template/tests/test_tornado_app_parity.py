"""A real Tornado application and a squall one, with the same templates, UI modules, UI
methods and translations, answer the same pages over HTTP (httpx)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.ioloop
import tornado.locale
import tornado.web

import squall.template
import squall.web
from squall.web import locale as squall_locale

TEMPLATES = {
    "base.html": (
        "<!doctype html>\n<html><head><title>{% block title %}Site{% end %}</title></head>\n"
        "<body>\n{% block body %}{% end %}\n</body></html>\n"
    ),
    "page.html": (
        "{% extends 'base.html' %}\n{% block title %}{{ _('Entries') }}{% end %}\n"
        "{% block body %}<h1>{{ _('%(n)d entry', '%(n)d entries', len(entries)) % "
        "{'n': len(entries)} }}</h1>\n"
        "{% for e in entries %}{% module Entry(e) %}\n{% end %}"
        "{% raw modules.Entry('raw <x>') %}\n"
        "{% module Template('card.html', title=title) %}\n"
        "{% module Template('card.html', title='again') %}\n"
        "{% module linkify('see http://example.com/a?b=1&c=2') %}\n"
        "{{ shout(title) }}|{{ locale.code }}|{{ handler.request.path }}|"
        "{{ current_user }}|{{ reverse_url('page') }}\n"
        "{% include 'footer.html' %}{% end %}\n"
    ),
    "entry.html": '<div class="entry">{{ entry }}</div>',
    "card.html": (
        "{{ set_resources(css_files=['card.css'], embedded_css='.card{}', "
        "javascript_files='/js/card.js', html_head='<meta name=card>') }}"
        "<section class=card>{{ title }}</section>"
    ),
    "footer.html": "<footer>{{ _('Sunday') }} {{ static_url('x.png') }}</footer>",
}

TRANSLATIONS = {
    "es": (
        '"Entries","Entradas"\n"%(n)d entry","%(n)d entrada","singular"\n'
        '"%(n)d entries","%(n)d entradas","plural"\n"Sunday","Domingo"\n'
    ),
    "fr_FR": '"Entries","Billets"\n"Sunday","Dimanche"\n',
}


class EntryBehaviour:
    """The same UI module body for both frameworks."""

    def render(self, entry: str) -> Any:
        return self.render_string("entry.html", entry=entry)  # type: ignore[attr-defined]

    def javascript_files(self) -> list[str]:
        return ["entry.js", "https://cdn.example/lib.js", "entry.js"]

    def css_files(self) -> str:
        return "/css/entry.css"

    def embedded_javascript(self) -> str:
        return "var entries = true;"

    def embedded_css(self) -> str:
        return ".entry { color: red }"

    def html_head(self) -> str:
        return "<meta name=entry>"

    def html_body(self) -> str:
        return "<p>entries end</p>"


class TornadoEntry(EntryBehaviour, tornado.web.UIModule):  # type: ignore[misc]
    pass


class SquallEntry(EntryBehaviour, squall.template.UIModule):
    pass


def shout(handler: Any, text: str) -> str:
    return text.upper() + "!"


class PageBehaviour:
    def get_current_user(self) -> str:
        return "ann"

    def static_url(self, path: str, include_host: bool | None = None, **kwargs: Any) -> str:
        return "/static/" + path

    def get(self) -> None:
        self.render("page.html", entries=["one", "<two>"], title="A & B")  # type: ignore[attr-defined]


class TornadoPage(PageBehaviour, tornado.web.RequestHandler):  # type: ignore[misc]
    pass


class SquallPage(PageBehaviour, squall.web.RequestHandler):  # type: ignore[misc]
    pass


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, source in TEMPLATES.items():
        (folder / name).write_text(source, encoding="utf-8")
    translations = tmp_path / "translations"
    translations.mkdir()
    for code, text in TRANSLATIONS.items():
        (translations / f"{code}.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def translations(template_dir: Path) -> Iterator[None]:
    folder = str(template_dir.parent / "translations")
    saved_squall = (squall_locale._translations, squall_locale._supported_locales)
    saved_tornado = (tornado.locale._translations, tornado.locale._supported_locales)
    squall_locale.load_translations(folder)
    tornado.locale.load_translations(folder)
    tornado.locale.Locale._cache.clear()
    yield
    squall_locale._translations, squall_locale._supported_locales = saved_squall
    tornado.locale._translations, tornado.locale._supported_locales = saved_tornado
    squall_locale.Locale._cache.clear()
    tornado.locale.Locale._cache.clear()


@pytest.fixture
def tornado_url(template_dir: Path) -> Iterator[str]:
    """A Tornado application on 127.0.0.1, in a thread with its own event loop."""
    app = tornado.web.Application(
        [tornado.web.url(r"/page", TornadoPage, name="page")],
        template_path=str(template_dir),
        ui_modules={"Entry": TornadoEntry},
        ui_methods={"shout": shout},
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    started = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets([sock])
        holder["loop"] = tornado.ioloop.IOLoop.current()
        started.set()
        holder["loop"].start()
        server.stop()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    holder["loop"].add_callback(holder["loop"].stop)
    thread.join(10)
    sock.close()


@pytest.fixture
def squall_url(template_dir: Path, squall_live_server: Callable[..., Any]) -> str:
    app = squall.web.Application(
        [squall.web.url(r"/page", SquallPage, name="page")],
        template_path=str(template_dir),
        template_syntax="tornado",
        ui_modules={"Entry": SquallEntry},
        ui_methods={"shout": shout},
    )
    return str(squall_live_server(app).url)


@pytest.mark.parametrize("language", [None, "es-ES,fr;q=0.5", "de;q=0.9, fr-FR;q=0.8", "es;q=0"])
def test_page_with_ui_modules_and_translations_matches_tornado(
    translations: None, tornado_url: str, squall_url: str, language: str | None
) -> None:
    headers = {} if language is None else {"Accept-Language": language}
    theirs = httpx.get(tornado_url + "/page", headers=headers, timeout=10)
    ours = httpx.get(squall_url + "/page", headers=headers, timeout=10)
    assert theirs.status_code == 200, theirs.text
    assert ours.status_code == 200, ours.text
    assert ours.content == theirs.content
    assert b'<script src="/static/entry.js"' in ours.content  # the assembly did happen
