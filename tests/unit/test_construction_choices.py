"""The planner's records kept cheap: `Choices` built when read, the ranking order as one
sort (ties broken by ticker), the run's `Universe` reused, one log-return window
per plan (`PlanInputs.returns`) that gives each column's returns bit for bit, and the
day's `DayMemo` shared by its re-plan rounds."""

from __future__ import annotations

import attrs
import numpy as np

from domain.construction import plan_targets
from domain.construction.inputs import DayMemo, Universe, log_returns
from domain.construction.status import StatusBoard, selection_changes
from domain.stage_mutants import CorrelationAtLimit
from domain.stages import Stages
from tests.unit.test_construction_support import cfg, correlated_closes, inputs


def test_choices_when_read_then_each_matches_its_code_in_ticker_order():
    config = cfg(enable_bucket_diversification=False, max_new_positions=2)
    rows = [("Z", "X", 0.8), ("A", "X", 0.7), ("M", "X", 0.75), ("H", "Y", 0.2)]
    plan = plan_targets(inputs(rows, config=config, weights={"H": 0.1}))
    assert list(plan.choices) == ["A", "H", "M", "Z"]
    assert dict(plan.choices)["Z"] is plan.choices["Z"]  # built once
    assert plan.choices["H"].held and plan.choices["H"].reason == "below_keep_threshold"
    assert plan.choices["A"].reason == "max_new_positions"


def test_column_codes_when_read_then_every_code_by_column_as_in_ticker_order():
    config = cfg(enable_bucket_diversification=False, max_new_positions=2)
    rows = [("Z", "X", 0.8), ("A", "X", 0.7), ("M", "X", 0.75), ("H", "Y", 0.2)]
    inp = inputs(rows, config=config, weights={"H": 0.1})
    plan = plan_targets(inp)
    codes = plan.column_codes(inp.column)  # before any Choice is built: from the notes
    by_ticker = [(inp.column[a], c.selected, c.reason) for a, c in plan.choices.items()]
    assert sorted(codes) == sorted(by_ticker)
    plain = attrs.evolve(plan, choices=dict(plan.choices))
    assert sorted(plain.column_codes(inp.column)) == sorted(by_ticker)
    assert len(plan.choices) == 4 and "B" not in plan.choices and plan.choices.get("B") is None
    fresh = plan_targets(inp)  # no Choice built yet: described reads the notes
    for p in (fresh, plan, plain):
        assert {a: p.described(a) for a in "AHMZ"} == {
            a: (c.detail, c.rule) for a, c in plan.choices.items()
        }
        assert p.described("B") is None


def test_choices_when_kept_and_new_read_then_details_written_with_their_numbers():
    config = cfg(
        enable_bucket_diversification=False,
        max_new_positions=2,
        min_score_threshold=0.6,
        min_score_new_position=0.7,
        trending_confidence_new=0.6,
    )
    rows = [("H", "X", 0.8123), ("R", "X", 0.9), ("N", "Y", 0.7777)]
    inp = inputs(rows, config=config, weights={"H": 0.1, "R": 0.1}, review_due={"R"})
    plan = plan_targets(inp)
    assert plan.choices["H"].detail == "holding kept: score 0.812 >= min_score_threshold 0.6"
    assert plan.choices["H"].rule == "selection.keep_threshold"
    assert plan.choices["R"].detail == "holding kept: score 0.900 >= min_score_new_position 0.7"
    assert plan.choices["R"].rule == "selection.review_threshold"
    assert plan.choices["N"].detail == (
        "new position: score 0.778 >= min_score_new_position 0.7, trending 1.00 >= "
        "trending_confidence_new 0.6"
    )
    assert plan.choices["N"].rule == "selection.open_threshold"


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


class _CountingStages(Stages):
    """The stated rules, counting the |correlation| matrices computed (and declaring its
    counting rule the stated one, so the day may reuse its matrices)."""

    def __init__(self) -> None:
        self.matrices = 0

    def abs_correlations(self, returns, min_obs):
        self.matrices += 1
        return super().abs_correlations(returns, min_obs)


