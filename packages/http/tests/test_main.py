"""``python -m squall``: squall-http's namespace ``__main__`` runs the installed command."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points

import pytest

squall_main = importlib.import_module("squall.__main__")


def test_without_a_squall_command_it_says_what_to_install_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert squall_main.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "squall-web" in err and "pip install" in err


def test_the_installed_command_runs_and_its_status_is_returned() -> None:
    command = EntryPoint(name="squall", value="sys:getrecursionlimit", group="console_scripts")
    assert squall_main.main([command]) == sys.getrecursionlimit()


def test_python_dash_m_squall_in_this_environment() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "squall", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if list(entry_points(group="console_scripts", name="squall")):
        # squall-web is installed here: its command answers.
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip()
    else:
        # Only the lower layers (this package's own test environment).
        assert proc.returncode == 2
        assert proc.stderr.strip() == squall_main.MISSING
