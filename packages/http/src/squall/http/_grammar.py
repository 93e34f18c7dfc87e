"""The HTTP/1.1 request grammar (RFC 9112) as compiled regexes, and the head checks.

Used by the parser (``_parser.py``): ``parse_request_line``-style helpers and
``analyze_block``, which validates a whole header block in one regex pass and derives the
framing (Content-Length / chunked), the Connection tokens and Expect. Pure functions of
their input, so their results are memoized (bounded) for the values clients repeat.

Each check names the attack it stops: obs-fold, bare CR/LF, NUL and non-token names
(request smuggling through lenient proxies); Content-Length that is not plain decimal or
is repeated, Transfer-Encoding that is not exactly ``chunked`` or comes with a
Content-Length (CL.TE / TE.CL desync); a missing, repeated or malformed Host; chunk lines
outside the chunk-ext grammar and trailers that would steer framing or routing.
"""

from __future__ import annotations

import re
from typing import Final

from squall.http._errors import RemoteProtocolError
from squall.http._headers import HTTPHeaders

__all__ = [
    "HTTP10",
    "HTTP11",
    "analyze_block",
    "chunk_line_error",
    "pri_error",
    "request_line_error",
]

HTTP10: Final = "HTTP/1.0"
HTTP11: Final = "HTTP/1.1"

TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# request-line = method SP request-target SP HTTP-version (RFC 9112 §3). The target holds
# no whitespace or control characters; the version is checked apart to answer 505.
REQUEST_LINE_RE: Final = re.compile(rf"({TOKEN}) ([^\x00-\x20\x7f]+) (HTTP/[0-9]+\.[0-9]+)")
LOOSE_VERSION_RE: Final = re.compile(r"HTTP/[0-9]+(?:\.[0-9]+)?")
# field-line = field-name ":" OWS field-value OWS, each line ending in CRLF (RFC 9112 §5).
# One findall both validates and splits a block: each match is anchored at a line start
# (``^`` after LF) and contains exactly one LF (its CRLF), so the block is valid iff the
# number of matches equals the number of LFs. A line that starts with whitespace (obs-fold)
# cannot match the leading token; CR, LF, NUL and other controls are outside the value
# class. The value group starts and ends on a visible character, so OWS is stripped by the
# regex itself (no lazy quantifier: it costs 3x on long values).
VCHAR: Final = r"[\x21-\x7e\x80-\xff]"
HEADER_LINE_RE: Final = re.compile(
    rf"(?m)^({TOKEN}):[ \t]*({VCHAR}(?:[\t\x20-\x7e\x80-\xff]*{VCHAR})?|)[ \t]*\r\n"
)
# Host: reg-name / IPv4 / [IPv6] with optional port; no comma, space or userinfo.
HOST_RE: Final = re.compile(
    r"[A-Za-z0-9\-._~!$&'()*+;=%]*(?::[0-9]*)?|\[[0-9A-Fa-f:.]+\](?::[0-9]*)?"
)
# chunk-size [ chunk-ext ] (RFC 9112 §7.1.1): chunk-ext = *( BWS ";" BWS ext-name
# [ BWS "=" BWS ext-value ] ), ext-value = token / quoted-string. Whitespace only where BWS
# allows it (never after the size alone, never at the end), no empty extension (``2;``), a
# quoted-string closed: a front proxy that reads these lines more loosely than we do would
# otherwise see other chunk boundaries (request smuggling). Token and quote characters never
# overlap whitespace, ";" or "=", so the regex cannot backtrack badly.
_BTOKEN: Final = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED: Final = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
CHUNK_LINE_RE: Final = re.compile(
    rb"([0-9A-Fa-f]+)(?:[ \t]*;[ \t]*"
    + _BTOKEN
    + rb"(?:[ \t]*=[ \t]*(?:"
    + _BTOKEN
    + rb"|"
    + _QUOTED
    + rb"))?)*"
)
# An LF that no CR precedes (RFC 9112 §2.2 lets a server refuse it; squall does, always).
BARE_LF_RE: Final = re.compile(rb"(?<!\r)\n")

