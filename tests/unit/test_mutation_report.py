"""The mutation report: a kill is an exit code that differs from the scenario's clean run."""

from __future__ import annotations

from domain.protections.mutants import Mutant
from sim.read.mutation import (
    MutationReport,
    RunOutcome,
    mutation_dict,
    mutation_exit_code,
    score_text,
)

A = Mutant("r.one/a", "r.one", "broken a")
B = Mutant("r.two/b", "r.two", "broken b")


def report(*runs: RunOutcome) -> MutationReport:
    return MutationReport((A, B), ("x.yaml", "y.yaml"), runs)


def run(path: str, mutant: str | None, code: int, result: str = "passed") -> RunOutcome:
    return RunOutcome(path, mutant, result, code)


def test_killers_when_exit_code_differs_from_clean_then_killed_by_that_scenario_only():
    r = report(
        run("x.yaml", None, 0),
        run("x.yaml", "r.one/a", 1, "failed"),
        run("x.yaml", "r.two/b", 0),
        run("y.yaml", None, 1, "failed"),
        run("y.yaml", "r.one/a", 1, "failed"),
        run("y.yaml", "r.two/b", 0),
    )

    assert r.killers(A) == ("x.yaml",)
    assert r.killers(B) == ("y.yaml",)
    assert r.score == (2, 2)
    assert score_text(r) == "score: 2/2 (100 %)"
    assert mutation_exit_code(r) == 1


def test_survivors_when_no_run_changes_then_listed_with_score():
    r = report(run("x.yaml", None, 0), run("x.yaml", "r.one/a", 3, "crashed"))

    assert [m.id for m in r.survivors] == ["r.two/b"]
    assert mutation_dict(r)["survivors"] == ["r.two/b"]
    assert score_text(r) == "score: 1/2 (50 %)"


def test_killers_when_mutant_run_interrupted_then_not_a_kill_and_exit_code_is_the_stop():
    r = report(run("x.yaml", None, 0), run("x.yaml", "r.one/a", 130, "interrupted"))

    assert r.killers(A) == ()
    assert r.stopped == 130
    assert mutation_exit_code(r) == 130
