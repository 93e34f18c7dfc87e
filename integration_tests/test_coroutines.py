"""The coroutine patterns of Tornado's guide (async and coroutines pages): examples/coroutines.py.

Statements checked: a native coroutine and a ``@gen.coroutine`` generator (``yield``,
``gen.Return``) each fetch a page; ``multi`` over a list and over a dict runs the fetches in
parallel (the fetched pages answer only once the whole group is in flight) and keeps the
order and the keys; a fetch started early is awaited later (interleaving); a blocking
function runs in an executor both through ``IOLoop.run_in_executor`` and
``@run_on_executor`` while the loop keeps serving; a ``spawn_callback`` task runs in the
background.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import time

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("coroutines.py") as srv:
        yield srv


def test_native_coroutine_fetches(server):
    r = httpx.get(server.url + "/native", timeout=30)
    assert (r.status_code, r.text) == (200, "item 1")


def test_decorated_generator_coroutine_fetches(server):
    r = httpx.get(server.url + "/decorated", timeout=30)
    assert (r.status_code, r.text) == (200, "item 2")


def test_multi_fetches_a_list_and_a_dict_in_parallel(server):
    r = httpx.get(server.url + "/parallel", timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "list": ["item 1", "item 2", "item 3", "item 4", "item 5"],
        "dict": {"a": "item 10", "b": "item 11"},
    }


def test_interleaving_a_fetch_with_other_work(server):
    r = httpx.get(server.url + "/interleave", timeout=30)
    assert r.text == f"item 7 / {sum(range(1000))}"


def test_blocking_work_runs_in_executors_while_the_loop_serves(server):
    expected = hashlib.sha256(b"abc").hexdigest()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        slow = [
            pool.submit(httpx.get, server.url + "/executor?text=abc", timeout=30) for _ in range(4)
        ]
        # the loop is not blocked: other pages answer meanwhile
        assert httpx.get(server.url + "/native", timeout=30).text == "item 1"
        for future in slow:
            assert future.result().json() == {
                "run_in_executor": expected,
                "run_on_executor": expected,
            }


def test_a_spawned_callback_runs_in_the_background(server):
    first = httpx.get(server.url + "/background", timeout=30).json()["ticks"]
    deadline = time.monotonic() + 10
    while httpx.get(server.url + "/background", timeout=30).json()["ticks"] <= first:
        assert time.monotonic() < deadline, "the background ticker never ticked"
        time.sleep(0.05)