# Fields that steer framing or routing cannot be trailers (RFC 9110 §6.5.1): a trailer
# section holding one of them is refused, as llhttp does, so no component downstream that
# merges trailers into the head can be made to re-frame the message.
FORBIDDEN_TRAILERS: Final = frozenset(
    ("content-length", "transfer-encoding", "connection", "host", "te", "trailer")
)
TOKEN_CHARS: Final = frozenset(
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
MAX_CONTENT_LENGTH_DIGITS: Final = 18  # fits in an int64: no bignum work for hostile input


# Bounded memos of pure functions of the input. A server sees the same few request lines
# ("GET / HTTP/1.1") and the same Host value over and over; remembering that they were
# valid skips a regex per request. Cleared wholesale when full, so a client sending
# distinct values cannot grow them.
MEMO_SIZE: Final = 512
LINE_MEMO: dict[str, tuple[str, str, str, bool]] = {}
GOOD_HOSTS: set[str] = set()


_ABSOLUTE_FORM_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _other_target_form(method: str, target: str) -> str:
    """A request target that is not origin-form (RFC 9112 §3.2), or a 400.

    absolute-form (``http://host/p?q``, which a server must accept) becomes its origin-form
    (``/p?q``), so it is routed like the same request sent the usual way; asterisk-form
    (``*``) is kept for OPTIONS, authority-form (``host:port``) for CONNECT; anything else
    (``GET foo``) is refused rather than handed to routing as a path that cannot exist.
    """
    m = _ABSOLUTE_FORM_RE.match(target)
    if m is not None:
        rest = target[m.end() :]
        return rest if rest.startswith("/") else "/" + rest
    if (target == "*" and method == "OPTIONS") or method == "CONNECT":
        return target
    raise RemoteProtocolError(f"request target {target[:40]!r} is not a path starting with '/'")


def parse_request_line(line: str) -> tuple[str, str, str, bool]:
    """Split a request line into method, target, version and "is HTTP/1.1" (or raise)."""
    m = REQUEST_LINE_RE.fullmatch(line)
    if m is None:
        raise request_line_error(line)
    method, target, version = m.groups()
    if method == "PRI":
        raise pri_error(line)
    # The version is judged before the target, as the parser does when it checks a request
    # line that arrived ahead of its head: the verdict must not depend on packet boundaries.
    if version != HTTP11 and version != HTTP10:
        raise RemoteProtocolError(f"unsupported HTTP version {version[:20]!r}", 505)
    if target[0] != "/":
        target = _other_target_form(method, target)
    if version == HTTP11:
        return method, target, HTTP11, True
    return method, target, HTTP10, False


MEMO_BLOCK_MAX: Final = 4096
# Header block → its analysis. Clients on keep-alive connections (API clients, proxies,
# health checks, browsers fetching subresources) repeat the very same header block; a hit
# costs one dict lookup and one dict copy instead of a regex pass and a Python loop. Only
# blocks without repeated names are kept (their HTTPHeaders is then just a dict).
BLOCK_MEMO: dict[str, tuple[dict[str, str], bool, bool, int, bool, bool, bool, int]] = {}


def analyze_block(
    block: str,
) -> tuple[HTTPHeaders, tuple[dict[str, str], bool, bool, int, bool, bool, bool, int]]:
    """Validate and digest a header block (every line ending in CRLF).

    Returns the headers and ``(dict copy, host missing, chunked, content length,
    Connection: close, Connection: keep-alive, Expect: 100-continue, line count)``.
    """
    if block:
        pairs = HEADER_LINE_RE.findall(block)
        if len(pairs) != block.count("\n"):
            raise header_block_error(block)
        headers = HTTPHeaders._from_pairs(pairs)
    else:
        pairs = []
        headers = HTTPHeaders._from_pairs(())
    d = headers._dict
    multi = headers._multi

    host = d.get("Host")
    if host is not None and (host not in GOOD_HOSTS or multi is not None):
        if (multi is not None and "Host" in multi) or HOST_RE.fullmatch(host) is None:
            raise RemoteProtocolError(f"invalid or repeated Host header {host[:60]!r}")
        if len(GOOD_HOSTS) >= MEMO_SIZE:
            GOOD_HOSTS.clear()
        GOOD_HOSTS.add(host)

    chunked = False
    length = 0
    te = d.get("Transfer-Encoding")
    cl = d.get("Content-Length")
    if te is not None:
        if cl is not None:
            raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
        if multi is not None and "Transfer-Encoding" in multi:
            raise RemoteProtocolError("repeated Transfer-Encoding header")
        if te.lower() != "chunked":
            raise RemoteProtocolError(f"unsupported Transfer-Encoding {te[:40]!r}")
        chunked = True
    elif cl is not None:
        if multi is not None and "Content-Length" in multi:
            # Refused even when the values agree (RFC 9112 §6.3 allows it; nginx and llhttp
            # do): a proxy that keeps only one of them must never be what decides framing.
            raise RemoteProtocolError("repeated Content-Length header")
        if not (cl.isdigit() and cl.isascii()) or len(cl) > MAX_CONTENT_LENGTH_DIGITS:
            raise RemoteProtocolError(f"invalid Content-Length {cl[:40]!r}")
        length = int(cl)

    close = keep = False
    if "Connection" in d:
        tokens = connection_tokens(headers)
        close = "close" in tokens
        keep = "keep-alive" in tokens
    expect = d.get("Expect")
    expect100 = expect is not None and expect.lower() == "100-continue"
    info = (dict(d), host is None, chunked, length, close, keep, expect100, len(pairs))
    return headers, info


def connection_tokens(headers: HTTPHeaders) -> set[str]:
    """The lower-cased tokens of every Connection header."""
    tokens: set[str] = set()
    for value in headers.get_list("Connection"):
        for tok in value.lower().split(","):
            tokens.add(tok.strip(" \t"))
    return tokens


def header_block_error(block: str) -> RemoteProtocolError:
    """Explain why a header block failed the fast regex (slow path: errors only).

    The message names the first line that is itself bad (valid lines before it are
    skipped), so the warning logged for it points at the offending field.
    """
    for line in block.split("\r\n"):
        if not line or HEADER_LINE_RE.fullmatch(line + "\r\n") is not None:
            continue
        if line[0] in " \t":
            return RemoteProtocolError(f"obsolete line folding (obs-fold): {line[:60]!r}")
        if "\x00" in line:
            return RemoteProtocolError(f"NUL in header line {line[:60]!r}")
        if "\r" in line or "\n" in line:
            return RemoteProtocolError(f"bare CR or LF in header line {line[:60]!r}")
        name, sep, value = line.partition(":")
        if not sep:
            return RemoteProtocolError(f"header line without a colon: {line[:60]!r}")
        if not name or not re.fullmatch(TOKEN, name):
            return RemoteProtocolError(f"header name is not a token: {name[:60]!r}")
        bad = next((c for c in value if not ("\x20" <= c != "\x7f" or c == "\t")), "?")
        return RemoteProtocolError(f"invalid character {bad!r} in header {name[:60]!r}")
    return RemoteProtocolError("malformed header block")


def chunk_line_error(line: bytes) -> RemoteProtocolError:
    """Explain why a chunk-size line failed ``CHUNK_LINE_RE`` (slow path: errors only)."""
    size = re.match(rb"[0-9A-Fa-f]*", line)
    rest = line[size.end() :] if size is not None else line
    quoted = escaped = False
    for c in rest:
        if quoted:
            if escaped:
                escaped = False
            elif c == 0x5C:
                escaped = True
            elif c == 0x22:
                quoted = False
        elif c == 0x22:
            quoted = True
    if size is None or not size.group():
        why = "chunk size is not hexadecimal"
    elif not rest.strip(b" \t"):
        why = "whitespace after the chunk size"
    elif quoted:
        why = "unbalanced quote in chunk extension"
    elif re.search(rb";[ \t]*(?:;|=|$)", rest):
        why = "empty chunk extension"
    else:
        why = "malformed chunk extension"
    return RemoteProtocolError(f"{why}: {bytes(line[:40])!r}")


PREFACE_LINE: Final = "PRI * HTTP/2.0"


def pri_error(line: str) -> RemoteProtocolError:
    """The answer to the HTTP/2 connection preface, or to the PRI method over HTTP/1.x.

    ``PRI`` exists only to start the HTTP/2 preface (RFC 9113 §3.4): an HTTP/2 client with
    prior knowledge gets 505 (the version it speaks is not served here); ``PRI`` with an
    HTTP/1.x version is a malformed request (400). Neither reaches the application.
    """
    if line == PREFACE_LINE:
        return RemoteProtocolError("HTTP/2 connection preface: this server speaks HTTP/1.x", 505)
    return RemoteProtocolError(f"PRI is reserved for the HTTP/2 preface: {line[:80]!r}")


def request_line_error(line: str) -> RemoteProtocolError:
    """The error for a request line that failed the grammar: 505 for a bad version, else 400."""
    parts = line.split(" ")
    if parts[0] == "PRI":
        return pri_error(line)
    if len(parts) == 3 and parts[0] and parts[1] and LOOSE_VERSION_RE.fullmatch(parts[2]):
        if re.fullmatch(TOKEN, parts[0]) and parts[2] not in (HTTP10, HTTP11):
            return RemoteProtocolError(f"unsupported HTTP version {parts[2]!r}", 505)
    return RemoteProtocolError(f"malformed request line {line[:80]!r}")