_CountingStages.stated_correlations = True
_CountingStages.stated_correlation_filter = True


class _StatefulCorrelations(_CountingStages):
    """A rule that may answer differently each time it is asked (as a mutant may)."""


def test_plans_when_correlation_rule_replaced_then_every_round_asks_it():
    assert Stages().stated_correlations and not _StatefulCorrelations().stated_correlations
    stages = _StatefulCorrelations()
    first = attrs.evolve(_risk_day(stages=stages), day=None)
    first = attrs.evolve(first, day=DayMemo(first.closes))
    plan_targets(first)
    plan_targets(attrs.evolve(first, locked={"D": 0.1}))
    assert stages.matrices == 4  # two buckets, two rounds: nothing reused


def _risk_day(**kwargs):
    rng = np.random.default_rng(4)
    load = rng.uniform(0.2, 1.0, (6, 3))
    rows = [("A", "R", 0.9), ("B", "R", 0.85), ("C", "R", 0.8), ("D", "S", 0.75)]
    rows += [("E", "S", 0.7), ("F", "S", 0.65)]
    closes = correlated_closes(load, rng)
    return inputs(rows, config=cfg(max_new_positions=6), closes=closes, **kwargs)


def test_plans_when_day_memo_shared_then_round_reuses_returns_and_correlations():
    stages = _CountingStages()
    first = _risk_day(stages=stages)
    day = DayMemo(first.closes)
    first = attrs.evolve(first, day=day)
    plan = plan_targets(first)
    assert stages.matrices == 2 and first.memo is day.values
    again = attrs.evolve(first, locked={"D": 0.1})  # a re-plan round: bucket S changes
    replan = plan_targets(again)
    assert stages.matrices == 3  # only S's matrix is new
    assert again.returns(20) is first.returns(20)
    alone = plan_targets(attrs.evolve(again, day=None))
    assert stages.matrices == 5  # without the memo both are computed again
    assert replan.targets == alone.targets and replan.choices == alone.choices
    assert plan.targets != replan.targets


def _twins_day(stages, limit):
    """A and B move alike (|correlation| 1 up to rounding), C on its own."""
    rng = np.random.default_rng(5)
    closes = correlated_closes([[1.0, 0.2, 0.1], [1.0, 0.2, 0.1], [0.1, 1.0, 0.3]], rng)
    rows = [("A", "R", 0.9), ("B", "R", 0.85), ("C", "R", 0.8)]
    config = cfg(max_new_positions=6, correlation_limit=limit)
    return inputs(rows, config=config, closes=closes, stages=stages)


def test_plans_when_correlation_limit_one_then_no_matrix_and_the_same_plan():
    stated = _CountingStages()
    plan = plan_targets(_twins_day(stated, 1.0))
    assert stated.matrices == 0 and plan.choices["B"].reason == "new"
    asked = _StatefulCorrelations()  # not the stated rule: its matrices are computed
    again = plan_targets(_twins_day(asked, 1.0))
    assert asked.matrices == 1
    assert again.targets == plan.targets and again.choices == plan.choices
    below = plan_targets(_twins_day(_CountingStages(), 0.99))
    assert below.choices["B"].reason == "correlation"


def test_plans_when_correlation_limit_one_and_drops_mutated_then_mutant_still_drops():
    assert Stages.stated_correlation_filter and not CorrelationAtLimit.stated_correlation_filter
    plan = plan_targets(_twins_day(CorrelationAtLimit(), 1.0))
    assert plan.choices["B"].reason == "correlation" and "B" not in plan.targets


def test_plan_inputs_when_closes_not_the_memo_s_then_memo_unused():
    first = _risk_day()
    day = DayMemo(first.closes)
    other = attrs.evolve(first, day=day, closes=np.array(first.closes))
    assert other.memo is not day.values
    assert other.returns(20).tobytes() == attrs.evolve(first, day=day).returns(20).tobytes()
    assert attrs.evolve(first, day=day, closes=None).market_volatility() == 0.0
