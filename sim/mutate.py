"""Mutation testing: would a scenario library notice a broken rule?

    from sim.mutate import mutate

    report = mutate(["scenarios/library/holding-period-minimum.yaml"])
    report.score, [m.id for m in report.survivors]

Each scenario file runs once clean and once per mutant of its run's protections
(`domain.protections.mutants.mutants_of`), the mutant switched in through the registry
(`sim.api.run_prepared(..., mutant=...)`). A mutant is killed when some scenario's exit
code differs from that scenario's clean run (a check that held fails, or the run
crashes). A mutant whose protection is not in a scenario's run cannot change it and is
not run there. Every run goes into a temporary event database, read back and deleted;
the runs share `--jobs` worker processes with `sim.ablate` (`run_all`).
`python run.py mutate` prints the report (`sim.read.mutation`) and with `--db` adds it to
an SQLite file (`sim.read.mutation_db`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import attrs

from domain.protections.mutants import Mutant, mutants_of
from sim.ablate import outcome, run_all
from sim.api import run_prepared
from sim.compose import InvalidInput, prepare, run_registry
from sim.read.mutation import MutationReport, RunOutcome


@attrs.frozen
class Job:
    """One run: a scenario file, clean (`mutant` None) or with one mutant switched in."""

    path: str
    mutant: str | None
    seed: int | None = None
    preset: str | None = None
    overrides: Mapping[str, Any] = attrs.field(factory=dict)


def _prepared(job: Job) -> Any:
    return prepare(job.path, seed=job.seed, preset=job.preset, overrides=dict(job.overrides))


def run_job(job: Job) -> RunOutcome:
    """Run one job into a temporary database and read its outcome back (a process-pool
    task; the mutant is found again by id, so a custom protection's mutants need not
    pickle)."""
    scenario, config = _prepared(job)
    mutant = None
    if job.mutant is not None:
        mutant = {m.id: m for m in mutants_of(run_registry(scenario))}[job.mutant]
    result = run_prepared(scenario, config, seed=job.seed, mutant=mutant)
    return RunOutcome(
        path=job.path,
        mutant=job.mutant,
        result=outcome(result),
        exit_code=result.exit_code,
        failed=tuple(c.label for c in result.failed_checks),
    )


def plan(
    paths: Iterable[str],
    job: Callable[[str, str | None], Job],
    wanted: Callable[[Mutant], bool] = lambda _m: True,
) -> tuple[tuple[Mutant, ...], list[Job]]:
    """The mutants of every file's run (first seen first; only the `wanted` ones) and the
    jobs: per file its clean run, then one per mutant of its run."""
    catalogue: dict[str, Mutant] = {}
    jobs: list[Job] = []
    for path in paths:
        registry = run_registry(_prepared(job(path, None))[0])
        mine = [m for m in mutants_of(registry) if wanted(m)]
        catalogue.update((m.id, m) for m in mine if m.id not in catalogue)
        jobs.append(job(path, None))
        jobs.extend(job(path, m.id) for m in mine if m.applies_to(registry))
    return tuple(catalogue.values()), jobs


def mutate(
    paths: Sequence[str | os.PathLike[str]],
    *,
    seed: int | None = None,
    preset: str | None = None,
    set: Mapping[str, Any] | None = None,  # the name of the command line's --set
    rule: str | None = None,
    only: Collection[str] | None = None,
    jobs: int = 1,
    on_plan: Callable[[int], object] | None = None,
    on_done: Callable[[RunOutcome], object] | None = None,
) -> MutationReport:
    """Run each scenario file clean and with each mutant of its run switched in.

    Every file is checked first (nothing runs if one is invalid).

    Args:
        paths: the scenario files.
        seed, preset, set: as `sim.api.run_scenario` takes them, for every run.
        rule: only the mutants breaking this rule id (None: every mutant).
        only: only the mutants with these ids (None: every mutant; `bench/mutate_growth.py`
            picks subsets with it).
        jobs: parallel processes (1: in this process, one after another).
        on_plan: called with the number of runs once they are known.
        on_done: called with each run's outcome as it finishes, in run order.

    Returns:
        The report: the mutants, every run's outcome, the kills. A run stopped by SIGINT or
        SIGTERM ends it (`MutationReport.stopped`; the runs after it are not run).

    Raises:
        ScenarioError, InvalidInput: a file, seed, preset or setting is refused, or no
            mutant breaks `rule`.
    """
    overrides = dict(set or {})
    files = [os.fspath(p) for p in paths]

    def job(path: str, mutant: str | None) -> Job:
        return Job(path, mutant, seed, preset, overrides)

    def wanted(m: Mutant) -> bool:
        return (rule is None or m.rule == rule) and (only is None or m.id in only)

    started = _now()
    catalogue, work = plan(files, job, wanted)
    if rule is not None and not catalogue:
        raise InvalidInput(f"--rule: no mutant of these scenarios breaks {rule!r}")
    if on_plan is not None:
        on_plan(len(work))
    runs = tuple(run_all(work, jobs, run_job, on_done))
    asked = {"rule": rule, "seed": seed, "preset": preset, "overrides": overrides, "jobs": jobs}
    return MutationReport(
        catalogue, tuple(files), runs, **asked, started_at=started, finished_at=_now()
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
