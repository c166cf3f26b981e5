"""A mutation report: which mutants the scenarios killed, the score, the survivors (pure:
plain rows in, a rich table or JSON-ready dicts out; `sim.mutate` makes the rows).

A mutant is killed by a scenario when the scenario's exit code with the mutant switched
in differs from its clean run's. docs/stress-testing.md explains how to read it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from rich.table import Table

from domain.protections.mutants import Mutant
from sim.compose import EXIT_CRASH, EXIT_FAILED_CHECKS, EXIT_OK


@attrs.frozen
class RunOutcome:
    """How one run ended: its file, its mutant (None: the clean run), passed, failed,
    crashed or interrupted, its exit code, the labels of its failed checks."""

    path: str
    mutant: str | None
    result: str
    exit_code: int | None
    failed: tuple[str, ...] = ()


@attrs.frozen
class MutationReport:
    """The mutants run, the scenario files, every run's outcome (in run order), and how
    `sim.mutate.mutate` was asked: the rule filter, seed, preset, settings, processes, and
    when it started and finished (UTC, ISO 8601)."""

    mutants: tuple[Mutant, ...]
    paths: tuple[str, ...]
    runs: tuple[RunOutcome, ...]
    rule: str | None = None
    seed: int | None = None
    preset: str | None = None
    overrides: Mapping[str, Any] = attrs.field(factory=dict)
    jobs: int = 1
    started_at: str = ""
    finished_at: str = ""

    @functools.cached_property
    def clean(self) -> Mapping[str, RunOutcome]:
        """Each file's clean run."""
        return {r.path: r for r in self.runs if r.mutant is None}

    @property
    def stopped(self) -> int | None:
        """The exit code of a run stopped by a signal (130, 143), or None."""
        return next((r.exit_code for r in self.runs if r.result == "interrupted"), None)

    def killed(self, run: RunOutcome) -> bool | None:
        """Whether a mutant's run killed its mutant: it finished and its exit code differs
        from its file's clean run's. None for a clean run."""
        if run.mutant is None:
            return None
        clean = self.clean.get(run.path)
        return (
            run.result != "interrupted" and clean is not None and run.exit_code != clean.exit_code
        )

    def killers(self, mutant: Mutant) -> tuple[str, ...]:
        """The files whose exit code `mutant` changed, in run order."""
        return tuple(r.path for r in self.runs if r.mutant == mutant.id and self.killed(r))

    @property
    def survivors(self) -> tuple[Mutant, ...]:
        """The mutants no scenario killed."""
        return tuple(m for m in self.mutants if not self.killers(m))

    @property
    def score(self) -> tuple[int, int]:
        """(killed, total)."""
        return len(self.mutants) - len(self.survivors), len(self.mutants)


def _name(path: str) -> str:
    return Path(path).stem


def score_text(report: MutationReport) -> str:
    """`score: 20/29 (69 %)`."""
    killed, total = report.score
    pct = f" ({killed / total:.0%})".replace("%", " %") if total else ""
    return f"score: {killed}/{total}{pct}"


def mutation_table(report: MutationReport) -> Table:
    """The kill matrix: one row per mutant, the rule it breaks, the scenarios that killed
    it and how many."""
    t = Table(
        title=f"Mutation: {len(report.mutants)} mutants x {len(report.paths)} scenarios",
        title_justify="left",
    )
    t.add_column("mutant", overflow="fold")
    t.add_column("rule", overflow="fold")
    t.add_column("killed by", overflow="fold")
    t.add_column("kills", justify="right")
    for m in report.mutants:
        killers = report.killers(m)
        cell = ", ".join(map(_name, killers)) if killers else "[red]survived[/]"
        t.add_row(m.id, m.rule, cell, str(len(killers)))
    return t


def survivors_text(report: MutationReport) -> list[str]:
    """One line per survivor: its id, the rule it breaks, what it breaks."""
    return [f"survived: {m.id} ({m.rule}): {m.description}" for m in report.survivors]


def _run_dict(report: MutationReport, run: RunOutcome) -> dict[str, Any]:
    return {
        "path": run.path,
        "mutant": run.mutant,
        "result": run.result,
        "exit_code": run.exit_code,
        "failed_checks": list(run.failed),
        "killed": report.killed(run),
    }


def mutation_dict(report: MutationReport) -> dict[str, Any]:
    """What `run.py mutate --json` prints: how it was asked, the score, each mutant and its
    killers, the clean runs, and every run (`killed` null for a clean run)."""
    killed, total = report.score
    return {
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "rule": report.rule,
        "seed": report.seed,
        "preset": report.preset,
        "set": dict(report.overrides),
        "jobs": report.jobs,
        "scenarios": list(report.paths),
        "killed": killed,
        "total": total,
        "mutants": [
            {
                "id": m.id,
                "rule": m.rule,
                "description": m.description,
                "killed_by": list(report.killers(m)),
            }
            for m in report.mutants
        ],
        "survivors": [m.id for m in report.survivors],
        "clean": {
            p: {"result": r.result, "exit_code": r.exit_code} for p, r in report.clean.items()
        },
        "runs": [_run_dict(report, r) for r in report.runs],
    }


def mutation_exit_code(report: MutationReport) -> int:
    """The exit code of `run.py mutate`: a stopped run's (130 or 143), else 3 when a clean
    run crashed, else 1 when a clean run failed a check, else 0. A survivor is the
    measurement, not an error."""
    if report.stopped is not None:
        return report.stopped
    results = [r.result for r in report.clean.values()]
    if "crashed" in results:
        return EXIT_CRASH
    return EXIT_FAILED_CHECKS if "failed" in results else EXIT_OK
