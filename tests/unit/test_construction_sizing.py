"""Sizing of domain.construction, hand-computed: every expected weight is worked out in the
test from the rule book's arithmetic (behaviour.md section 5, docs/construction.md)."""

from __future__ import annotations

import numpy as np
import pytest

from domain.construction import (
    allocate_residual,
    plan_targets,
    volatility_factors,
)
from tests.unit.test_construction_support import alternating_closes, cfg, inputs


def _own_buckets(scores):
    """One bucket per asset (no bucket scaling unless a test wants it)."""
    return [(f"A{i}", f"B{i}", s) for i, s in enumerate(scores)]


def test_size_when_behaviour_example_then_capped_and_shared_in_proportion():
    # Score weighted 0.95 0.9 0.8 0.7 0.66, cap 0.2: three capped, 0.35 left for 0.7 and
    # 0.66 in proportion: 0.35 x 0.7 / 1.36 = 0.180147, 0.35 x 0.66 / 1.36 = 0.169853.
    config = cfg(position_size_scaling="score_weighted", max_new_positions=5)
    plan = plan_targets(inputs(_own_buckets([0.95, 0.9, 0.8, 0.7, 0.66]), config=config))
    assert [plan.targets[f"A{i}"] for i in range(5)] == pytest.approx(
        [0.2, 0.2, 0.2, 0.35 * 0.7 / 1.36, 0.35 * 0.66 / 1.36]
    )
    assert plan.residual.path == () and plan.residual.residual == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("strategy", "path", "cash", "unallocated"),
    [
        ("safe_top_slice", ("safe_top_slice", "cash_bucket"), 0.15, 0.0),
        ("cash_bucket", ("cash_bucket",), 0.15, 0.0),
        ("proportional", ("proportional",), 0.0, 0.15),
    ],
)
def test_size_when_every_position_capped_then_residual_lands_in_cash(
    strategy, path, cash, unallocated
):
    # Four equal positions: 0.95 / 4 = 0.2375 > cap 0.2, all capped at 0.2; the residual
    # 0.95 - 0.8 = 0.15 finds no room: safe_top_slice falls back to the cash bucket.
    config = cfg(position_size_scaling="equal_weight", residual_strategy=strategy)
    plan = plan_targets(
        inputs(_own_buckets([0.9, 0.8, 0.7, 0.66]), config=config.replace(max_new_positions=4))
    )
    assert list(plan.targets.values()) == pytest.approx([0.2] * 4)
    assert plan.residual.residual == pytest.approx(0.15)
    assert plan.residual.path == path
    assert plan.residual.cash_bucket == pytest.approx(cash)
    assert plan.residual.unallocated == pytest.approx(unallocated)
    assert plan.residual.added == {}


def test_size_when_residual_below_leftover_threshold_then_left_unallocated():
    # Five positions capped at 0.189: 0.945, residual 0.005 <= 0.01.
    config = cfg(
        position_size_scaling="equal_weight", max_single_position_size=0.189, max_new_positions=5
    )
    plan = plan_targets(inputs(_own_buckets([0.9, 0.85, 0.8, 0.75, 0.7]), config=config))
    assert plan.residual.path == () and plan.residual.unallocated == pytest.approx(0.005)
    assert plan.residual.cash_bucket == 0.0


def _scaled_bucket_plan(strategy):
    # R holds a, b, c and D holds d; equal weight 0.95 / 4 = 0.2375 each (cap 0.3).
    # R: 0.7125 > 0.4 -> x 0.4 / 0.7125 = 0.561404: 0.133333 each. Residual 0.3125.
    config = cfg(
        position_size_scaling="equal_weight",
        max_single_position_size=0.3,
        max_new_positions=4,
        residual_strategy=strategy,
    )
    assets = [("a", "R", 0.9), ("b", "R", 0.8), ("c", "R", 0.7), ("d", "D", 0.85)]
    return plan_targets(inputs(assets, config=config))


def test_size_when_bucket_scaled_and_safe_top_slice_then_capped_addition_and_cash_bucket():
    # safe_top_slice by score: a (R has no room) 0; d min(0.3125, 0.05 per asset,
    # 0.5 x 0.2375, 0.3 - 0.2375, D room 0.1625) = 0.05; b, c 0. Leftover 0.2625:
    # proportional finds nothing (d spent its 0.05, R full) -> cash bucket.
    plan = _scaled_bucket_plan("safe_top_slice")
    r = 0.4 / 3
    assert plan.targets == pytest.approx({"a": r, "b": r, "c": r, "d": 0.2375 + 0.05})
    assert plan.bucket_scaling == {"R": pytest.approx(0.4 / 0.7125)}
    assert plan.residual.added == {"d": pytest.approx(0.05)}
    assert plan.residual.path == ("safe_top_slice", "cash_bucket")
    assert plan.residual.cash_bucket == pytest.approx(0.2625)


