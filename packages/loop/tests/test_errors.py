"""The error tree of squall.loop: each error is also the builtin callers would catch."""

from __future__ import annotations

import errno

from squall.loop import (
    BindError,
    ForkAfterIOLoopError,
    ForkError,
    LoopError,
    StreamClosedError,
    TooManyRestartsError,
    UvloopUnavailableError,
)


def test_every_error_derives_from_loop_error_and_its_builtin() -> None:
    assert issubclass(ForkError, LoopError) and issubclass(ForkError, RuntimeError)
    assert issubclass(ForkAfterIOLoopError, ForkError)
    assert issubclass(TooManyRestartsError, ForkError)
    assert issubclass(BindError, LoopError) and issubclass(BindError, OSError)
    assert issubclass(UvloopUnavailableError, ImportError)


def test_bind_error_keeps_errno_address_and_port() -> None:
    err = BindError(errno.EADDRINUSE, "cannot bind 127.0.0.1:80", "127.0.0.1", 80)
    assert err.errno == errno.EADDRINUSE
    assert (err.address, err.port) == ("127.0.0.1", 80)
    assert "127.0.0.1:80" in str(err)


def test_too_many_restarts_counts_restarts() -> None:
    assert TooManyRestartsError("gave up", 7).restarts == 7


def test_stream_closed_error_is_an_os_error_carrying_its_real_error() -> None:
    reset = ConnectionResetError(errno.ECONNRESET, "reset")
    err = StreamClosedError(reset)
    assert isinstance(err, OSError) and not isinstance(err, LoopError)
    assert err.real_error is reset
    assert str(err) == "Stream is closed"
    assert StreamClosedError().real_error is None
