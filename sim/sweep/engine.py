"""Run a sweep on Dask: plan the tasks, skip those already in the table, submit the rest to
a cluster (a LocalCluster of worker processes, or an existing scheduler), and write each
result as it arrives.

Only this process (the client) writes the table, one transaction per row keyed by the run
hash (`sim.sweep.store`). A worker that dies mid-task loses nothing: the scheduler runs
the task again elsewhere (up to `distributed.scheduler.allowed-failures` times; after
that the row is recorded `lost` and a later sweep runs it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from sim.compose import InvalidInput
from sim.sweep.spec import SweepSpec, Task, plan
from sim.sweep.store import (
    LOST,
    RUNS_DIR,
    existing_keys,
    finish_sweep,
    open_store,
    start_sweep,
    write_parquet,
    write_row,
)
from sim.sweep.task import TMP_SUFFIX, base_row, run_task

RUNNING_POLL_S = 0.5
"""How often, at most, the client asks the scheduler how many tasks are running."""
BAD_OUTCOMES = ("failed", "crashed", "invalid", "interrupted", LOST)


@attrs.define
class SweepState:
    """How far a sweep is: what the progress bar shows."""

    planned: int
    skipped: int
    total: int  # runs to make in this invocation
    done: int = 0
    failed: int = 0  # rows whose outcome is in BAD_OUTCOMES
    running: int = 0
    started: float = attrs.field(factory=time.perf_counter)


@attrs.frozen
class SweepOutcome:
    """What a sweep did: its tasks in plan order, how many it skipped and ran."""

    tasks: tuple[Task, ...]
    skipped: int
    ran: int
    out: str


def default_workers() -> int:
    """The LocalCluster's worker processes when not told: the machine's cores."""
    return os.cpu_count() or 1


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: Any = None) -> Iterator[Any]:
    """A Dask client: of `scheduler` (an address such as `tcp://host:8786`, or a
    `distributed.Client`, used as it is), else of a new LocalCluster of `workers`
    single-threaded worker processes (closed on exit)."""
    from distributed import Client, LocalCluster

    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler
        return
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with _sigint_ignored():  # the worker processes inherit it: Ctrl-C reaches the client only
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # a closing cluster's heartbeat errors
        )
    with cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored meanwhile (in the main thread; elsewhere nothing changes). A process
    started meanwhile keeps ignoring it, so a Ctrl-C at the terminal stops the client,
    which closes the cluster, instead of every worker printing its traceback."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)
    if previous is None:
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_sweep(
    spec: SweepSpec,
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    scheduler: Any = None,
    keep_dbs: bool = False,
    on_update: Callable[[SweepState], object] | None = None,
) -> SweepOutcome:
    """Plan `spec`, run what the table of `out` lacks on Dask, write each row as it comes.

    Nothing is written until the plan is checked and, when there is something to run, the
    cluster is reached.

    Raises:
        ScenarioError, InvalidInput: a file, setting or grid point is refused, `out`
            cannot hold a sweep table, or the scheduler cannot be reached.
    """
    keep = str((Path(out) / RUNS_DIR).resolve()) if keep_dbs else None
    tasks = plan(spec, keep)
    done = existing_keys(out)
    todo = list({t.key: t for t in tasks if t.key not in done}.values())
    state = SweepState(len(tasks), len(tasks) - len(todo), len(todo))
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_connected(workers, scheduler)) if todo else None
        points = {name: values[0] for name, values in spec.grid.items()}
        db = stack.enter_context(open_store(out, points))
        sweep_id = start_sweep(db, spec.as_dict(), state.planned, state.skipped)
        status = "interrupted"
        try:
            if client is not None:
                if keep is not None:
                    Path(keep).mkdir(parents=True, exist_ok=True)
                _gather(client, todo, db, state, on_update)
            status = "completed"
        finally:
            finish_sweep(db, sweep_id, state.done, status)
            if keep is not None:
                _remove_partials(Path(keep))
            write_parquet(out)
    return SweepOutcome(tuple(tasks), state.skipped, state.done, os.fspath(out))


@contextlib.contextmanager
def _connected(workers: int | None, scheduler: Any) -> Iterator[Any]:
    """`dask_client`, a scheduler that cannot be reached being InvalidInput."""
    try:
        stack = contextlib.ExitStack()
        client = stack.enter_context(dask_client(workers, scheduler))
    except (OSError, TimeoutError) as err:
        raise InvalidInput(f"--scheduler {scheduler}: cannot reach it: {err}") from None
    with stack:
        yield client


def _gather(
    client: Any,
    todo: Sequence[Task],
    db: Any,
    state: SweepState,
    on_update: Callable[[SweepState], object] | None,
) -> None:
    """Submit every task, write each result as it completes (cancel the rest on exit)."""
    from distributed import as_completed

    keys = [f"bulwark-run-{t.key}" for t in todo]
    futures = client.map(run_task, todo, key=keys, pure=False)
    by_key = {f.key: t for f, t in zip(futures, todo, strict=True)}
    polled = 0.0
    try:
        for future in as_completed(futures):
            row = _row(future, by_key[future.key])
            future.release()
            write_row(db, row)
            state.done += 1
            state.failed += row["outcome"] in BAD_OUTCOMES
            if on_update is not None:
                if time.perf_counter() - polled > RUNNING_POLL_S:
                    state.running = _running(client)
                    polled = time.perf_counter()
                state.running = min(state.running, state.total - state.done)
                on_update(state)
    finally:
        client.cancel([f for f in futures if not f.done()])


def _row(future: Any, task: Task) -> dict[str, Any]:
    """The task's row; a `lost` one when Dask gave it up (its exception as the error)."""
    try:
        return future.result()
    except Exception as err:
        lost = {"exit_code": None, "outcome": LOST, "error": repr(err), "worker": None}
        return {**base_row(task), **lost}


def _running(client: Any) -> int:
    """Tasks the workers are running now (a worker may hold more than it runs: its
    queue is counted up to its threads)."""
    with contextlib.suppress(Exception):
        threads = client.nthreads()
        return sum(min(len(keys), threads.get(w, 1)) for w, keys in client.processing().items())
    return 0


def _remove_partials(folder: Path) -> None:
    """Remove kept databases whose run never finished (their worker died)."""
    for partial in folder.glob(f".*{TMP_SUFFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
