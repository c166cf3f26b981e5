"""The planner's records kept cheap: `Choices` built when read, the ranking order as one
lexsort (ties broken by ticker), the run's `Universe` reused, and one log-return window
per plan (`PlanInputs.returns`) that gives each column's returns bit for bit."""

from __future__ import annotations

import attrs
import numpy as np

from domain.construction import plan_targets
from domain.construction.inputs import Universe, log_returns
from domain.construction.status import StatusBoard, selection_changes
from tests.unit.test_construction_support import cfg, inputs


def test_choices_when_read_then_each_matches_its_code_in_ticker_order():
    config = cfg(enable_bucket_diversification=False, max_new_positions=2)
    rows = [("Z", "X", 0.8), ("A", "X", 0.7), ("M", "X", 0.75), ("H", "Y", 0.2)]
    plan = plan_targets(inputs(rows, config=config, weights={"H": 0.1}))
    assert list(plan.choices) == ["A", "H", "M", "Z"]
    codes = list(plan.codes())
    assert codes == [(a, c.selected, c.reason) for a, c in plan.choices.items()]
    assert dict(plan.choices)["Z"] is plan.choices["Z"]  # built once
    assert plan.choices["H"].held and plan.choices["H"].reason == "below_keep_threshold"
    assert plan.choices["A"].reason == "max_new_positions"


def test_plan_when_scores_tie_then_ticker_order_breaks_the_tie():
    config = cfg(enable_bucket_diversification=False, max_new_positions=2)
    rows = [("D", "X", 0.75), ("B", "X", 0.75), ("C", "X", 0.75), ("A", "X", 0.70)]
    plan = plan_targets(inputs(rows, config=config))
    assert sorted(plan.targets) == ["B", "C"]
    assert plan.choices["D"].reason == "max_new_positions"


def test_plan_when_columns_reordered_then_same_plan():
    config = cfg(enable_bucket_diversification=False, max_new_positions=3)
    rows = [("D", "X", 0.75), ("B", "Y", 0.75), ("C", "X", 0.8), ("A", "Y", 0.75)]
    one, other = (plan_targets(inputs(r, config=config)) for r in (rows, rows[::-1]))
    assert one.targets == other.targets and one.choices == other.choices


def test_returns_when_columns_taken_then_bytes_equal_log_returns_of_those_columns():
    rng = np.random.default_rng(3)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (30, 5)), axis=0))
    closes[:4, 1] = np.nan  # listed late
    closes[10, 3] = np.nan  # a gap
    inp = inputs([(t, "X", 0.7) for t in "ABCDE"], config=cfg(), closes=closes)
    full = inp.returns(20)
    assert inp.returns(20) is full and not full.flags.writeable
    for cols in ([0, 2], [1, 3], [3], [4, 1, 0]):
        expected = log_returns(closes[-21:][:, cols])
        assert full[:, cols].tobytes() == expected.tobytes()


def test_returns_when_no_closes_then_none():
    assert inputs([("A", "X", 0.7)], config=cfg()).returns(20) is None


def test_plan_inputs_when_universe_of_same_columns_then_reused_else_rebuilt():
    base = inputs([("A", "X", 0.7), ("B", "Y", 0.6)], config=cfg())
    universe = Universe(base.tickers, base.buckets)
    same = attrs.evolve(base, universe=universe)
    assert same.column is universe.column and same.bucket_of() is universe.bucket_of
    other = attrs.evolve(base, universe=Universe(("A", "B"), ("Y", "Y")))
    assert dict(other.bucket_of()) == {"A": "X", "B": "Y"}
    assert list(universe.ticker_rank) == [0, 1]


def test_selection_changes_when_plan_repeats_then_second_records_nothing():
    config = cfg(enable_bucket_diversification=False)
    inp = inputs([("A", "X", 0.8), ("B", "X", 0.3)], config=config, trending={"B": 0.1})
    plan = plan_targets(inp)
    first, board = selection_changes(inp, plan, StatusBoard.empty(inp.n_assets))
    assert [(s.asset, s.reason) for s in first] == [("A", "new"), ("B", "not_trending")]
    again, _ = selection_changes(inp, plan, board)
    assert again == []
