"""Run fuzz examples: one scenario per case through `sim.api`, checked by the run's own
invariants and by the target's oracle; hypothesis drives the cases and shrinks a failure
to a minimal one.

The search is derandomized by its seed (`hypothesis.seed`, no example database): the same
target, seed and number of examples give the same cases every time. The target's
`examples` run first, then `examples` generated cases; on the first failing case
hypothesis shrinks, and the last failing case it ran (the minimal one) is the result.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import seed as hypothesis_seed

from domain.protections.mutants import Mutant
from sim.api import CheckResult, run_scenario
from sim.fuzz.documents import to_yaml
from sim.fuzz.evidence import read_evidence
from sim.fuzz.target import Mismatch, Target

FAST_TMP = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
"""Memory-backed storage for the examples' files and databases when there is one."""


@attrs.frozen
class Outcome:
    """One example's run.

    Attributes:
        case: the case record.
        document: its scenario document.
        exit_code: the run's exit code (0, 1 a built-in check failed, 3 crashed).
        failed_checks: the built-in checks (invariants) that did not hold, as lines.
        mismatches: the oracle's disagreements.
        error: the traceback of a crashed run, else None.
    """

    case: Any
    document: dict[str, Any]
    exit_code: int | None
    failed_checks: tuple[str, ...]
    mismatches: tuple[Mismatch, ...]
    error: str | None = None

    @property
    def failed(self) -> bool:
        """Whether an invariant, the oracle, or the run itself failed."""
        return bool(self.failed_checks or self.mismatches) or self.exit_code not in (0, 1)


@attrs.frozen
class TargetResult:
    """The search of one target.

    Attributes:
        target: the target searched.
        examples: how many cases ran (shrinking included).
        failure: the minimal failing example, None when every case held.
    """

    target: Target
    examples: int
    failure: Outcome | None


def run_case(target: Target, case: Any, mutant: Mutant | None = None) -> Outcome:
    """Run one case: write its scenario to a temporary file, run it into a temporary
    database, and check the invariants and the oracle.

    Args:
        target: the target the case belongs to.
        case: one of its case records.
        mutant: a broken rule to switch in (None: the rules as built).

    Returns:
        The outcome; `failed` says whether an invariant, the oracle or the run failed.
    """
    doc = target.build(case)
    with tempfile.TemporaryDirectory(prefix="bulwark-fuzz-", dir=FAST_TMP) as tmp:
        path = Path(tmp) / f"{doc['name']}.yaml"
        path.write_text(to_yaml(doc), encoding="utf-8")
        result = run_scenario(path, db=Path(tmp) / "fuzz.db", mutant=mutant)
        failed = tuple(_check_line(c) for c in result.failed_checks)
        mismatches: tuple[Mismatch, ...] = ()
        if result.exit_code in (0, 1):
            mismatches = tuple(target.check(case, read_evidence(result.db_path, result.run_id)))
    return Outcome(case, doc, result.exit_code, failed, mismatches, result.error)


class _Found(Exception):
    """Raised inside the hypothesis test to report a failing example."""


def search(
    target: Target,
    *,
    examples: int,
    seed: int,
    mutant: Mutant | None = None,
    run: Callable[[Target, Any, Mutant | None], Outcome] = run_case,
) -> TargetResult:
    """Run the target's boundary cases and `examples` generated cases; shrink the first
    failure.

    Args:
        target: the target to search.
        examples: how many cases hypothesis generates at most (it stops sooner once it has
            tried every distinct case), after the boundary cases.
        seed: the search's seed; the same seed draws the same cases.
        mutant: a broken rule to switch in every example.
        run: runs one case (`run_case`; the tests pass a recorder).

    Returns:
        How many cases ran, and the minimal failing outcome (None when every case held).
    """
    ran = [0]
    last: list[Outcome] = []

    def probe(case: Any) -> None:
        ran[0] += 1
        outcome = run(target, case, mutant)
        if outcome.failed:
            last[:] = [outcome]
            raise _Found

    test = given(target.cases())(probe)
    for case in reversed(list(target.examples)):
        test = example(case)(test)
    test = settings(
        max_examples=max(examples, 1),
        database=None,
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )(test)
    test = hypothesis_seed(seed)(test)
    try:
        test()
    except _Found:
        return TargetResult(target, ran[0], last[0])
    return TargetResult(target, ran[0], None)


def _check_line(check: CheckResult) -> str:
    evidence = "; ".join(check.evidence[:3])
    return f"{check.label}: {evidence}" if evidence else check.label
