"""``main()``: run tests by name, as ``tornado.testing.main`` (``python -m squall.testing``)."""

from __future__ import annotations

import sys
import unittest
from typing import Any

__all__ = ["main"]


def main(**kwargs: Any) -> None:
    """Run tests with ``unittest.main``: the ones named on the command line, or ``all()``.

    ``python -m squall.testing myapp.test_web`` runs that module; a script calling
    ``main()`` with no names runs the suite its ``all()`` function returns. unittest's own
    flags apply (``-v``/``--verbose``, ``-q``, ``-f``/``--failfast``, ``-c``, ``-b``);
    ``**kwargs`` go to ``unittest.main`` (``verbosity=2``). Tornado's option flags
    (``--exception_on_interrupt``, logging options) are not parsed: use squall.options in
    your own script for those.
    """
    argv = list(sys.argv)
    names = [a for a in argv[1:] if not a.startswith("-")]
    if names:
        unittest.main(module=None, argv=argv, **kwargs)
    else:
        unittest.main(defaultTest="all", argv=argv, **kwargs)