def test_size_when_bucket_scaled_and_proportional_then_share_within_cap_rest_unallocated():
    # d's share 0.3125 x 0.2375 / 0.6375 = 0.1164 is cut to its cap room 0.0625; R has no
    # room. Unallocated 0.3125 - 0.0625 = 0.25.
    plan = _scaled_bucket_plan("proportional")
    r = 0.4 / 3
    assert plan.targets == pytest.approx({"a": r, "b": r, "c": r, "d": 0.3})
    assert plan.residual.path == ("proportional",)
    assert plan.residual.unallocated == pytest.approx(0.25)
    assert plan.residual.cash_bucket == 0.0


def test_size_when_bucket_scaled_and_cash_bucket_then_all_residual_reported_as_cash():
    plan = _scaled_bucket_plan("cash_bucket")
    assert plan.targets["d"] == pytest.approx(0.2375)
    assert plan.residual.cash_bucket == pytest.approx(0.3125)
    assert plan.residual.path == ("cash_bucket",)


def test_size_when_safe_top_slice_leaves_leftover_then_proportional_places_it_if_80_percent():
    # 8 singletons S0..S7 and R = {R0, R1, R2}; equal weight e = 0.95 / 11 = 0.086364.
    # R: 3e = 0.259091 -> 0.15 (max_bucket_allocation): 0.05 each. Residual 0.95 - 0.15 -
    # 8e = 0.109091. safe_top_slice: each singleton gets min(0.05, 0.1 x e = 0.0086364,
    # its bucket room 0.063636) = 0.0086364: 0.069091 placed, leftover 0.04. Proportional:
    # a singleton's share 0.04 x 1.1e / (0.15 + 8 x 1.1e) = 0.0041758, within every limit;
    # 8 x 0.0041758 = 0.033407 >= 0.8 x 0.04: placed; 0.006593 stays unallocated.
    config = cfg(
        position_size_scaling="equal_weight",
        max_single_position_size=0.5,
        max_bucket_allocation=0.15,
        max_residual_position_multiple=0.1,
        max_total_positions=30,
        max_new_positions=30,
    )
    singles = [(f"S{i}", f"B{i}", 0.9 - 0.01 * i) for i in range(8)]
    risk = [(f"R{i}", "R", 0.7 - 0.01 * i) for i in range(3)]
    plan = plan_targets(inputs(singles + risk, config=config))
    e = 0.95 / 11
    share = 0.04 * 1.1 * e / (0.15 + 8 * 1.1 * e)
    for i in range(8):
        assert plan.targets[f"S{i}"] == pytest.approx(1.1 * e + share)
    for i in range(3):
        assert plan.targets[f"R{i}"] == pytest.approx(0.05)
    assert plan.residual.path == ("safe_top_slice", "proportional")
    assert plan.residual.unallocated == pytest.approx(0.04 - 8 * share)
    assert plan.residual.cash_bucket == 0.0


def test_allocate_residual_when_top_slice_then_per_asset_multiple_and_cap_limits_bind():
    # Scores order a, b, c. a: min(0.2, 0.05, 0.5 x 0.04 = 0.02, ...) = 0.02 (multiple);
    # b: min(0.18, 0.05, 0.5 x 0.2, 0.22 - 0.2 = 0.02) = 0.02 (cap); c: 0.05 (per asset).
    # Leftover 0.11: proportional within 0.05 - added: a 0.03 at most, b 0 (cap), c 0
    # -> far below 80 % -> cash bucket 0.11.
    config = cfg(max_single_position_size=0.22)
    w, report = allocate_residual(
        np.array([0.04, 0.2, 0.15]),
        np.array([0.9, 0.8, 0.7]),
        ["a", "b", "c"],
        [None, None, None],
        {},
        config,
        0.2,
    )
    assert w == pytest.approx([0.06, 0.22, 0.2])
    assert report.added == pytest.approx({"a": 0.02, "b": 0.02, "c": 0.05})
    assert report.path == ("safe_top_slice", "cash_bucket")
    assert report.cash_bucket == pytest.approx(0.11)


def test_volatility_factors_when_vols_double_then_median_over_own():
    assert volatility_factors(np.array([0.01, 0.02, 0.04, np.nan])) == pytest.approx(
        [2.0, 1.0, 0.5, 1.0]
    )


