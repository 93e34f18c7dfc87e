"""``python -m squall.httpclient URL...``: see :func:`squall.httpclient.main`."""

from __future__ import annotations

from squall.httpclient._main import main

if __name__ == "__main__":
    main()
