"""The uvloop / plain asyncio choice: argument, environment variable, policy."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import pytest
import uvloop

from squall.loop import IOLoop, UvloopUnavailableError, _policy, install_loop_policy, new_event_loop
from squall.loop._policy import ENV_NO_UVLOOP, is_uvloop


@pytest.fixture(autouse=True)
def _no_env_switch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_NO_UVLOOP, raising=False)
    yield
    IOLoop.clear_current()


def _kind(use_uvloop: bool | None) -> bool:
    loop = new_event_loop(use_uvloop)
    try:
        return is_uvloop(loop)
    finally:
        loop.close()


def test_uvloop_is_used_when_installed() -> None:
    assert _kind(None) is True
    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_argument_chooses_either_way() -> None:
    assert _kind(False) is False
    assert _kind(True) is True


@pytest.mark.parametrize("value", ["1", "yes", "true"])
def test_environment_variable_turns_uvloop_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(ENV_NO_UVLOOP, value)
    assert _kind(None) is False
    assert _kind(True) is True  # an explicit argument wins over the environment


@pytest.mark.parametrize("value", ["", "0"])
def test_environment_variable_empty_or_zero_keeps_uvloop(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ENV_NO_UVLOOP, value)
    assert _kind(None) is True


def test_ioloop_argument_and_current_follow_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = IOLoop(use_uvloop=False, make_current=False)
    fast = IOLoop(use_uvloop=True, make_current=False)
    try:
        assert not is_uvloop(plain.asyncio_loop)
        assert is_uvloop(fast.asyncio_loop)
    finally:
        plain.close()
        fast.close()

    IOLoop.clear_current()
    monkeypatch.setenv(ENV_NO_UVLOOP, "1")
    current = IOLoop.current()
    assert current is not None
    try:
        assert isinstance(current.asyncio_loop, asyncio.SelectorEventLoop)
    finally:
        current.close()


def test_missing_uvloop_asked_for_explicitly_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_policy, "_uvloop_checked", True)
    monkeypatch.setattr(_policy, "_uvloop_module", None)
    assert _kind(None) is False  # not installed: plain asyncio, silently
    with pytest.raises(UvloopUnavailableError, match=r"pip install uvloop ") as info:
        new_event_loop(True)
    assert isinstance(info.value, ImportError)


def test_install_loop_policy_makes_asyncio_run_use_the_choice() -> None:
    # In a fresh interpreter: the policy is process-global state.
    code = (
        "import asyncio, sys\n"
        "from squall.loop import install_loop_policy\n"
        "install_loop_policy(use_uvloop=sys.argv[1] == '1')\n"
        "async def main(): return type(asyncio.get_running_loop()).__module__\n"
        "print(asyncio.run(main()))\n"
    )
    for flag, expected in (("1", "uvloop"), ("0", "asyncio")):
        result = subprocess.run(
            [sys.executable, "-c", code, flag], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().startswith(expected)


def test_install_loop_policy_fails_early_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_policy, "_uvloop_checked", True)
    monkeypatch.setattr(_policy, "_uvloop_module", None)
    with pytest.raises(UvloopUnavailableError):
        install_loop_policy(use_uvloop=True)
