"""The page assembly of ``render()``: what the UI modules used by the page asked for.

See ``_uimodules`` for the rules. Runs only when a template of the request used a UI module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from squall.template._uimodules import UIModule
from squall.web import escape as web_escape

if TYPE_CHECKING:
    from squall.web import RequestHandler

_utf8 = web_escape.utf8


def _is_absolute(path: str) -> bool:
    return path.startswith(("/", "http:", "https:"))


def _unique_urls(handler: RequestHandler, files: Iterable[str]) -> list[str]:
    urls: list[str] = []
    for path in files:
        url = path if _is_absolute(path) else handler.static_url(path)
        if url not in urls:
            urls.append(url)
    return urls


def render_linked_js(handler: RequestHandler, files: Iterable[str]) -> str:
    """``<script src>`` tags for ``files`` (each once)."""
    return "".join(
        f'<script src="{web_escape.xhtml_escape(url)}" type="text/javascript"></script>'
        for url in _unique_urls(handler, files)
    )


def render_embed_js(handler: RequestHandler, code: Iterable[bytes]) -> bytes:
    """One ``<script>`` holding every module's inline JavaScript."""
    return (
        b'<script type="text/javascript">\n//<![CDATA[\n' + b"\n".join(code) + b"\n//]]>\n</script>"
    )


def render_linked_css(handler: RequestHandler, files: Iterable[str]) -> str:
    """``<link rel=stylesheet>`` tags for ``files`` (each once)."""
    return "".join(
        f'<link href="{web_escape.xhtml_escape(url)}" type="text/css" rel="stylesheet"/>'
        for url in _unique_urls(handler, files)
    )


def render_embed_css(handler: RequestHandler, code: Iterable[bytes]) -> bytes:
    """One ``<style>`` holding every module's inline CSS."""
    return b'<style type="text/css">\n' + b"\n".join(code) + b"\n</style>"


def _call(handler: RequestHandler, name: str, default: Any, arg: Any) -> Any:
    # A handler may override these four, as in Tornado (methods of the handler).
    method = getattr(handler, name, None)
    return method(arg) if method is not None else default(handler, arg)


def _files(value: Iterable[str] | str | bytes | None, into: list[str]) -> None:
    if not value:
        return
    if isinstance(value, str | bytes):
        into.append(value.decode("utf-8") if isinstance(value, bytes) else value)
    else:
        into.extend(value)


def _insert_before(page: bytes, marker: bytes, piece: bytes, last: bool) -> bytes:
    at = page.rfind(marker) if last else page.find(marker)
    if at == -1:
        raise ValueError(
            f"render(): the UI modules of the page add {piece[:60]!r} before "
            f"{marker.decode()}, but the page has no {marker.decode()}"
        )
    return page[:at] + piece + b"\n" + page[at:]


def assemble(handler: RequestHandler, page: bytes, modules: Iterable[UIModule]) -> bytes:
    """``page`` with the resources of ``modules`` inserted (see ``_uimodules``).

    Raises:
        ValueError: the page has no ``</body>`` (or ``</head>``) where something must go.
    """
    js_code: list[bytes] = []
    js_files: list[str] = []
    css_code: list[bytes] = []
    css_files: list[str] = []
    heads: list[bytes] = []
    bodies: list[bytes] = []
    for module in modules:
        if code := module.embedded_javascript():
            js_code.append(_utf8(code))
        _files(module.javascript_files(), js_files)
        if code := module.embedded_css():
            css_code.append(_utf8(code))
        _files(module.css_files(), css_files)
        if html := module.html_head():
            heads.append(_utf8(html))
        if html := module.html_body():
            bodies.append(_utf8(html))
    if js_files:
        linked = _utf8(_call(handler, "render_linked_js", render_linked_js, js_files))
        page = _insert_before(page, b"</body>", linked, last=True)
    if js_code:
        embedded = _call(handler, "render_embed_js", render_embed_js, js_code)
        page = _insert_before(page, b"</body>", embedded, last=True)
    if css_files:
        linked = _utf8(_call(handler, "render_linked_css", render_linked_css, css_files))
        page = _insert_before(page, b"</head>", linked, last=False)
    if css_code:
        embedded = _call(handler, "render_embed_css", render_embed_css, css_code)
        page = _insert_before(page, b"</head>", embedded, last=False)
    if heads:
        page = _insert_before(page, b"</head>", b"".join(heads), last=False)
    if bodies:
        page = _insert_before(page, b"</body>", b"".join(bodies), last=False)
    return page
