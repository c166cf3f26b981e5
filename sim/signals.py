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


def _raise(signum: int, _frame: FrameType | None) -> None:
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
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
        for s, handler in previous.items():
            if handler is not None:
                signal.signal(s, handler)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Inside the block SIGINT and SIGTERM are blocked; one that arrived meanwhile is
    delivered on exit. Where signals cannot be blocked (Windows) the block changes nothing."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
