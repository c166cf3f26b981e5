"""The worker pool of the parallel commands (`sim.pool`)."""

from __future__ import annotations

import multiprocessing
import signal
import sys

import mesa  # noqa: F401  (importing mesa sets the process-wide start method to "spawn")
import pytest

from sim.pool import WORKER_START, process_pool

_SEEN_BY_WORKERS: list[str] = []


def _marks() -> list[str]:
    return list(_SEEN_BY_WORKERS)


def _handlers() -> tuple[object, object]:
    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)


def _parent_handler(signum: int, _frame: object) -> None:  # pragma: no cover (never sent)
    raise AssertionError(signum)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the pool forks on Linux only")
def test_process_pool_when_mesa_set_spawn_then_workers_fork_with_fresh_signal_handlers(
    monkeypatch,
) -> None:
    assert multiprocessing.get_start_method() == "spawn"  # mesa's, process-wide
    assert WORKER_START == "fork"
    monkeypatch.setattr(sys.modules[__name__], "_SEEN_BY_WORKERS", ["set in the parent"])
    old_int = signal.signal(signal.SIGINT, _parent_handler)
    old_term = signal.signal(signal.SIGTERM, _parent_handler)
    try:
        with process_pool(2) as pool:
            # a spawned worker would import this module afresh and see an empty list
            assert pool.submit(_marks).result() == ["set in the parent"]
            assert pool.submit(_handlers).result() == (
                signal.default_int_handler,
                signal.SIG_DFL,
            )
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
