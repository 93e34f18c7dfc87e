"""The public facade of squall.loop is exactly its ``__all__``."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import subprocess
import sys

import pytest

import squall.loop


def test_version_is_a_semantic_version_string() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", squall.loop.__version__)


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(squall.loop) if not n.startswith("_")} - {"annotations"}
    # submodules imported as attributes are not part of the facade
    public = {n for n in public if type(getattr(squall.loop, n)).__name__ != "module"}
    assert set(squall.loop.__all__) - {"__version__"} == public


def test_the_tornado_style_modules_list_exactly_their_public_names() -> None:
    for name in ("gen", "locks", "queues", "concurrent"):
        module = importlib.import_module(f"squall.loop.{name}")
        defined = {
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and (inspect.isclass(v) or inspect.isfunction(v))
            and getattr(v, "__module__", None) == module.__name__
        }
        assert defined <= set(module.__all__), (name, defined - set(module.__all__))
        assert all(hasattr(module, n) for n in module.__all__), name


def test_the_toolbox_modules_are_loaded_only_on_demand() -> None:
    # squall.http imports squall.loop on every server start: it must not pay for them.
    code = (
        "import sys, squall.loop; "
        "print(sorted(m for m in sys.modules if m.split('.')[-1] in "
        "('gen', 'locks', 'queues', 'concurrent') and m.startswith('squall.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_toolbox_modules_are_attributes_after_a_plain_import() -> None:
    # Tornado code renamed from `import tornado` ... `tornado.locks.Condition()`.
    code = (
        "import sys, squall.loop; "
        "print(squall.loop.locks.Condition.__module__, squall.loop.gen.sleep.__module__, "
        "squall.loop.queues.Queue.__module__, squall.loop.concurrent.Future.__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == [
        "squall.loop.locks",
        "squall.loop.gen",
        "squall.loop.queues",
        "Future",
    ]


def test_future_is_importable_from_squall_loop_as_from_tornado_ioloop() -> None:
    # `from tornado.ioloop import Future, IOLoop`, renamed.
    from squall.loop import Future, IOLoop

    assert Future is asyncio.Future
    assert IOLoop is squall.loop.IOLoop


def test_timeout_error_of_run_sync_is_importable_from_squall_loop() -> None:
    # `except tornado.ioloop.TimeoutError:` around run_sync, renamed.
    from squall.loop import TimeoutError as LoopTimeoutError

    loop = squall.loop.IOLoop(make_current=False)
    try:
        with pytest.raises(LoopTimeoutError):
            loop.run_sync(lambda: asyncio.sleep(1), timeout=0.01)
    finally:
        loop.close()
    assert LoopTimeoutError is asyncio.TimeoutError


def test_future_is_importable_from_gen_as_from_tornado_gen() -> None:
    # `from tornado.gen import Future` (tornado.gen re-exports it), renamed.
    from squall.loop.gen import Future

    assert Future is asyncio.Future


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_module'"):
        squall.loop.no_such_module  # noqa: B018 - the access is the test
