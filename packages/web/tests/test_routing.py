"""Routing: anchored patterns, groups, percent-decoding, hosts, reverse_url, the index."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squall.web import Application, ConfigurationError, RequestHandler, URLSpec, url
from squall.web._routing import Router, first_segment, literal_prefix


class Echo(RequestHandler):
    def get(self, *args: str, **kwargs: str) -> None:
        self.write({"args": list(args), "kwargs": kwargs, "cls": type(self).__name__})


class Other(Echo):
    pass


class AllMethods(RequestHandler):
    def get(self) -> None:
        self.write("get")

    def post(self) -> None:
        self.write("post")

    def put(self) -> None:
        self.write("put")

    def patch(self) -> None:
        self.write("patch")

    def delete(self) -> None:
        self.write("delete")

    def options(self) -> None:
        self.set_header("Allow", "GET, POST")
        self.set_status(204)


class HeadToo(RequestHandler):
    def get(self) -> None:
        self.set_header("X-Method", self.request.method)
        self.write("body of get")


class GetOnly(RequestHandler):
    def get(self) -> None:
        self.write("x")


# -- literal prefixes (unit) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/show/(.+)", ("/show/", False)),
        ("/about", ("/about", True)),
        ("/about$", ("/about", True)),
        ("^/about$", ("/about", True)),
        ("/ab?", ("/a", False)),
        ("/ab*", ("/a", False)),
        ("/ab+", ("/ab", False)),
        ("/a\\.b", ("/a.b", True)),
        ("/a\\d", ("/a", False)),
        ("/a|/b", ("", False)),
        ("(?i)/a", ("", False)),
        ("/(.*)", ("/", False)),
        ("/x[yz]", ("/x", False)),
        ("/x/(a|b)/c", ("/x/", False)),
    ],
)
def test_literal_prefix_of_patterns(pattern: str, expected: tuple[str, bool]) -> None:
    assert literal_prefix(pattern) == expected


def test_first_segment_of_paths() -> None:
    assert first_segment("/show/a/b") == "show"
    assert first_segment("/show") == "show"
    assert first_segment("/") == ""


def _linear_find(specs: list[URLSpec], path: str) -> URLSpec | None:
    for spec in specs:
        if spec.regex.fullmatch(path):
            return spec
    return None


_PATTERNS = [
    "/",
    "/a",
    "/a/",
    "/a/(.*)",
    "/a/b",
    "/(.*)",
    "/b/([0-9]+)",
    "/b/x",
    "/ab?",
    "/c|/d",
    "/a/b$",
    "/(?P<n>[a-z]+)/z",
    "/b/(.+)/c",
    "(?i)/A",
]
_PATHS = [
    "/",
    "/a",
    "/a/",
    "/a/b",
    "/a/bc",
    "/b/1",
    "/b/x",
    "/ab",
    "/c",
    "/d",
    "/q/z",
    "/b/q/c",
    "/A",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PATTERNS), max_size=12), st.sampled_from(_PATHS))
def test_index_finds_the_same_rule_as_a_linear_scan(patterns: list[str], path: str) -> None:
    specs = [URLSpec(p, Echo) for p in patterns]
    router = Router(specs)
    found = router.find(path)
    expected = _linear_find(specs, path)
    assert (found[0] if found else None) is expected


def test_a_thousand_static_prefix_routes_are_not_all_tried() -> None:
    calls = 0

    class CountingPattern:
        """Wraps a compiled pattern to count fullmatch calls."""

        def __init__(self, regex: re.Pattern[str]) -> None:
            self.regex = regex

        def fullmatch(self, path: str) -> Any:
            nonlocal calls
            calls += 1
            return self.regex.fullmatch(path)

    specs = [URLSpec(rf"/route{i}/(\d+)", Echo) for i in range(1000)]
    router = Router(specs)
    for spec in specs:
        spec.regex = CountingPattern(spec.regex)  # type: ignore[assignment]
    found = router.find("/route999/42")
    assert found is not None and found[0] is specs[999]
    assert calls == 1


def test_exact_literal_rule_after_a_matching_wildcard_loses() -> None:
    first = URLSpec("/(.*)", Echo)
    second = URLSpec("/about", Other)
    found = Router([first, second]).find("/about")
    assert found is not None and found[0] is first


# -- over a server ------------------------------------------------------------------------


@pytest.fixture
def app() -> Application:
    return Application(
        [
            (r"/named/(?P<first>[^/]+)/(?P<second>.+)", Echo),
            (r"/unnamed/([^/]+)/(.+)", Echo),
            (r"/exact", Other),
            (r"/all", AllMethods),
            (r"/head", HeadToo),
            (r"/getonly", GetOnly),
            url(r"/user/([0-9]+)/(.+)", Echo, name="user"),
            url(r"/", Other, name="root"),
        ]
    )


def test_named_groups_become_keyword_arguments(squall_client: httpx.Client) -> None:
    assert squall_client.get("/named/a/b/c").json()["kwargs"] == {"first": "a", "second": "b/c"}


def test_unnamed_groups_become_positional_arguments(squall_client: httpx.Client) -> None:
    assert squall_client.get("/unnamed/a/b").json()["args"] == ["a", "b"]


def test_groups_are_percent_decoded_and_plus_is_kept(squall_client: httpx.Client) -> None:
    r = squall_client.get("/unnamed/%E5%B0%8F%2F/a+b%20c")
    assert r.json()["args"] == ["小/", "a+b c"]


def test_bad_utf8_in_path_is_400_not_500(squall_client: httpx.Client) -> None:
    r = squall_client.get("/unnamed/%FF/x")
    assert r.status_code == 400
    assert "Invalid UTF-8" in r.text


def test_patterns_are_anchored_at_both_ends(squall_client: httpx.Client) -> None:
    assert squall_client.get("/exact").status_code == 200
    assert squall_client.get("/exactly").status_code == 404
    assert squall_client.get("/x/exact").status_code == 404


def test_no_route_is_404_with_the_default_page(squall_client: httpx.Client) -> None:
    r = squall_client.get("/nowhere")
    assert r.status_code == 404
    assert r.text == "<html><title>404: Not Found</title><body>404: Not Found</body></html>"


def test_undefined_method_is_405_with_allow(squall_client: httpx.Client) -> None:
    r = squall_client.post("/getonly")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"


def test_unknown_method_is_405(squall_client: httpx.Client) -> None:
    r = squall_client.request("PROPFIND", "/getonly")
    assert r.status_code == 405


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_method_is_dispatched(squall_client: httpx.Client, method: str) -> None:
    r = squall_client.request(method, "/all", content=b"x" if method != "GET" else None)
    assert r.status_code == 200
    assert r.text == method.lower()


def test_options_is_dispatched(squall_client: httpx.Client) -> None:
    r = squall_client.options("/all")
    assert r.status_code == 204
    assert r.headers["allow"] == "GET, POST"


def test_head_is_answered_from_get_without_body(squall_client: httpx.Client) -> None:
    r = squall_client.head("/head")
    assert r.status_code == 200
    assert r.headers["x-method"] == "HEAD"
    assert r.headers["content-length"] == str(len("body of get"))
    assert r.content == b""


def test_reverse_url_fills_and_quotes(app: Application) -> None:
    assert app.reverse_url("user", 42, "a b/c") == "/user/42/a%20b/c"
    assert app.reverse_url("root") == "/"


def test_reverse_url_unknown_name_is_a_key_error_naming_it(app: Application) -> None:
    with pytest.raises(KeyError, match="nobody"):
        app.reverse_url("nobody")


def test_reverse_url_with_wrong_argument_count(app: Application) -> None:
    with pytest.raises(ValueError, match="needs 2"):
        app.reverse_url("user", 1)


def test_rules_accept_precompiled_patterns_and_urlspec(squall_live_server: Any) -> None:
    app = Application([URLSpec(re.compile(r"/p/(\d+)"), Echo), (r"/t", Other, {})])
    server = squall_live_server(app)
    assert httpx.get(server.url + "/p/7").json()["args"] == ["7"]
    assert httpx.get(server.url + "/t").status_code == 200


def test_url_is_the_rule_class_so_rules_can_be_recognised_and_rebuilt(
    squall_live_server: Any,
) -> None:
    # Tornado apps test isinstance(rule, url) to rebuild their rules under a prefix.
    rules: list[Any] = [url(r"/p/(\d+)", Echo, {}, name="p"), (r"/t", Other)]
    rebuilt = [
        url("/pre" + r.regex.pattern, r.handler_class, r.kwargs, r.name)
        if isinstance(r, url)
        else ("/pre" + r[0], r[1])
        for r in rules
    ]
    assert isinstance(rebuilt[0], URLSpec)
    app = Application(rebuilt)
    server = squall_live_server(app)
    assert httpx.get(server.url + "/pre/p/7").json()["args"] == ["7"]
    assert httpx.get(server.url + "/pre/t").status_code == 200
    assert app.reverse_url("p", 8) == "/pre/p/8"


def test_rules_read_as_tornados_regex_with_dollar_target_and_target_kwargs() -> None:
    # Tornado compiles a string pattern with a final "$" and names the handler and its
    # kwargs target / target_kwargs; tornado-swagger builds its paths from both.
    spec = url(r"/pets/([^/]+)", Echo, {"a": 1})
    assert spec.regex.pattern == r"/pets/([^/]+)$"
    assert spec.regex.pattern[:-1] == spec.pattern == r"/pets/([^/]+)"
    assert url(r"/x$", Echo).regex.pattern == r"/x$"
    compiled = re.compile(r"/c/(\d+)")
    assert url(compiled, Echo).regex is compiled  # a compiled pattern is kept, as in Tornado
    assert (spec.target, spec.target_kwargs) == (Echo, {"a": 1})


def test_first_matching_rule_wins(squall_live_server: Any) -> None:
    app = Application([(r"/(.*)", Echo), (r"/exact", Other)])
    server = squall_live_server(app)
    assert httpx.get(server.url + "/exact").json()["cls"] == "Echo"


def test_add_handlers_routes_by_host(squall_live_server: Any) -> None:
    app = Application([(r"/", Echo)])
    app.add_handlers(r"www\.example\.com", [(r"/", Other)])
    server = squall_live_server(app)
    assert httpx.get(server.url + "/", headers={"Host": "www.example.com"}).json()["cls"] == "Other"
    assert httpx.get(server.url + "/", headers={"Host": "other.org"}).json()["cls"] == "Echo"


def test_default_host_answers_unknown_hosts(squall_live_server: Any) -> None:
    app = Application([], default_host="main.example")
    app.add_handlers(r"main\.example", [(r"/", Other)])
    server = squall_live_server(app)
    assert httpx.get(server.url + "/", headers={"Host": "unknown.org"}).json()["cls"] == "Other"


def test_default_handler_class_setting(squall_live_server: Any) -> None:
    class Fallback(RequestHandler):
        def initialize(self, word: str) -> None:
            self.word = word

        def get(self) -> None:
            self.set_status(404)
            self.write(self.word)

    app = Application([], default_handler_class=Fallback, default_handler_args={"word": "gone"})
    server = squall_live_server(app)
    r = httpx.get(server.url + "/x")
    assert (r.status_code, r.text) == (404, "gone")


def test_a_bad_rule_fails_at_construction() -> None:
    from squall.web import ConfigurationError

    with pytest.raises(ConfigurationError):
        Application([(r"/", object)])
    with pytest.raises(ConfigurationError):
        Application([(r"/(", Echo)])
    with pytest.raises(ConfigurationError):
        Application([("/only-a-pattern",)])


def test_404_is_answered_before_a_large_body_is_read(squall_server: Any) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", squall_server.port), timeout=5) as s:
        s.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
        data = s.recv(65536)  # no body sent at all: the answer cannot have waited for it
    assert data.startswith(b"HTTP/1.1 404 Not Found\r\n")


class NamedByString(RequestHandler):
    def get(self) -> None:
        self.write("found by name")


def test_a_rule_may_name_its_handler_as_module_dot_class(squall_live_server: Any) -> None:
    # Tornado imports a handler given as its full name ("myapp.handlers.Main").
    app = Application(
        [
            (r"/by-name", f"{__name__}.NamedByString"),
            url(r"/teapot", "squall.web.ErrorHandler", {"status_code": 418}, name="teapot"),
        ]
    )
    server = squall_live_server(app)
    assert httpx.get(server.url + "/by-name").text == "found by name"
    assert httpx.get(server.url + "/teapot").status_code == 418
    assert app.reverse_url("teapot") == "/teapot"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("NoDot", "give the full name, as module.ClassName"),
        ("squall.no_such_module.Handler", "No module named 'squall.no_such_module'"),
        ("squall.web.NoSuchHandler", "module 'squall.web' has no 'NoSuchHandler'"),
    ],
)
def test_a_handler_name_that_cannot_be_imported_is_refused_naming_it(name: str, why: str) -> None:
    with pytest.raises(ConfigurationError, match=f"handler '{name}' cannot be imported: {why}"):
        Application([(r"/", name)])


def test_a_rule_whose_handler_name_cannot_be_imported_raises_an_import_error() -> None:
    # As Tornado's import of a named handler; also a TypeError, as any rule with no handler.
    from squall.web import HandlerImportError, URLSpec

    with pytest.raises(ImportError, match="squall.web.NoSuchHandler") as info:
        URLSpec("/", "squall.web.NoSuchHandler")
    assert isinstance(info.value, HandlerImportError) and isinstance(info.value, TypeError)
