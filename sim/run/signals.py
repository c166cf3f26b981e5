"""Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM.

While a run is recorded, the first of these signals raises `RunInterrupted` (a
KeyboardInterrupt) and later ones are ignored, so the run ends `interrupted` with the steps
completed so far and a second Ctrl-C cannot cut that short. Every write transaction runs
with both signals deferred, so a signal lands between transactions, never inside one.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a run was recorded."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(signum: int) -> int:
    """The shell's exit code for a process ended by `signum` (130 for SIGINT, 143 SIGTERM)."""
    return 128 + signum


def stopped_by(code: int) -> str | None:
    """The name of the stop signal an exit code stands for (`SIGINT` for 130), else None."""
    return next((s.name for s in STOP_SIGNALS if exit_code(s) == code), None)


class _Deferral:
    """The main thread's deferral depth and the signal that arrived meanwhile."""

    depth = 0
    pending: int | None = None


def _disarm() -> None:
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)


def _raise(signum: int, _frame: FrameType | None) -> None:
    # Python runs handlers in the main thread only, between bytecodes: a deferral there
    # keeps the signal for its end.
    if _Deferral.depth:
        if _Deferral.pending is None:
            _Deferral.pending = signum
        return
    _disarm()
    raise RunInterrupted(signum)


@contextlib.contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Inside the block, the first SIGINT or SIGTERM raises `RunInterrupted` and later ones
    are ignored; the previous handlers come back on exit. Outside the main thread (where
    Python cannot set handlers) the block changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s in STOP_SIGNALS:
        signal.signal(s, _raise)
    try:
        yield
    finally:
        _Deferral.pending = None
        for s, handler in previous.items():
            if handler is not None:
                signal.signal(s, handler)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Inside the block a SIGINT or SIGTERM handled by `stop_signals_raise` waits: it is
    raised as `RunInterrupted` when the outermost such block ends (even when the block
    raised). Outside the main thread the block changes nothing: a handler never runs there.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Deferral.depth += 1
    try:
        yield
    finally:
        _Deferral.depth -= 1
        if _Deferral.depth == 0 and _Deferral.pending is not None:
            signum, _Deferral.pending = _Deferral.pending, None
            _disarm()
            raise RunInterrupted(signum)
