"""docs/from-tornado.md stays true: Tornado's names covered, squall's names real, settings synced.

The guide is in the repository, not in the package: these tests skip when web is tested
from an installed copy without the repository around it.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pathlib
import re
import types
from typing import Any

import pytest

from squall.web._tornado_settings import PLANNED, PROVIDED, TORNADO_SETTINGS

pytest.importorskip("tornado")

ROOT = pathlib.Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "from-tornado.md"
if not GUIDE.is_file():  # pragma: no cover - an sdist without the repository
    pytest.skip("docs/from-tornado.md is not here", allow_module_level=True)

TEXT = GUIDE.read_text(encoding="utf-8")

# Every public Tornado module a web app uses; each has a section of the guide.
MODULES = [
    "web",
    "ioloop",
    "httpserver",
    "httputil",
    "options",
    "log",
    "escape",
    "template",
    "locale",
    "websocket",
    "gen",
    "locks",
    "queues",
    "concurrent",
    "iostream",
    "tcpserver",
    "tcpclient",
    "netutil",
    "httpclient",
    "testing",
    "auth",
    "wsgi",
    "platform.asyncio",
    "process",
    "autoreload",
    "routing",
    "util",
]
# Module-level names that are not API: Tornado's doctest hooks and a third-party import.
NOT_API = {"doctests", "colorama_available"}


def _builtin_aliases(module: types.ModuleType) -> set[str]:
    """Names the module binds at its top level to a builtin type (``unicode_type = str``).

    Their ``__module__`` is ``builtins``, so the test below would skip them, yet a ported
    program imports them from the module (``from tornado.util import unicode_type``).
    """
    source = inspect.getsource(module)
    return {
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and value.__module__ == "builtins"
        and re.search(rf"^{re.escape(name)} = ", source, flags=re.M)
    }


def _tornado_public_names(module_name: str) -> set[str]:
    module = importlib.import_module(f"tornado.{module_name}")
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return set(declared)
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", module.__name__) == module.__name__
    } - NOT_API | _builtin_aliases(module)


def _sections() -> dict[str, str]:
    """Heading line → text of each ``## `` section."""
    out: dict[str, str] = {}
    for chunk in re.split(r"^(?=## )", TEXT, flags=re.M)[1:]:
        heading, _, body = chunk.partition("\n")
        out[heading] = body
    return out


def _backticked(text: str) -> set[str]:
    names: set[str] = set()
    for token in re.findall(r"`([^`\n]+)`", text):
        names.add(token)
        names.add(token.rsplit(".", 1)[-1])
    return names


def _section_of(module_name: str) -> str:
    found = [body for heading, body in _sections().items() if f"`tornado.{module_name}`" in heading]
    assert found, f"no section of the guide has `tornado.{module_name}` in its heading"
    return "\n".join(found)


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_tornado_name_is_in_its_section(module_name: str) -> None:
    names = _tornado_public_names(module_name)
    assert names, module_name
    missing = sorted(names - _backticked(_section_of(module_name)))
    assert missing == [], f"tornado.{module_name}: {missing} not in the guide"


@pytest.mark.parametrize(
    ("module_name", "cls"),
    [("web", "RequestHandler"), ("web", "Application"), ("ioloop", "IOLoop")],
)
def test_every_method_of_tornados_main_classes_is_in_the_guide(module_name: str, cls: str) -> None:
    tornado_class = getattr(importlib.import_module(f"tornado.{module_name}"), cls)
    names = {n for n in dir(tornado_class) if not n.startswith("_")}
    missing = sorted(names - _backticked(_section_of(module_name)))
    assert missing == [], f"tornado.{module_name}.{cls}: {missing} not in the guide"


LOGGERS = {"squall.access", "squall.application", "squall.general"}


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for i in range(len(parts), 1, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attribute in parts[i:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(dotted)


def test_every_squall_name_the_guide_gives_exists() -> None:
    # squall.access, squall.application, squall.general are logger names, not modules.
    dotted = set(re.findall(r"`(squall\.[\w.]+)", TEXT)) - LOGGERS
    assert len(dotted) > 60
    for name in sorted(dotted):
        if importlib.util.find_spec(name.split(".")[0] + "." + name.split(".")[1]) is None:
            continue  # a plugin package not installed here (squall-static, ...)
        try:
            _resolve(name)
        except (ImportError, AttributeError) as exc:
            raise AssertionError(f"the guide names {name}, which does not exist") from exc


def test_same_names_lines_list_real_attributes() -> None:
    lines = re.findall(r"^Same names on `(squall[\w.]+)`: (.+)$", TEXT, flags=re.M)
    assert {target for target, _ in lines} == {
        "squall.web.RequestHandler",
        "squall.web.Application",
        "squall.loop.IOLoop",
    }
    for target, names in lines:
        obj = _resolve(target)
        for name in re.findall(r"`(\w+)`", names):
            if name == "settings" and target == "squall.web.Application":
                continue  # an instance attribute, set in __init__
            assert hasattr(obj, name), f"{target}.{name} is in the guide but does not exist"


# -- the settings table ------------------------------------------------------------------

_STATUS_WORDS = {PROVIDED: "provided", PLANNED: "not yet", "unsupported": "not supported"}


def settings_table() -> str:
    """The Markdown rows of the guide's settings table, from ``_tornado_settings``."""
    rows = ["| setting | in squall | package | note |", "|---|---|---|---|"]
    for name, (provider, status, note) in sorted(TORNADO_SETTINGS.items()):
        rows.append(f"| `{name}` | {_STATUS_WORDS[status]} | {provider or '—'} | {note} |")
    return "\n".join(rows)


def test_the_guides_settings_table_is_the_one_application_enforces() -> None:
    begin = "<!-- settings table: begin -->\n"
    end = "\n<!-- settings table: end -->"
    assert begin in TEXT and end in TEXT
    table = TEXT.split(begin, 1)[1].split(end, 1)[0]
    expected = settings_table()
    assert table == expected, "regenerate the table of docs/from-tornado.md:\n" + expected


def test_the_readme_links_the_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/from-tornado.md)" in readme