def test_size_when_volatility_scaling_then_inverse_vol_before_caps():
    # Daily vols a, 2a, 4a (alternating returns) -> factors 2, 1, 0.5 of the median. Equal
    # raw weights become 2 : 1 : 0.5; 0.95 x 2 / 3.5 = 0.542857 > cap 0.4, so 0.4 and the
    # rest 0.55 shared 1 : 0.5 -> 0.366667, 0.183333.
    config = cfg(
        position_size_scaling="equal_weight", max_single_position_size=0.4, max_new_positions=3
    )
    closes = alternating_closes([0.006, 0.012, 0.024])
    plan = plan_targets(inputs(_own_buckets([0.9, 0.8, 0.7]), config=config, closes=closes))
    assert not plan.limits.high_volatility
    assert [plan.targets[f"A{i}"] for i in range(3)] == pytest.approx(
        [0.4, 0.55 / 1.5, 0.275 / 1.5]
    )
    off = plan_targets(
        inputs(
            _own_buckets([0.9, 0.8, 0.7]),
            config=config.replace(volatility_position_scaling=False),
            closes=closes,
        )
    )
    assert list(off.targets.values()) == pytest.approx([0.95 / 3] * 3)


@pytest.mark.parametrize(("drawdown", "factor"), [(0.15, 0.8), (0.10, 1.0)])
def test_size_when_drawdown_above_trigger_then_targets_reduced(drawdown, factor):
    # Two equal positions of 0.475 (cap and bucket cap 0.5); x 0.8 only above 0.10.
    config = cfg(
        position_size_scaling="equal_weight",
        max_single_position_size=0.5,
        max_bucket_allocation=0.5,
    )
    plan = plan_targets(inputs(_own_buckets([0.9, 0.8]), config=config, drawdown=drawdown))
    assert list(plan.targets.values()) == pytest.approx([0.475 * factor] * 2)
    assert plan.drawdown_factor == factor


def test_size_when_positions_below_minimum_then_smallest_dropped_one_at_a_time():
    # Locked L 0.85 leaves 0.1. Score weighted .95 .7 .66: 0.041126, 0.030303, 0.028571;
    # two below 0.031 but only the smallest goes: .95 and .7 share 0.1 -> 0.057576, 0.042424.
    config = cfg(position_size_scaling="score_weighted", min_position_size=0.031)
    assets = [("L", "BL", 0.5), ("A", "BA", 0.95), ("B", "BB", 0.7), ("C", "BC", 0.66)]
    plan = plan_targets(inputs(assets, config=config, locked={"L": 0.85}))
    assert plan.targets == pytest.approx({"L": 0.85, "A": 0.1 * 0.95 / 1.65, "B": 0.1 * 0.7 / 1.65})
    assert plan.choices["C"].reason == "below_min_position_size"


def test_size_when_fixed_categories_then_base_multiples_capped_and_normalised():
    # .92 -> 1.5, .85 -> 1.2, .75 -> 1.0, .66 -> 0.8 of 0.1: 0.15 0.12 0.10 0.08 (sum
    # 0.45). Normalised x 0.95 / 0.45: 0.3167 > cap 0.3 -> 0.3; 0.65 left over 0.30 of raw.
    config = cfg(position_size_scaling="fixed", max_single_position_size=0.3, max_new_positions=4)
    plan = plan_targets(inputs(_own_buckets([0.92, 0.85, 0.75, 0.66]), config=config))
    assert [plan.targets[f"A{i}"] for i in range(4)] == pytest.approx(
        [0.3, 0.12 * 0.65 / 0.3, 0.10 * 0.65 / 0.3, 0.08 * 0.65 / 0.3]
    )


def test_size_when_fixed_and_kept_holding_below_every_category_then_no_position():
    config = cfg(position_size_scaling="fixed", min_score_threshold=0.55)
    plan = plan_targets(inputs([("H", "X", 0.58)], config=config, weights={"H": 0.1}))
    assert plan.targets == {} and plan.choices["H"].reason == "no_fixed_size"


def test_size_when_locked_weight_fills_a_bucket_then_its_other_members_get_nothing():
    # L (locked 0.45) alone exceeds R's 0.4: R's other member is scaled to 0 and dropped.
    config = cfg(position_size_scaling="equal_weight")
    assets = [("L", "R", 0.5), ("A", "R", 0.9), ("B", "D", 0.8)]
    plan = plan_targets(inputs(assets, config=config, locked={"L": 0.45}))
    assert sorted(plan.targets) == ["B", "L"]
    assert plan.choices["A"].reason == "below_min_position_size"


def test_size_when_locked_weight_takes_the_whole_target_then_candidates_get_no_room():
    # L (locked 0.95) takes all of target_total_allocation 0.95: nothing is left to size.
    assets = [("L", "R", 0.5), ("A", "D", 0.9)]
    plan = plan_targets(inputs(assets, config=cfg(), locked={"L": 0.95}))
    assert plan.targets == {"L": 0.95}
    assert plan.choices["A"].reason == "no_room"
    assert "locked positions take 0.9500 of target_total_allocation 0.95" in (
        plan.choices["A"].detail
    )
