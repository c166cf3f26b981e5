"""The notebook API: run a scenario, or load a recorded run, into one frozen result.

    from sim.api import load_run, run_scenario

    result = run_scenario("scenarios/baseline.yaml", seed=7, preset="crisis",
                          set={"grace_period_days": 3})
    result.exit_code, result.checks, result.metrics, result.equity

`python run.py FILE` runs through the same two steps (`sim.compose.prepare`, then
`run_prepared`), so a notebook and the command line cannot disagree on a run, its checks
or its exit code. docs/api.md is the reference, with a worked example.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pandas as pd
import sqlite_utils
from rich.console import Console

from domain.config import Config
from domain.protections.mutants import Mutant
from domain.scenario import Expectation, Scenario
from sim.compose import (
    EXIT_CRASH,
    EXIT_FAILED_CHECKS,
    EXIT_OK,
    EXIT_QUIT,
    QUIT_REASON,
    InvalidInput,
    check_db,
    check_overrides,
    check_seed,
    check_without,
    prepare,
    record_run,
)
from sim.load.document import load_scenario
from sim.load.problems import ScenarioError
from sim.read import frames
from sim.read.checks import CheckResult, check_run
from sim.read.metrics import metrics_of
from sim.read.queries import InspectError, query, resolve_run
from sim.read.queries import open_readonly as open_event_db
from sim.read.summary import summarise
from sim.run.dbfile import open_readonly, tidy
from sim.run.liveness import run_status
from sim.run.recorder import record_checks
from sim.run.signals import STOP_SIGNALS, exit_code

__all__ = [
    "CheckResult",
    "InspectError",
    "InvalidInput",
    "RunResult",
    "ScenarioError",
    "load_run",
    "run_metrics",
    "run_prepared",
    "run_scenario",
    "sweep",
]

T = TypeVar("T")


def run_metrics(con: sqlite3.Connection, run_id: str) -> dict[str, float | None]:
    """Every run-wide metric of one run, by name, in registry order (None: undefined for
    this run, e.g. Sharpe on a flat path); the one place the API reads metrics
    (`sim.read.metrics.metrics_of`)."""
    return {m.name: m.value for m in metrics_of(con, run_id) if m.by is None}


@attrs.frozen(eq=False)
class RunResult:
    """One recorded run: how it ended, its checks, its figures and its tables.

    Attributes:
        run_id: `<scenario>-s<seed>-<nnn>`.
        exit_code: what `python run.py FILE` exits with for this run: 0 every check held,
            1 a check failed, 3 the run crashed, 130 / 143 stopped by SIGINT / SIGTERM;
            None for a run that is still being written (`load_run` only).
        status: completed, failed, interrupted, running, or crashed (a `running` run whose
            writer is gone, docs/event-db.md).
        checks: the invariants, then the scenario's expectations (`sim.read.checks`);
            empty for a run that crashed, was stopped or is still running (not checked).
        summary: the headline figures `python run.py` prints (`sim.read.summary.summarise`,
            with the reported `status`).
        config: every parameter in force at the start (the runs row's `config`).
        error: the traceback of a crashed run, or how it was stopped; else None.
        db_path: the event database holding the run.
        expectations_file: the scenario file whose `expect` items were checked; None when
            they were not (`load_run` of a run whose file is gone or changed since).
    """

    run_id: str
    exit_code: int | None
    status: str
    checks: tuple[CheckResult, ...]
    summary: Mapping[str, Any]
    config: Mapping[str, Any]
    error: str | None
    db_path: str
    expectations_file: str | None
    _tmp: tempfile.TemporaryDirectory[str] | None = attrs.field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """Whether the run finished and every check held (exit code 0)."""
        return self.exit_code == EXIT_OK

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        """The checks that did not hold."""
        return tuple(c for c in self.checks if not c.passed)

    def _read(self, read: Callable[[sqlite3.Connection, str], T]) -> T:
        with contextlib.closing(open_readonly(self.db_path)) as con:
            return read(con, self.run_id)

    @functools.cached_property
    def metrics(self) -> dict[str, float]:
        """Every metric of `python run.py metrics`, by name (read on first use)."""
        return self._read(run_metrics)

    @functools.cached_property
    def equity(self) -> pd.DataFrame:
        """One row per step: equity, cash, invested, drawdown, regime, n_positions,
        turnover, costs (`sim.read.frames.equity_frame`)."""
        return self._read(frames.equity_frame)

    @functools.cached_property
    def snapshots(self) -> pd.DataFrame:
        """The holdings after each step, `flags.*` expanded (`frames.snapshots_frame`)."""
        return self._read(frames.snapshots_frame)

    @functools.cached_property
    def messages(self) -> pd.DataFrame:
        """Every message in order, `payload.*` expanded (`frames.messages_frame`)."""
        return self._read(frames.messages_frame)

    @functools.cached_property
    def decisions(self) -> pd.DataFrame:
        """One row per decision with its rule and its proposal (`frames.decisions_frame`)."""
        return self._read(frames.decisions_frame)

    def as_dict(self) -> dict[str, Any]:
        """What `python run.py FILE --json` prints: the summary, `db`, `checks`, `exit_code`."""
        return {
            **self.summary,
            "db": self.db_path,
            "checks": [attrs.asdict(c) for c in self.checks],
            "exit_code": self.exit_code,
        }


def run_scenario(
    path: str | os.PathLike[str],
    *,
    seed: int | None = None,
    preset: str | None = None,
    set: Mapping[str, Any] | None = None,  # the name of the command line's --set
    db: str | os.PathLike[str] | None = None,
    step: Console | None = None,
    follow: str | None = None,
    without: Collection[str] = (),
    mutant: Mutant | None = None,
) -> RunResult:
    """Run a scenario file, check it, and return the result.

    Args:
        path: the scenario YAML file.
        seed: overrides the scenario's seed (an integer in [0, 2**63 - 1]).
        preset: a configuration preset; overrides the scenario's.
        set: parameter values over everything else, as a file's `config` would give them
            (`{"grace_period_days": 3}`; dashed names read as underscores).
        db: the event database to add the run to; None: a new temporary file, deleted with
            its directory when the result is garbage-collected (at the latest when the
            interpreter exits). Copy `result.db_path`, or pass `db`, to keep it.
        step: a console to step through the run in (the command line's `--step`).
        follow: with `step`, the asset to follow.
        without: protections of the run (built-in or custom) to switch off, as
            `protections.<name>.enabled: false` in the file would (an ablation,
            `sim.ablate`); the runs row does not record it.
        mutant: a broken rule to switch in (`domain.protections.mutants`, `sim.mutate`);
            nothing changes when its protection is not in the run; not recorded either.

    Raises:
        ScenarioError: the scenario file is invalid (`file:line: field: message`).
        InvalidInput: the seed, preset, settings, database path or a name of `without`
            is refused (`<path>: --option ...: message`, `<path>: without: ...`). Nothing
            is written in either case.
    """
    scenario, config = prepare(path, seed=seed, preset=preset, overrides=set)
    return run_prepared(
        scenario,
        config,
        seed=seed,
        db=db,
        step=step,
        follow=follow,
        without=without,
        mutant=mutant,
    )


def run_prepared(
    scenario: Scenario,
    config: Config,
    *,
    seed: int | None = None,
    db: str | os.PathLike[str] | None = None,
    step: Console | None = None,
    follow: str | None = None,
    without: Collection[str] = (),
    mutant: Mutant | None = None,
) -> RunResult:
    """The second half of `run_scenario`, for a scenario already `sim.compose.prepare`d
    (the command line uses it to name the default database after the scenario)."""
    try:
        check_without(scenario, without)
        if db is not None:
            check_db(db)
    except InvalidInput as err:
        raise InvalidInput(f"{scenario.path}: {err}") from None
    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="bulwark-")
        db = Path(tmp.name) / f"{scenario.name}.db"
    run_id, code, _model = record_run(
        scenario,
        config,
        seed=seed,
        db_path=db,
        step=step,
        follow=follow,
        without=without,
        mutant=mutant,
    )
    try:
        return _result(
            os.fspath(db), run_id, code, scenario.expect, scenario.path, tmp, record=True
        )
    finally:
        tidy(db)


def sweep(
    path: str | os.PathLike[str],
    *,
    seeds: str | Iterable[int],
    grid: Mapping[str, Sequence[Any]] | None = None,
    preset: str | None = None,
    set: Mapping[str, Any] | None = None,  # the name of the command line's --set
    out: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    keep_dbs: bool = False,
) -> pd.DataFrame:
    """Run a scenario file (or every `*.yaml` below a directory) once per seed and grid
    point on Dask, as `python run.py sweep` does, and return the table: one row per run
    (scenario, path, seed, one column per grid parameter, exit_code, outcome,
    failed_checks, every metric, messages, seconds, ...; docs/sweeps.md), in plan order
    (file, grid point, seed): the shape of Mesa's `batch_run`.

    Args:
        path: the scenario file or directory.
        seeds: `"1-200"` / `"1,5,9-12"` (the command line's `--seeds`), or the seeds.
        grid: {parameter: values}; every combination runs (`{"grace_period_days": [3, 10]}`).
        preset, set: as `run_scenario` takes them, for every run (the grid wins over `set`).
        out: the output folder (sweep.db, sweep.parquet, runs/); runs already in its table
            are not run again. None: a temporary folder, deleted before returning.
        workers: LocalCluster worker processes (None: the machine's cores).
        scheduler: an existing Dask scheduler's address (`tcp://host:8786`) or a
            `distributed.Client`, instead of a LocalCluster.
        keep_dbs: keep each run's event database in `out/runs/` (the `db` column).

    Raises:
        ScenarioError, InvalidInput: as `run_scenario`, before anything runs; also a bad
            seed list or grid (`--seeds ...`, `--grid ...`).
    """
    from sim.sweep import spec as sweep_spec  # dask loads only when a sweep runs
    from sim.sweep.engine import run_sweep
    from sim.sweep.store import read_table

    if isinstance(seeds, str):
        seed_list = sweep_spec.parse_seeds(seeds)
    else:
        seed_list = tuple(dict.fromkeys(check_seed(s) for s in seeds))
    spec = sweep_spec.SweepSpec(
        paths=sweep_spec.scenario_files(path),
        seeds=seed_list,
        grid=sweep_spec.check_grid(grid or {}),
        preset=preset,
        sets=check_overrides(set),
    )
    with contextlib.ExitStack() as stack:
        if out is None:
            out = stack.enter_context(tempfile.TemporaryDirectory(prefix="bulwark-sweep-"))
        outcome = run_sweep(spec, out, workers=workers, scheduler=scheduler, keep_dbs=keep_dbs)
        table = read_table(out).set_index("key")
    order = list(dict.fromkeys(t.key for t in outcome.tasks))
    return table.loc[order].reset_index()


def load_run(
    db: str | os.PathLike[str],
    run_id: str | None = None,
    *,
    scenario: str | os.PathLike[str] | None = None,
) -> RunResult:
    """The result of a recorded run, as `run_scenario` gave it (the latest run when
    `run_id` is None). Reads the database only (read-only).

    The expectations checked are those of `scenario` when given, else of the file the run
    recorded (`runs.scenario_path`, relative to the working directory) when it is still
    there unchanged (same sha256); otherwise only the invariants are checked and
    `expectations_file` is None.

    Raises:
        InspectError: the database cannot be opened, is not an event database, or has no
            such run (the message lists the runs).
        ScenarioError: the scenario file to check against is invalid.
    """
    with contextlib.closing(open_event_db(db)) as con:
        run_id = resolve_run(con, run_id)
        row = _runs_row(con, run_id)
    expectations, file = _expectations(row, scenario)
    code = recorded_exit_code(run_status(row), row["error"])
    return _result(os.fspath(db), run_id, code, expectations, file)


def recorded_exit_code(status: str, error: str | None) -> int | None:
    """The exit code `python run.py` gave a run that ended with `status` and `error`,
    before its checks (None while it is still running)."""
    if status == "running":
        return None
    if status in ("failed", "crashed"):
        return EXIT_CRASH
    if status == "interrupted":
        stop = next((s for s in STOP_SIGNALS if error == f"stopped by {s.name}"), None)
        if error == QUIT_REASON:
            return EXIT_QUIT
        return EXIT_OK if stop is None else exit_code(stop)
    return EXIT_OK


def _runs_row(con: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    return query(con, "SELECT * FROM runs WHERE run_id = ?", [run_id])[0]


def _expectations(
    row: Mapping[str, Any], scenario: str | os.PathLike[str] | None
) -> tuple[tuple[Expectation, ...], str | None]:
    """The expectations to check a recorded run against, and the file they come from."""
    if scenario is None:
        recorded = row.get("scenario_path")
        if not recorded or not _unchanged(Path(recorded), row.get("scenario_sha256")):
            return (), None
        scenario = recorded
    loaded = load_scenario(scenario, seed=row["seed"])
    return tuple(loaded.expect), os.fspath(scenario)


def _unchanged(path: Path, sha256: str | None) -> bool:
    try:
        return sha256 is not None and hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


def _result(
    db_path: str,
    run_id: str,
    code: int | None,
    expectations: Any,
    expectations_file: str | None,
    tmp: tempfile.TemporaryDirectory[str] | None = None,
    *,
    record: bool = False,
) -> RunResult:
    """Read a finished (or running) run back and check it unless it crashed, was stopped
    or is still running: the one path of `run_scenario` and `load_run`. With `record` (a
    run this process just made), the checks are also written to the DB's `checks` table."""
    with contextlib.closing(open_readonly(db_path)) as con:
        row = _runs_row(con, run_id)
        summary = summarise(sqlite_utils.Database(con, recursive_triggers=False), run_id)
    summary["status"] = status = run_status(row)
    checks: tuple[CheckResult, ...] = ()
    if code == EXIT_OK and status not in ("interrupted", "running"):
        checks = tuple(check_run(db_path, run_id, expectations))
        if record:
            record_checks(db_path, run_id, [attrs.asdict(c) for c in checks])
        if any(not c.passed for c in checks):
            code = EXIT_FAILED_CHECKS
    return RunResult(
        run_id=run_id,
        exit_code=code,
        status=status,
        checks=checks,
        summary=summary,
        config=json.loads(row["config"]) if row.get("config") else {},
        error=row.get("error"),
        db_path=db_path,
        expectations_file=expectations_file if checks else None,
        tmp=tmp,
    )
