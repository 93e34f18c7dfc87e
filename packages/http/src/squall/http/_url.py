"""``url_concat``: add query arguments to a URL (Tornado's ``httputil.url_concat``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["url_concat"]


def url_concat(
    url: str,
    args: Mapping[str, str] | Sequence[tuple[str, str]] | None,
) -> str:
    """Return ``url`` with ``args`` appended to its query string.

    ``args`` is a dict (one value per name), a list or tuple of ``(name, value)`` pairs (a
    name may repeat) or None (``url`` comes back unchanged). The query ``url`` already has
    is kept, blank values included, and the new arguments follow it; a fragment stays at
    the end::

        url_concat("http://example.com/foo?a=b#top", {"c": "d"})
        # 'http://example.com/foo?a=b&c=d#top'

    Raises:
        TypeError: ``args`` is none of those (the message names its type).
    """
    if args is None:
        return url
    if isinstance(args, Mapping):
        pairs = list(args.items())
    elif isinstance(args, list | tuple):
        pairs = list(args)
    else:
        raise TypeError(
            f"url_concat() needs args as a dict, a list or tuple of pairs, or None, "
            f"not {type(args).__name__}"
        )
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend(pairs)
    return urlunsplit(parts._replace(query=urlencode(query)))
