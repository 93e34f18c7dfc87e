"""``python -m squall``: runs the ``squall`` command, whichever distribution installs it.

``squall`` is a namespace package shared by every squall distribution (there is no
``squall/__init__.py``), so this module has one owner. It lives in squall-http, not in
squall-web which owns the command, because pytest marks for assertion rewriting the modules
of every distribution that declares a pytest plugin, and names a namespace portion's
``squall/__main__.py`` plain ``__main__`` (always imported already: a warning in every test
run of a project that installs the wheel). squall-http declares no pytest plugin.

The command is found as the ``squall`` console-script entry point, so http never imports the
layer above it; without squall-web there is none and the error says what to install.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

MISSING = (
    "error: the squall command comes with squall-web: pip install squall-web "
    "(from a clone: uv pip install ./packages/web)"
)


def main(commands: Iterable[EntryPoint] | None = None) -> int:
    """Run the installed ``squall`` command with ``sys.argv``; 2 when none is installed."""
    if commands is None:
        commands = entry_points(group="console_scripts", name="squall")
    for command in commands:
        result = command.load()()
        return result if isinstance(result, int) else 0
    print(MISSING, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
