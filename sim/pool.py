"""The worker processes of every parallel command: a directory run, mutation and ablation
(`sim.ablate.run_all`), coverage, the directory report.

Importing mesa sets the process-wide start method to "spawn" (`mesa.batchrunner` calls
``multiprocessing.set_start_method("spawn", force=True)``), under which every worker
starts a fresh interpreter and imports Bulwark, mesa, pandas and scipy again (about 2 s a
worker on a slow 2-core machine, more than most library scenarios take). So the pools name
their start method here instead of taking that default: "fork" on Linux, where a worker
starts as a copy of the parent with its modules imported; elsewhere the platform's own
default ("spawn" on macOS and Windows). A run reads nothing the parent set up but its job
(a run is a pure function of its scenario, seed and configuration), so its messages are the
same under either method. A forked worker starts with the signal handlers a fresh
interpreter has (SIGINT raises KeyboardInterrupt, SIGTERM ends it), not the parent's.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

WORKER_START: str | None = "fork" if sys.platform.startswith("linux") else None
"""The start method of the workers (None: the platform's default)."""


def _fresh_signals() -> None:
    """A worker's SIGINT and SIGTERM handlers as a fresh interpreter has them."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes started by `WORKER_START`."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(WORKER_START),
        initializer=_fresh_signals,
    )
