"""The ablation table from plain rows (`sim.read.ablation`): deltas against the baseline,
what each protection decided in the baseline, the checks that fail only without it."""

from __future__ import annotations

import io

from rich.console import Console

from sim.read.ablation import (
    BASELINE,
    FIGURES,
    Ablation,
    RunRow,
    ablation_dict,
    ablation_rows,
    ablation_table,
    delta,
    figure_text,
)

FIG = {f.name: f for f in FIGURES}


def _figures(equity: float, ret: float, trades: int, **rest: float | None) -> dict:
    values = {"max_drawdown": 0.05, "volatility": 0.1, "turnover": 2.0, "costs": 100.0, **rest}
    return {"final_equity": equity, "total_return": ret, "trades": trades, **values}


BASE = RunRow(
    None,
    "failed",
    1,
    _figures(1_000_000.0, 0.0, 10),
    {"grace_period": 4, "orchestrator": 6},
    ("invariant: cash never negative",),
)
NO_GRACE = RunRow(
    "grace_period",
    "failed",
    1,
    _figures(1_012_500.0, 0.0125, 7, costs=None),
    {"orchestrator": 8},
    ("invariant: cash never negative", "never close AAA"),
)
NO_WHIPSAW = RunRow("whipsaw", "failed", 1, _figures(1_000_000.0, 0.0, 10), dict(BASE.decisions))
ABLATION = Ablation("demo", "demo.yaml", 7, BASE, (NO_GRACE, NO_WHIPSAW))


def test_rows_when_protections_removed_then_baseline_first_and_one_row_each():
    rows = ablation_rows(ABLATION)

    assert [r.label for r in rows] == [BASELINE, "- grace_period", "- whipsaw"]
    assert [r.run for r in rows] == [BASE, NO_GRACE, NO_WHIPSAW]


def test_rows_when_figures_differ_then_deltas_are_off_minus_baseline():
    _, grace, whipsaw = ablation_rows(ABLATION)

    assert grace.deltas["final_equity"] == 12_500.0
    assert grace.deltas["total_return"] == 0.0125
    assert grace.deltas["trades"] == -3
    assert grace.deltas["costs"] is None  # undefined in the run without it
    assert set(whipsaw.deltas.values()) == {0}


def test_rows_when_protection_decided_in_baseline_then_its_count_else_zero():
    base, grace, whipsaw = ablation_rows(ABLATION)

    assert (base.decided, grace.decided, whipsaw.decided) == (10, 4, 0)


def test_rows_when_check_fails_in_baseline_too_then_not_a_new_failure():
    base, grace, whipsaw = ablation_rows(ABLATION)

    assert base.new_failures == ("invariant: cash never negative",)
    assert grace.new_failures == ("never close AAA",)
    assert whipsaw.new_failures == ()


def test_delta_when_either_side_undefined_then_none():
    assert delta(None, 1.0) is None and delta(1.0, None) is None
    assert delta(3.0, 1.0) == 2.0


def test_figure_text_when_kinds_differ_then_each_its_unit():
    assert figure_text(FIG["final_equity"], 1_012_500.4, 12_500.4) == "1,012,500 (+12,500)"
    assert figure_text(FIG["total_return"], 0.0125, 0.0125) == "1.25% (+1.25 pp)"
    assert figure_text(FIG["trades"], 7, -3) == "7 (-3)"
    assert figure_text(FIG["turnover"], 2.5, 0.5) == "2.50x (+0.50x)"


def test_figure_text_when_no_change_or_undefined_then_equals_sign_or_dash():
    assert figure_text(FIG["trades"], 10, 0) == "10 (=)"
    assert figure_text(FIG["costs"], None, None) == "-"
    assert figure_text(FIG["costs"], 100.0) == "100"


def test_table_when_rendered_then_one_line_per_run_with_deltas():
    out = io.StringIO()
    Console(file=out, width=250).print(ablation_table(ABLATION))
    text = out.getvalue()
    lines = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}

    assert set(lines) == {BASELINE, "- grace_period", "- whipsaw"}
    assert "1,012,500 (+12,500)" in lines["- grace_period"]
    assert "never close AAA" in lines["- grace_period"]
    assert "(+" not in lines[BASELINE] and "(=)" in lines["- whipsaw"]
    assert "Ablation: demo (seed 7)" in text


def test_dict_when_built_then_baseline_and_one_entry_per_protection():
    record = ablation_dict(ABLATION)

    assert (record["scenario"], record["path"], record["seed"]) == ("demo", "demo.yaml", 7)
    assert record["baseline"]["final_equity"] == 1_000_000.0
    assert record["baseline"]["decisions_by_system"] == {"grace_period": 4, "orchestrator": 6}
    grace = record["without"][0]
    assert grace["protection"] == "grace_period" and grace["decided"] == 4
    assert grace["deltas"]["trades"] == -3 and grace["trades"] == 7
    assert grace["failed_checks"] == list(NO_GRACE.failed)
    assert grace["new_failures"] == ["never close AAA"]
    assert [w["protection"] for w in record["without"]] == ["grace_period", "whipsaw"]
