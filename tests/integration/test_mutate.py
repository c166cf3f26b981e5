"""Mutation (`sim.mutate`, `run.py mutate`): a scenario that sees a rule kills its mutants,
one that cannot see it lets them survive; the mutant runs through the registry only."""

from __future__ import annotations

import contextlib
import json
from io import StringIO
from pathlib import Path

from rich.console import Console

import run
from domain.protections.mutants import BUILTIN_MUTANTS
from sim.api import run_scenario
from sim.mutate import mutate

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"
HOLDING = LIBRARY / "holding-period-minimum.yaml"
YOUNG_CLOSE = LIBRARY / "whipsaw-young-close.yaml"
LIQUIDITY = LIBRARY.parents[1] / "tests" / "data" / "run" / "with_liquidity.yaml"
BY_ID = {m.id: m for m in BUILTIN_MUTANTS}


def cli(*argv: object) -> tuple[int, str]:
    out = StringIO()
    code = run.main([str(a) for a in argv], console=Console(file=out, width=250))
    return code, out.getvalue()


def test_mutate_when_scenario_sees_the_rule_then_its_mutants_killed_there_only():
    report = mutate([HOLDING, YOUNG_CLOSE], rule="holding_period.minimum", jobs=2)

    killers = {m.id: report.killers(m) for m in report.mutants}
    assert killers["holding_period.minimum/ignored"] == (str(HOLDING),)
    assert str(HOLDING) in killers["holding_period.minimum/off_by_one"]
    assert report.score == (2, 2)
    assert all(r.result == "passed" for r in report.clean.values())


def test_mutate_cli_when_scenario_cannot_see_the_rule_then_survivor_reported_with_its_rule():
    code, text = cli("mutate", YOUNG_CLOSE, "--rule", "core_asset.max_core")

    assert code == 0
    assert "survived: core_asset.max_core/ignored (core_asset.max_core):" in text
    assert "score: 0/2 (0 %)" in text


def test_mutate_cli_when_json_then_score_and_killers_per_mutant():
    out = StringIO()
    with contextlib.redirect_stdout(out):
        code = run.main(
            ["mutate", str(HOLDING), "--rule", "holding_period.minimum", "--json"],
            console=Console(file=StringIO()),
        )

    report = json.loads(out.getvalue())
    assert code == 0
    assert (report["killed"], report["total"], report["survivors"]) == (2, 2, [])
    assert {m["id"]: m["killed_by"] for m in report["mutants"]} == {
        "holding_period.minimum/off_by_one": [str(HOLDING)],
        "holding_period.minimum/ignored": [str(HOLDING)],
    }


def test_run_scenario_when_mutant_given_then_the_check_that_held_fails():
    clean = run_scenario(HOLDING)
    broken = run_scenario(HOLDING, mutant=BY_ID["holding_period.minimum/ignored"])

    assert clean.passed and clean.exit_code == 0
    assert not broken.passed and broken.failed_checks


def test_mutate_cli_when_no_mutant_breaks_the_rule_then_one_line_and_exit_2():
    code, text = cli("mutate", HOLDING, "--rule", "no.such_rule")

    assert code == 2
    assert text.strip() == "--rule: no mutant of these scenarios breaks 'no.such_rule'"


def test_mutate_when_custom_protection_declares_a_mutant_then_run_in_its_row_and_killed(tmp_path):
    text = LIQUIDITY.read_text().replace(
        "examples.liquidity_guard:LiquidityGuard", "tests.integration.mutant_guard:GuardWithMutant"
    )
    path = tmp_path / "guarded.yaml"
    path.write_text(text + "expect:\n  - decision: {asset: AAA, decided_by: liquidity, min: 1}\n")

    report = mutate([path], rule="liquidity.cap", jobs=2)

    [mutant] = report.mutants
    assert (mutant.id, mutant.protection) == ("liquidity.cap/ignored", "liquidity")
    assert report.killers(mutant) == (str(path),)
    assert report.clean[str(path)].result == "passed"


def test_mutate_when_priority_swap_then_the_scenario_of_that_pair_kills_it():
    pair = LIBRARY / "holding-vs-whipsaw.yaml"

    report = mutate([pair], rule="resolution.priority")

    killed = {m.id for m in report.mutants if report.killers(m)}
    assert "resolution.priority/swap_holding_period_whipsaw" in killed


def test_mutate_when_callbacks_given_then_told_the_runs_and_each_as_it_finishes():
    planned: list[int] = []
    done: list[object] = []

    report = mutate(
        [HOLDING], rule="holding_period.minimum", on_plan=planned.append, on_done=done.append
    )

    assert planned == [3]
    assert done == list(report.runs)


def test_mutate_cli_when_terminal_then_progress_bar_and_the_report():
    out = StringIO()
    console = Console(file=out, width=200, force_terminal=True)

    code = run.main(["mutate", str(HOLDING), "--rule", "holding_period.minimum"], console)

    assert code == 0
    assert "running mutants" in out.getvalue()
    assert "score: 2/2 (100 %)" in out.getvalue()
