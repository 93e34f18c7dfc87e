"""路由映射: ``(regex, Handler)``, ``(regex, Handler, kwargs)`` → ``initialize``, named ``url``.

Statements checked: the rules map paths to handlers; the dict of a three-element rule is
passed to ``initialize`` (``/show`` answers 这是一个字典); ``url(r'/cc', Change,
name="python_url")`` names a rule and ``self.reverse_url("python_url")`` gives ``/cc``;
the port comes from ``config.port`` unless given; patterns match the whole path.
"""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def server(launcher):
    with launcher.running_example("routing.py") as srv:
        yield srv


def test_index_rule(server):
    r = httpx.get(server.url + "/")
    assert (r.status_code, r.text) == (200, "hello")


def test_initialize_receives_the_rule_kwargs(server):
    r = httpx.get(server.url + "/show")
    assert r.status_code == 200
    assert r.text == "这是一个字典"
    assert r.content == "这是一个字典".encode()
    assert r.headers["content-type"] == "text/html; charset=UTF-8"


def test_reverse_url_gives_the_path_of_the_named_rule(server):
    r = httpx.get(server.url + "/cc")
    assert (r.status_code, r.text) == (200, "/cc")


def test_patterns_are_anchored(server):
    assert httpx.get(server.url + "/show/more").status_code == 404
    assert httpx.get(server.url + "/xshow").status_code == 404
    assert httpx.get(server.url + "/ccc").status_code == 404


def test_default_port_comes_from_config_module(examples_copy, launcher, get_free_port):
    # http_server.listen(config.port): with no --port, the port of config.py is used.
    port = get_free_port()
    (examples_copy / "config.py").write_text(f"port = {port}\n")
    with launcher.running_example(
        examples_copy / "routing.py", [], port=port, port_arg=False
    ) as srv:
        assert httpx.get(srv.url + "/cc").text == "/cc"
