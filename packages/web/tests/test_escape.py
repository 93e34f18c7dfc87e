"""squall.web.escape gives what tornado.escape gives, on a table and on generated inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from squall.web import escape
from squall.web._error_handling import escape_html
from squall.web._jsonencode import json_encode as web_json_encode

tornado_escape = pytest.importorskip("tornado.escape")

# Text without lone surrogates (neither side can encode those as UTF-8).
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]))

HTML_CASES = [
    "",
    "plain",
    "<script>alert('x')</script>",
    'a "quoted" & <b>bold</b>',
    "&amp; already escaped",
    "é ünïcödé 中文 🐍",
    "\x00\x1f\x7f",
]


@pytest.mark.parametrize("value", HTML_CASES + [c.encode("utf-8") for c in HTML_CASES])
def test_xhtml_escape_matches_tornado(value: str | bytes) -> None:
    assert escape.xhtml_escape(value) == tornado_escape.xhtml_escape(value)


@pytest.mark.parametrize(
    "value",
    [
        "&lt;a&gt;",
        "&amp;amp;",
        "&#39;&#x27;&quot;",
        "&eacute;&nbsp;&copy",
        "&#0;&#128;&#x110000;",
        "&unknown; & alone",
        b"&lt;bytes&gt;",
    ],
)
def test_xhtml_unescape_matches_tornado(value: str | bytes) -> None:
    assert escape.xhtml_unescape(value) == tornado_escape.xhtml_unescape(value)


def test_web_has_one_html_escape_and_one_json_encode() -> None:
    # Reused, not rewritten: error pages and write(dict) use the same functions.
    assert escape.json_encode is web_json_encode
    assert escape.xhtml_escape("<'&\">") == escape_html("<'&\">")


@given(TEXT)
def test_xhtml_escape_matches_tornado_and_round_trips(value: str) -> None:
    escaped = escape.xhtml_escape(value)
    assert escaped == tornado_escape.xhtml_escape(value)
    assert escape.xhtml_unescape(escaped) == value


@given(TEXT)
def test_xhtml_unescape_matches_tornado_on_any_text(value: str) -> None:
    assert escape.xhtml_unescape(value) == tornado_escape.xhtml_unescape(value)


# -- URLs -------------------------------------------------------------------------------

URL_CASES = ["", "a b", "a+b", "a/b?c=d&e=f#g", "100%", "é/中", "~-._", b"raw \xff bytes"]


@pytest.mark.parametrize("plus", [True, False])
@pytest.mark.parametrize("value", URL_CASES)
def test_url_escape_matches_tornado(value: str | bytes, plus: bool) -> None:
    assert escape.url_escape(value, plus=plus) == tornado_escape.url_escape(value, plus=plus)


UNESCAPE_CASES = ["", "a+b", "a%20b", "%2B%2b", "%", "%zz%4", "%C3%A9", "%FF", "é+%E4%B8%AD"]


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", None])
@pytest.mark.parametrize("plus", [True, False])
@pytest.mark.parametrize("value", UNESCAPE_CASES + [c.encode("utf-8") for c in UNESCAPE_CASES])
def test_url_unescape_matches_tornado(value: str | bytes, plus: bool, encoding: str | None) -> None:
    ours = escape.url_unescape(value, encoding=encoding, plus=plus)
    assert ours == tornado_escape.url_unescape(value, encoding=encoding, plus=plus)
    assert isinstance(ours, bytes if encoding is None else str)


@given(TEXT, st.booleans())
def test_url_escape_matches_tornado_and_round_trips(value: str, plus: bool) -> None:
    escaped = escape.url_escape(value, plus=plus)
    assert escaped == tornado_escape.url_escape(value, plus=plus)
    assert escape.url_unescape(escaped, plus=plus) == value


URL_PIECES = st.sampled_from(["%", "%2", "%2B", "%e9", "%C3%A9", "+", " ", "a", "é", "%%", "=&"])


@given(st.lists(URL_PIECES | TEXT, max_size=8).map("".join), st.booleans())
def test_url_unescape_matches_tornado_on_generated_escapes(value: str, plus: bool) -> None:
    for encoding in ("utf-8", None):
        assert escape.url_unescape(value, encoding=encoding, plus=plus) == (
            tornado_escape.url_unescape(value, encoding=encoding, plus=plus)
        )


# -- JSON -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize(
    "value",
    [{"a": "</script><script>x()</script>"}, ["</", "<\\/"], "é", 1.5, None, {"k": [1, {}]}],
)
def test_json_encode_matches_tornado_and_escapes_closing_tags(value: Any) -> None:
    encoded = escape.json_encode(value)
    assert encoded == tornado_escape.json_encode(value)
    assert "</" not in encoded
    assert escape.json_decode(encoded) == value
    assert escape.json_decode(encoded.encode("utf-8")) == value


@given(JSON_VALUES)
def test_json_encode_and_decode_match_tornado(value: Any) -> None:
    encoded = escape.json_encode(value)
    assert encoded == tornado_escape.json_encode(value)
    assert escape.json_decode(encoded) == tornado_escape.json_decode(encoded)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), {"x": [float("-inf")]}, {1: "int key", None: 2}]
)
def test_json_encode_writes_what_json_dumps_writes_for_odd_values(value: Any) -> None:
    assert escape.json_encode(value) == json.dumps(value)


def test_json_encode_refuses_a_cycle_as_json_dumps_does() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference detected"):
        json.dumps({"a": cycle})
    with pytest.raises(ValueError, match="Circular reference detected"):
        escape.json_encode({"a": cycle})
    # The same object twice is no cycle.
    shared = {"k": 1}
    assert escape.json_encode({"a": shared, "b": shared}) == json.dumps({"a": shared, "b": shared})


def test_json_encode_refuses_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        escape.json_encode({"a": object()})
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):
        escape.json_encode(deep)


def test_json_decode_refuses_what_is_not_json() -> None:
    with pytest.raises(ValueError):
        escape.json_decode("{nope")


# -- whitespace and str/bytes -----------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["", "  a  b  ", "a\t\n\r\x0bb", "\x00x\x1fy\x20z", "keep\xa0nbsp", " \u2003em "]
)
def test_squeeze_matches_tornado(value: str) -> None:
    assert escape.squeeze(value) == tornado_escape.squeeze(value)


@given(TEXT)
def test_squeeze_matches_tornado_on_any_text(value: str) -> None:
    assert escape.squeeze(value) == tornado_escape.squeeze(value)


@pytest.mark.parametrize("value", ["", "é", b"", b"\xc3\xa9", None])
def test_utf8_and_to_unicode_match_tornado(value: str | bytes | None) -> None:
    assert escape.utf8(value) == tornado_escape.utf8(value)
    assert escape.to_unicode(value) == tornado_escape.to_unicode(value)
    assert escape.native_str(value) == tornado_escape.native_str(value)
    assert escape.to_basestring(value) == tornado_escape.to_basestring(value)


@pytest.mark.parametrize("function", ["utf8", "to_unicode"])
@pytest.mark.parametrize("value", [1, 1.5, ["a"], bytearray(b"a")])
def test_utf8_and_to_unicode_refuse_other_types(function: str, value: Any) -> None:
    with pytest.raises(TypeError, match="Expected bytes, unicode, or None"):
        getattr(escape, function)(value)
    with pytest.raises(TypeError):
        getattr(tornado_escape, function)(value)


def test_to_unicode_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        escape.to_unicode(b"\xff")


@pytest.mark.parametrize(
    "value",
    [
        {b"k": [b"a", (b"b", "c", 1)], "s": {b"n": None}},
        [b"x", [b"y"]],
        (b"t",),
        b"\xc3\xa9",
        3,
        {1, 2},  # a set is left as it is, bytes inside and all
    ],
)
def test_recursive_unicode_matches_tornado(value: Any) -> None:
    ours = escape.recursive_unicode(value)
    assert ours == tornado_escape.recursive_unicode(value)
    assert type(ours) is type(value) or isinstance(value, bytes)


# -- parse_qs_bytes ---------------------------------------------------------------------

QS_CASES = ["", "a=1", "a=1&a=2&b=", "a&b=&c=3", "&&a=1&&", "a+b=c+d", "x=%41%2B%zz", "k=%FF"]


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("qs", QS_CASES + [c.encode() for c in QS_CASES])
def test_parse_qs_bytes_matches_tornado(qs: str | bytes, keep: bool) -> None:
    ours = escape.parse_qs_bytes(qs, keep_blank_values=keep)
    assert ours == tornado_escape.parse_qs_bytes(qs, keep_blank_values=keep)


QS_PIECES = st.sampled_from(["a", "b", "=", "&", "+", "%41", "%2F", "%", "%zz", "%FF", "1"])


@given(st.lists(QS_PIECES, max_size=12).map("".join), st.booleans())
def test_parse_qs_bytes_matches_tornado_on_ascii_names(qs: str, keep: bool) -> None:
    expected = tornado_escape.parse_qs_bytes(qs, keep_blank_values=keep)
    ours = escape.parse_qs_bytes(qs, keep_blank_values=keep)
    if all(name.isascii() for name in expected):
        assert ours == expected
    else:  # a %FF in a name: squall decodes names as UTF-8 (documented difference)
        assert list(ours.values()) == list(expected.values())


@pytest.mark.parametrize("qs", ["a=1&b", "a=1&&b=2", "&", "a"])
def test_parse_qs_bytes_strict_parsing_refuses_fields_without_a_value(qs: str) -> None:
    with pytest.raises(ValueError):
        tornado_escape.parse_qs_bytes(qs, strict_parsing=True)
    with pytest.raises(ValueError, match="bad query field"):
        escape.parse_qs_bytes(qs, strict_parsing=True)


@pytest.mark.parametrize("qs", ["a=1", "a=1&b=", b"a=%41&b=2"])
def test_parse_qs_bytes_strict_parsing_accepts_well_formed_fields(qs: str | bytes) -> None:
    ours = escape.parse_qs_bytes(qs, keep_blank_values=True, strict_parsing=True)
    assert ours == tornado_escape.parse_qs_bytes(qs, keep_blank_values=True, strict_parsing=True)


def test_parse_qs_bytes_max_num_fields_counts_like_tornado() -> None:
    assert escape.parse_qs_bytes("a=1&b=2", max_num_fields=2) == {"a": [b"1"], "b": [b"2"]}
    for qs in ("a=1&b=2&c=3", "a=1&&"):
        with pytest.raises(ValueError):
            tornado_escape.parse_qs_bytes(qs, max_num_fields=2)
        with pytest.raises(ValueError, match="Max number of fields"):
            escape.parse_qs_bytes(qs, max_num_fields=2)


# -- linkify ----------------------------------------------------------------------------

LINKIFY_CASES = [
    "Hello http://squall.dev!",
    "see www.example.com/path, then (http://en.wikipedia.org/wiki/Foo_(bar)).",
    "ftp://files.example.com/a and javascript:alert(1) and mailto:x@y.z",
    "http://example.com/?a=1&b=2&c=<3>",
    'quote "http://example.com/x" inside',
    "https://example.com/a/very/long/path/that/goes/on/and/on?with=query&and=more",
    "http://www.example.com/wpstyle/?p=364.",
    "http://a.b/c.d.e...................................... end",
    "http://userid:password@example.com:8080/",
    "http://example.com/a&amp;b&quot;c",
    "https://xn--ls8h.la/ http://✪df.ws/1234",
    "no links here, just text & <tags>",
    "www.a.b",
    "http:///triple.slash/x http://x",
    "https://example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "http://example.com/?q=aaaaaaaaaaaaaa&amp;bbbbbbbbbbbbbbbbbbbb",
    "http://example.com/&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&",
    # An "&" right at the clipping limit of shorten=True: index 26, then 25, of the text.
    "http://example.com/abcdefg&hijklmnopqrstuvwxyz0123456789",
    "http://example.com/abcdef&hijklmnopqrstuvwxyz0123456789",
    # A long host: host + first path segment is 44 characters, just under the hard cut.
    "http://aaaaaaaaaaaaaaaaaaaaaaaa.com/abcdefghijklmnop",
    "http://aaaaaaaaaaaaaaaaaaaaaaaaaa.com/abcdefghijklmnop",
    # Long, but clipping changes nothing / would not make it shorter: shown whole, no title.
    "http://aaaaaaaaaaaaaaaaaaaa.com/abc",
    "http://exampleX.com/abcdefghij",
    "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
    # Three slashes after the scheme count in the part shorten=True keeps whole.
    "file:///home/user/documents/reports/2024/annual-report-final.pdf",
    "http:///example.com/documents/reports/2024/annual-report-final.pdf",
]

LINKIFY_OPTIONS: list[dict[str, Any]] = [
    {},
    {"shorten": True},
    {"require_protocol": True},
    {"permitted_protocols": ["http", "ftp", "mailto"]},
    {"permitted_protocols": ["http", "file"], "shorten": True},
    {"extra_params": ' rel="nofollow" '},
    {"extra_params": lambda href: 'class="internal"' if "example" in href else " ext "},
    {"shorten": True, "extra_params": 'rel="nofollow"', "require_protocol": True},
]


@pytest.mark.parametrize("options", LINKIFY_OPTIONS)
@pytest.mark.parametrize("text", LINKIFY_CASES)
def test_linkify_matches_tornado(text: str, options: dict[str, Any]) -> None:
    assert escape.linkify(text, **options) == tornado_escape.linkify(text, **options)


def test_linkify_links_and_escapes() -> None:
    assert escape.linkify("Hi <b> http://squall.dev/x?a=1&b=2!") == (
        'Hi &lt;b&gt; <a href="http://squall.dev/x?a=1&amp;b=2">'
        "http://squall.dev/x?a=1&amp;b=2</a>!"
    )
    assert escape.linkify(b"www.squall.dev") == (
        '<a href="http://www.squall.dev">www.squall.dev</a>'
    )
    assert escape.linkify("javascript:alert(1)") == "javascript:alert(1)"


LINK_PIECES = st.sampled_from(
    [
        "http://",
        "https://",
        "ftp://",
        "javascript:",
        "www.",
        "example.com",
        "/",
        "/path",
        "?q=1",
        "&",
        "&amp;",
        '"',
        "(",
        ")",
        ".",
        ",",
        "!",
        " ",
        "\n",
        "<",
        "é",
        "a" * 25,
        "x",
        "-",
        ":",
    ]
)


@settings(max_examples=300)
@given(
    st.lists(LINK_PIECES | TEXT, max_size=14).map("".join),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["", 'rel="nofollow"']),
)
def test_linkify_matches_tornado_on_generated_text(
    text: str, shorten: bool, require_protocol: bool, extra_params: str
) -> None:
    options: dict[str, Any] = {
        "shorten": shorten,
        "require_protocol": require_protocol,
        "extra_params": extra_params,
    }
    assert escape.linkify(text, **options) == tornado_escape.linkify(text, **options)


def test_importing_squall_web_does_not_import_escape_or_html() -> None:
    # Start-up time: the escape module (and html's entity table) load only when asked for.
    code = (
        "import sys, squall.web; "
        "print('squall.web.escape' in sys.modules, 'html.entities' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
