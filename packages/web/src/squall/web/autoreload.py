"""squall.web.autoreload: restart the process when a source file changes.

``Application(debug=True)`` or ``Application(autoreload=True)`` starts it; call
:func:`watch` to restart on other files too (a config file)::

    import squall.web.autoreload
    squall.web.autoreload.watch("settings.toml")

Run a program under the reloader, so that even an error at import or start-up waits for
the fix instead of exiting::

    python -m squall.web.autoreload app.py --port=8000
    python -m squall.web.autoreload -m mypackage.app --port=8000

How it works (polling, the syntax check, the re-exec, why several processes are refused):
see ``squall/web/_autoreload.py``.
"""

from __future__ import annotations

from squall.web._autoreload import add_reload_hook, is_running, main, start, watch

__all__ = ["add_reload_hook", "is_running", "main", "start", "watch"]

if __name__ == "__main__":
    main()
