"""``main()``: fetch URLs from the command line (``python -m squall.httpclient URL...``).

Tornado's ``tornado.httpclient`` command with its flags (``--print_headers``,
``--print_body``, ``--follow_redirects``, ``--validate_cert``, ``--proxy_host``,
``--proxy_port``; booleans as ``--flag``, ``--flag=true`` or ``--flag=false``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from squall.httpclient._client import HTTPClient
from squall.httpclient._errors import HTTPClientError

__all__ = ["main"]


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


_FLAGS = {
    "print_headers": False,
    "print_body": True,
    "follow_redirects": True,
    "validate_cert": True,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m squall.httpclient", description="Fetch URLs and print what comes back."
    )
    for name, default in _FLAGS.items():
        parser.add_argument(f"--{name}", type=_bool, default=default)
    parser.add_argument("--proxy_host")
    parser.add_argument("--proxy_port", type=int)
    parser.add_argument("urls", nargs="*", metavar="URL")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Fetch each URL given and print its headers and/or body (Tornado's command).

    A non-2xx answer is printed like any other; a fetch without an answer raises.
    """
    given = list(sys.argv[1:] if argv is None else argv)
    # As tornado.options: a bare boolean flag means true; a value needs "=".
    given = [f"{a}=true" if a.startswith("--") and a[2:] in _FLAGS else a for a in given]
    args = _parser().parse_args(given)
    client = HTTPClient()
    try:
        for url in args.urls:
            try:
                response = client.fetch(
                    url,
                    follow_redirects=args.follow_redirects,
                    validate_cert=args.validate_cert,
                    proxy_host=args.proxy_host,
                    proxy_port=args.proxy_port,
                )
            except HTTPClientError as e:
                if e.response is None:
                    raise
                response = e.response
            if args.print_headers:
                print(response.headers)
            if args.print_body:
                print(response.body.decode("utf-8", errors="replace"))
    finally:
        client.close()
