"""``python -m squall.testing TEST_NAMES...``: run tests by name (see :func:`main`)."""

from __future__ import annotations

import sys

from squall.testing._main import main

if __name__ == "__main__":
    if len(sys.argv) == 1:
        print("No tests specified", file=sys.stderr)
        sys.exit(1)
    main()
