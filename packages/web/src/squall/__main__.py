"""``python -m squall``: the ``squall`` command (``python -m squall run module:app``).

``squall`` is a namespace package shared by every squall distribution (there is no
``squall/__init__.py``); this module is squall-web's, which owns the command.
"""

from __future__ import annotations

from squall.web._cli import main

if __name__ == "__main__":
    main()
