"""Property tests of domain.construction.plan_targets over random scores, buckets, books
and configurations: caps, totals, bucket limits and position counts always hold."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.config import resolve
from domain.construction import EPS, PlanInputs, plan_targets
from domain.construction.selection import REJECTED_REASONS, SELECTED_REASONS

TOL = 1e-9


@st.composite
def configs(draw):
    max_total = draw(st.integers(1, 12))
    target = draw(st.floats(0.8, 1.0))
    cap = draw(st.floats(0.05, target))
    base = draw(st.floats(0.01, min(cap, 0.5)))
    min_new = draw(st.floats(0.3, 0.9))
    overrides = {
        "max_total_positions": max_total,
        "max_new_positions": draw(st.integers(1, max_total)),
        "max_positions_per_bucket": draw(st.integers(1, max_total)),
        "min_buckets_represented": draw(st.integers(1, min(4, max_total))),
        "max_core_assets": min(3, max_total),
        "max_bucket_allocation": draw(st.floats(0.1, 1.0)),
        "target_total_allocation": target,
        "max_single_position_size": cap,
        "base_position_size": base,
        "min_position_size": draw(st.floats(0.0, base)),
        "min_score_new_position": min_new,
        "min_score_threshold": draw(st.floats(0.0, min_new)),
        "position_size_scaling": draw(
            st.sampled_from(["adaptive", "equal_weight", "score_weighted", "fixed"])
        ),
        "residual_strategy": draw(
            st.sampled_from(["safe_top_slice", "proportional", "cash_bucket"])
        ),
        "allow_bucket_overflow": draw(st.booleans()),
        "enable_bucket_diversification": draw(st.booleans()),
        "bucket_override_threshold": draw(st.floats(0.8, 1.0)),
        "max_bucket_overrides": draw(st.integers(0, 3)),
        "volatility_position_scaling": draw(st.booleans()),
        "correlation_limit": draw(st.floats(0.3, 1.0)),
        "max_residual_per_asset_pct": draw(st.floats(0.0, 0.2)),
        "max_residual_position_multiple": draw(st.floats(0.0, 2.0)),
        "residual_leftover_threshold": draw(st.floats(0.0, 0.05)),
        "portfolio_concentration_limit": draw(st.floats(0.1, 1.0)),
        "diversification_mode": "balanced",
    }
    return resolve(None, overrides).config


@st.composite
def plan_inputs(draw):
    config = draw(configs())
    n = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    tickers = tuple(f"T{j:02d}" for j in range(n))
    n_buckets = draw(st.integers(1, 5))
    buckets = tuple(f"B{rng.integers(n_buckets)}" for _ in range(n))
    # Buckets lean apart in score (B0 best) so that selection tends to crowd one bucket.
    lean = rng.uniform(0.0, 0.3, n_buckets)
    score = np.clip(rng.uniform(0.3, 0.8, n) + lean[[int(b[1:]) for b in buckets]], 0.0, 1.0)
    trending = rng.uniform(0.4, 1.0, n)
    held = rng.random(n) < 0.4
    weights = {t: float(rng.uniform(0.01, 0.3)) for t, h in zip(tickers, held, strict=True) if h}
    days = {t: int(rng.integers(0, 400)) for t in weights}
    closes = None
    if draw(st.booleans()):
        # A common factor per bucket (weight 0..1) so that some pairs correlate highly.
        vols = rng.choice([0.0, 0.005, 0.02, 0.05], size=n)
        factor = rng.normal(0.0, 1.0, (70, n_buckets))
        loading = rng.choice([0.0, 0.5, 0.9, 1.0], size=n)
        column = np.array([int(b[1:]) for b in buckets])
        shocks = loading * factor[:, column] + (1 - loading) * rng.normal(0.0, 1.0, (70, n))
        closes = 100.0 * np.exp(np.cumsum(shocks * vols, axis=0))
    locked: dict[str, float] = {}
    if draw(st.booleans()) and n > 1:
        asset = tickers[int(rng.integers(n))]
        locked[asset] = float(rng.uniform(0.0, 0.2))
    return PlanInputs(
        tickers=tickers,
        score=score,
        trending=trending,
        valid=rng.random(n) < 0.95,
        weights=weights,
        config=config,
        locked=locked,
        review_due=frozenset(t for t in weights if rng.random() < 0.2),
        buckets=buckets,
        days_held=days,
        favored_buckets=frozenset({"B0"}),
        regime_changed=draw(st.booleans()),
        opened=draw(st.integers(0, 2)),
        closes=closes,
        drawdown=draw(st.floats(0.0, 0.3)),
    )


def _free(inp, plan):
    """Targets the planner chose (locked ones excluded)."""
    return {a: w for a, w in plan.targets.items() if a not in inp.locked}


@settings(max_examples=300, deadline=None)
@given(plan_inputs())
def test_plan_when_random_inputs_then_no_weight_above_cap_and_total_within_target(inp):
    cfg = inp.config
    plan = plan_targets(inp)
    free = _free(inp, plan)
    assert all(0.0 < w <= cfg.max_single_position_size + TOL for w in free.values())
    locked = sum(w for w in inp.locked.values() if w > EPS)
    assert sum(free.values()) <= max(cfg.target_total_allocation - locked, 0.0) + TOL
    residual = plan.residual
    accounted = sum(free.values()) / plan.drawdown_factor if plan.drawdown_factor else None
    if accounted is not None:
        room = max(cfg.target_total_allocation - locked, 0.0)
        total = accounted + residual.cash_bucket + residual.unallocated
        assert abs(total - room) <= 1e-7


@settings(max_examples=300, deadline=None)
@given(plan_inputs())
def test_plan_when_random_inputs_then_bucket_allocation_within_limit_unless_overridden(inp):
    cfg = inp.config
    plan = plan_targets(inp)
    if not cfg.enable_bucket_diversification:
        return
    bucket_of = inp.bucket_of()
    free_by_bucket: Counter[str] = Counter()
    locked_by_bucket: Counter[str] = Counter()
    for asset, w in plan.targets.items():
        if asset in inp.locked:
            locked_by_bucket[bucket_of[asset]] += w
        elif asset not in plan.overrides:
            free_by_bucket[bucket_of[asset]] += w
    for bucket, total in free_by_bucket.items():
        allowed = max(cfg.max_bucket_allocation - locked_by_bucket[bucket], 0.0)
        assert total <= allowed + TOL


@settings(max_examples=300, deadline=None)
@given(plan_inputs())
def test_plan_when_random_inputs_then_position_counts_within_limits(inp):
    cfg = inp.config
    plan = plan_targets(inp)
    limits = plan.limits
    held = {a for a, w in inp.weights.items() if w > EPS}
    new = [a for a in _free(inp, plan) if a not in held]
    assert len(new) <= limits.new_budget
    # Opens only fill what max_total leaves (kept holdings are never closed to fit it).
    if new:
        assert len(plan.targets) <= limits.max_total
    assert len(plan.overrides) <= cfg.max_bucket_overrides
    if cfg.enable_bucket_diversification:
        bucket_of = inp.bucket_of()
        counted: Counter[str] = Counter()
        exempt = ("kept_overflow", "bucket_override")
        for asset in plan.targets:
            if asset in inp.locked or plan.choices[asset].reason not in exempt:
                counted[bucket_of[asset]] += 1
        for bucket, count in counted.items():
            assert count <= max(plan.bucket_slots.get(bucket, 0), 1)


@settings(max_examples=300, deadline=None)
@given(plan_inputs())
def test_plan_when_random_inputs_then_every_holding_has_a_reason_no_zombies(inp):
    plan = plan_targets(inp)
    for asset, w in inp.weights.items():
        if w <= EPS or asset in inp.locked:
            continue
        choice = plan.choices[asset]
        assert choice.held
        if asset in plan.targets:
            assert choice.selected and choice.reason in SELECTED_REASONS
        else:
            assert not choice.selected and choice.reason in REJECTED_REASONS
    for asset in _free(inp, plan):
        assert plan.choices[asset].selected


@settings(max_examples=150, deadline=None)
@given(plan_inputs())
def test_plan_when_book_given_in_another_order_then_same_plan(inp):
    import attrs

    shuffled = dict(reversed(list(inp.weights.items())))
    other = plan_targets(attrs.evolve(inp, weights=shuffled))
    plan = plan_targets(inp)
    assert other.targets == plan.targets and other.choices == plan.choices
