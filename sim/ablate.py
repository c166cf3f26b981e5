"""Ablation: what each protection is worth on a scenario.

    from sim.ablate import ablate

    [result] = ablate(["scenarios/baseline.yaml"])
    result.baseline.figures["final_equity"], [r.removed for r in result.runs]

Each scenario runs once as it is (the baseline) and once with each protection of its run
switched off in turn, built-in and custom (`sim.api.run_scenario(..., without=[name])`,
the same run as the file with `protections.<name>.enabled: false`). Every run goes into a
temporary event database, read back into plain rows (`sim.read.ablation.RunRow`) and
deleted. `python run.py ablate` prints the table (`sim.read.ablation`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import attrs

from sim.api import RunResult, run_scenario
from sim.compose import EXIT_CRASH, EXIT_FAILED_CHECKS, EXIT_OK, prepare, run_registry
from sim.pool import process_pool
from sim.read.ablation import FIGURES, Ablation, RunRow
from sim.run.signals import stopped_by


class Outcome(Protocol):
    """What `run_all` reads of a run's row: its `result` (passed, failed, ...)."""

    @property
    def result(self) -> str: ...


@attrs.frozen
class Job:
    """One run of an ablation: a scenario file with one protection off (None: none)."""

    path: str
    removed: str | None
    seed: int | None = None
    preset: str | None = None
    overrides: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Plan:
    """A scenario file to ablate: its name, the seed of its runs, its run's protections."""

    path: str
    scenario: str
    seed: int
    protections: tuple[str, ...]


def plan_of(
    path: str | os.PathLike[str],
    *,
    seed: int | None = None,
    preset: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Plan:
    """The ablation plan of a scenario file: its protections by priority (`run_registry`),
    after checking everything as a run would (ScenarioError or InvalidInput; nothing
    written)."""
    scenario, _config = prepare(path, seed=seed, preset=preset, overrides=overrides)
    run_seed = scenario.seed if seed is None else seed
    return Plan(os.fspath(path), scenario.name, run_seed, run_registry(scenario).names)


def outcome(result: RunResult) -> str:
    """passed, failed (a check did not hold), crashed or interrupted."""
    code = result.exit_code
    if code == EXIT_CRASH:
        return "crashed"
    if code is not None and stopped_by(code):
        return "interrupted"
    return "passed" if result.passed else "failed"


def run_row(result: RunResult, removed: str | None) -> RunRow:
    """A finished run as a plain row: its figures (the summary's final equity, the rest
    from `metrics_of` through the summary), decisions by deciding system, failed checks."""
    summary = result.summary
    metrics = summary["metrics"]
    figures = {
        f.name: summary["final_equity"] if f.name == "final_equity" else metrics.get(f.name)
        for f in FIGURES
    }
    return RunRow(
        removed=removed,
        result=outcome(result),
        exit_code=result.exit_code,
        figures=figures,
        decisions=dict(summary["decisions_by_system"]),
        failed=tuple(c.label for c in result.failed_checks),
    )


def run_job(job: Job) -> RunRow:
    """Run one job into a temporary database and read it back (a process-pool task)."""
    without = () if job.removed is None else (job.removed,)
    result = run_scenario(
        job.path, seed=job.seed, preset=job.preset, set=dict(job.overrides), without=without
    )
    return run_row(result, job.removed)


J = TypeVar("J")
R = TypeVar("R", bound=Outcome)


def run_all(
    jobs: Sequence[J],
    workers: int,
    run: Callable[[J], R],
    on_done: Callable[[R], object] | None = None,
) -> list[R]:
    """`run(job)` of every job in order, `workers` at a time in worker processes (`run`
    and the jobs must pickle); run one after another, a stopped run (its `result`
    interrupted, Ctrl-C) ends it. `on_done` is called with each row, in order (a progress
    bar). Shared by `ablate` and `sim.mutate`."""
    rows: list[R] = []
    if workers > 1 and len(jobs) > 1:
        with process_pool(min(workers, len(jobs))) as pool:
            for row in pool.map(run, jobs):
                rows.append(row)
                if on_done is not None:
                    on_done(row)
        return rows
    for job in jobs:
        rows.append(run(job))
        if on_done is not None:
            on_done(rows[-1])
        if rows[-1].result == "interrupted":
            break
    return rows


def ablate(
    paths: Iterable[str | os.PathLike[str]],
    *,
    seed: int | None = None,
    preset: str | None = None,
    set: Mapping[str, Any] | None = None,  # the name of the command line's --set
    jobs: int = 1,
    on_plan: Callable[[int], object] | None = None,
) -> list[Ablation]:
    """Ablate each scenario file: its baseline run, then one run per protection of it.

    Every file is checked first (nothing runs if one is invalid). The runs of all the
    files are independent jobs, `jobs` of them at a time in worker processes.

    Args:
        paths: the scenario files.
        seed, preset, set: as `sim.api.run_scenario` takes them, for every run.
        jobs: parallel processes (1: in this process, one after another).
        on_plan: called with the number of runs once they are known.

    Returns:
        One `Ablation` per file, in order. When a run was stopped (SIGINT or SIGTERM),
        the ablations it cut short are left out and the stopped run's row is the last
        row of the last one returned (`result` interrupted).

    Raises:
        ScenarioError, InvalidInput: a file, seed, preset or setting is refused.
    """
    overrides = dict(set or {})
    plans = [plan_of(p, seed=seed, preset=preset, overrides=overrides) for p in paths]
    work = [
        Job(plan.path, removed, seed, preset, overrides)
        for plan in plans
        for removed in (None, *plan.protections)
    ]
    if on_plan is not None:
        on_plan(len(work))
    return _group(plans, run_all(work, jobs, run_job))


def _group(plans: Sequence[Plan], rows: Iterable[RunRow]) -> list[Ablation]:
    """The rows (in job order) as one Ablation per file, up to the first stopped run."""
    out: list[Ablation] = []
    left = iter(rows)
    for plan in plans:
        runs = [row for _, row in zip((None, *plan.protections), left, strict=False)]
        if not runs:
            break
        base, *others = runs
        out.append(Ablation(plan.scenario, plan.path, plan.seed, base, tuple(others)))
        if len(runs) < 1 + len(plan.protections):
            break
    return out


def ablation_exit_code(ablations: Sequence[Ablation]) -> int:
    """The exit code of `run.py ablate`: a stopped run's (130 or 143), else 3 when a run
    crashed, else 1 when a baseline failed a check, else 0. A run without a protection
    that fails a check is the measurement, not an error."""
    rows = [row for a in ablations for row in (a.baseline, *a.runs)]
    stopped = next((r.exit_code for r in rows if r.result == "interrupted"), None)
    if stopped is not None:
        return stopped
    if any(r.result == "crashed" for r in rows):
        return EXIT_CRASH
    return EXIT_FAILED_CHECKS if any(a.baseline.result != "passed" for a in ablations) else EXIT_OK
