"""``get_json_body()``: the request body as JSON, where a bad body is the client's 400.

Rules:
- The body is JSON text in UTF-8 (RFC 8259 §8.1; a leading byte-order mark is ignored,
  which §8.1 allows). ``Content-Type`` is not checked: like Starlette's ``request.json()``
  and unlike Flask's ``get_json()`` (415 without ``application/json``), a client that
  sends JSON under another type (``text/plain`` to dodge a CORS preflight, or none) is
  served. A handler that wants the type checked reads ``self.request.headers`` itself.
- Everything a client can get wrong is a 400 whose reason names the problem, never a
  500: an empty body, bytes that are not UTF-8, text that is not JSON (the reason carries
  the decoder's message, line and column), ``NaN``/``Infinity`` (Python's extension, not
  JSON), nesting deep enough to exhaust the decoder's recursion, an integer longer than
  the interpreter's digit limit.
- The parsed value is kept on the handler: later calls in the same request return the
  same object without parsing again. Nothing is done for a request that never calls it.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from squall.web._base import HandlerBase
from squall.web._errors import HTTPError


def _refuse_constant(name: str) -> NoReturn:
    # json.loads accepts NaN, Infinity and -Infinity; RFC 8259 has no such values.
    raise ValueError(f"{name} is not a JSON value")


def _bad_body(problem: str) -> HTTPError:
    reason = f"invalid JSON body: {problem}"
    return HTTPError(400, reason, reason=reason)


def parse_json_body(body: bytes) -> Any:
    """Parse ``body`` as JSON text; raise a 400 ``HTTPError`` naming what is wrong."""
    if not body:
        raise _bad_body("the body is empty")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad_body(f"not UTF-8 (byte 0x{body[exc.start]:02x} at {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise _bad_body(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise _bad_body("nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity above, or int digits over sys's limit
        raise _bad_body(str(exc).split(";")[0]) from None


class JSONBodyMixin(HandlerBase):
    """``get_json_body()``."""

    __slots__ = ()

    def get_json_body(self) -> Any:
        """The request body parsed as JSON (a dict, list, str, int, float, bool or None).

        ``Content-Type`` is not checked. The value is parsed once per request; later calls
        return the same object.

        Raises:
            HTTPError: 400 when the body is empty, not UTF-8, or not JSON; the reason names
                the problem (``invalid JSON body: Expecting value at line 1 column 1``).

        .. versionadded:: 0.2.0
        """
        try:
            return self._json_body
        except AttributeError:  # first call in this request: the slot was never set
            pass
        value = self._json_body = parse_json_body(self.request.body)
        return value
