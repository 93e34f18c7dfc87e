"""A Tornado-style unittest suite runs under ``python -m unittest`` and under pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_suite_passes_under_python_m_unittest() -> None:
    result = run("-m", "unittest", "-v", "tornado_style_suite")
    assert result.returncode == 0, result.stderr
    assert "Ran 6 tests" in result.stderr
    assert "test_http_fetch_generator_style" in result.stderr
    assert result.stderr.rstrip().endswith("OK")


@pytest.mark.slow
def test_suite_passes_under_pytest() -> None:
    result = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tornado_style_suite.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


@pytest.mark.slow
def test_suite_runs_under_squall_testing_main() -> None:
    result = run("-m", "squall.testing", "tornado_style_suite")
    assert result.returncode == 0, result.stderr
    assert "Ran 6 tests" in result.stderr


@pytest.mark.slow
def test_failures_are_reported_by_both_runners() -> None:
    result = run("-m", "unittest", "-v", "failing_suite")
    assert result.returncode == 1
    assert "Ran 4 tests" in result.stderr
    assert "FAILED (failures=2, errors=2)" in result.stderr
    assert "Async operation timed out after 0.2 seconds" in result.stderr
    assert "did not get expected log message" in result.stderr
    assert "should be decorated with squall.testing.gen_test" in result.stderr
    assert "TimeoutError" in result.stderr
    result = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "failing_suite.py")
    assert result.returncode == 1
    assert "4 failed" in result.stdout


def test_python_m_squall_testing_without_names_says_so() -> None:
    result = run("-m", "squall.testing")
    assert result.returncode == 1
    assert "No tests specified" in result.stderr
