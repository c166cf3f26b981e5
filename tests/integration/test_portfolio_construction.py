"""Portfolio construction through the whole model: smart overrides asking the core_asset
agent for a designation, no zombie positions, the plan's numbers in proposal payloads,
dynamic limits from the market, drawdown reduction and re-planning around approved opens.

Prices are flat explicit paths unless a rule needs them to move; scores and trending
confidences are scripted. Day offsets are calendar days from `builders.MONDAY`.
"""

from __future__ import annotations

import pytest

from domain.scenario import Holding
from tests.integration.builders import (
    day,
    decisions,
    held,
    iso,
    make_scenario,
    messages,
    notices,
    proposals,
    run_model,
    script,
)


def _override_scenario(b_score=0.96, days=4):
    """A and B share bucket Eq with one slot: A takes it, B (>= 0.95) comes in by a smart
    bucket override on day 0."""
    return make_scenario(
        assets=("A", "B"),
        days=days,
        buckets={"Eq": ("A", "B")},
        scores=script("A", (0, 0.97)) + script("B", (0, b_score)),
        trending=script("A", (0, 0.9)) + script("B", (0, 0.9)),
    )


def test_override_when_granted_then_core_requested_next_morning_and_designated():
    _, db = run_model(_override_scenario(), max_positions_per_bucket=1)

    opened = [p for p in proposals(db, "B") if p["action"] == "open"]
    assert [p["date"] for p in opened] == [iso(0)]
    assert opened[0]["components"]["selection"] == "bucket_override"
    assert opened[0]["components"]["bucket_override"] is True
    assert opened[0]["reason"].startswith("bucket override: score 0.960")
    assert proposals(db, "A")[0]["components"]["selection"] == "new"

    requests = messages(db, "core_request")
    assert [(r["date"], r["asset"], r["sender"], r["recipient"]) for r in requests] == [
        (iso(1), "B", "portfolio_manager", "core_asset")
    ]
    assert requests[0]["score"] == 0.96
    assert requests[0]["reason"].startswith(f"bucket override on {iso(0)}")
    designated = notices(db, "core_designated", asset="B")
    assert [n["date"] for n in designated] == [iso(1)]
    assert designated[0]["in_reply_to"] == requests[0]["id"]


def test_override_when_core_limit_reached_then_request_refused_once():
    _, db = run_model(_override_scenario(), max_positions_per_bucket=1, max_core_assets=0)

    assert [r["date"] for r in messages(db, "core_request")] == [iso(1)]
    refused = notices(db, "core_refused", asset="B")
    assert [n["date"] for n in refused] == [iso(1)]
    assert "max_core_assets (0) reached" in refused[0]["details"]["reason"]
    assert held(db, "B") == [iso(k) for k in (0, 1, 2, 3)]  # the override still holds it


def test_override_when_core_management_off_then_no_request():
    model, db = run_model(
        _override_scenario(), max_positions_per_bucket=1, enable_core_asset_management=False
    )
    assert not model.has_agent("core_asset")
    assert [p["action"] for p in proposals(db, "B")] == ["open"]
    assert messages(db, "core_request") == []


def test_override_when_score_below_core_threshold_then_override_without_core_request():
    _, db = run_model(
        _override_scenario(b_score=0.92),
        max_positions_per_bucket=1,
        bucket_override_threshold=0.9,
    )
    assert proposals(db, "B")[0]["components"]["selection"] == "bucket_override"
    assert messages(db, "core_request") == []


def test_holding_when_not_trending_then_never_closed_as_not_selected():
    scenario = make_scenario(
        assets=("H",),
        days=6,
        portfolio={"H": Holding(0.2, entered=day(-30))},
        scores=script("H", (0, 0.7)),
        trending=script("H", (0, 0.0)),
    )
    _, db = run_model(scenario)
    assert [p for p in proposals(db, "H") if p["action"] == "close"] == []
    assert held(db, "H") == [iso(k) for k in (0, 1, 2, 3, 4, 7)]


def test_holding_when_trending_existing_required_then_closed_with_that_reason():
    scenario = make_scenario(
        assets=("H",),
        days=2,
        portfolio={"H": Holding(0.2, entered=day(-30))},
        scores=script("H", (0, 0.7)),
        trending=script("H", (0, 0.3)),
        enabled={"grace_period": False},
    )
    _, db = run_model(scenario, trending_confidence_existing=0.5)
    (close,) = proposals(db, "H")
    assert close["action"] == "close"
    assert close["reason"] == "trending 0.30 below trending_confidence_existing 0.5"
    assert close["components"]["selection"] == "below_trending_existing"


def test_proposal_when_holding_resized_then_payload_has_rank_score_selection_and_cash_bucket():
    # H held 65 days: ranked 0.8 x 0.95^2. Its 0.3 is above the 0.2 cap: reduced to 0.2;
    # the rest of the 0.95 target (0.75) finds no room and is the cash bucket.
    scenario = make_scenario(
        assets=("H",),
        days=1,
        portfolio={"H": Holding(0.3, entered=day(-65))},
        scores=script("H", (0, 0.8)),
        trending=script("H", (0, 0.0)),
    )
    _, db = run_model(scenario)
    (reduce,) = proposals(db, "H")
    comps = reduce["components"]
    assert (reduce["action"], reduce["to_weight"]) == ("reduce", pytest.approx(0.2))
    assert comps["rank_score"] == pytest.approx(0.8 * 0.95**2)
    assert (comps["selection"], comps["bucket_override"]) == ("kept", False)
    assert comps["cash_bucket"] == pytest.approx(0.75)
    assert (comps["bucket"], comps["bucket_scale"], comps["drawdown_factor"]) == (
        "Unknown",
        1.0,
        1.0,
    )
    assert comps["selection_detail"] == "holding kept: score 0.800 >= min_score_threshold 0.6"


def _four_candidates(paths=None):
    assets = ("A", "B", "C", "D")
    return make_scenario(
        assets=assets,
        days=12,
        paths=paths,
        buckets={f"B{a}": (a,) for a in assets},
        scores=[s for a in assets for s in script(a, (0, 0.3), (14, 0.9))],
        trending=[s for a in assets for s in script(a, (0, 0.9))],
    )


@pytest.mark.parametrize(("swing", "opened"), [(False, 3), (True, 1)])
def test_plan_when_market_volatile_then_max_new_halves(swing, opened):
    # From day 0 every close alternates 100 / 104 (about 45 % a year by day 14); the four
    # assets become candidates on day 14: three opens in a calm market, one in this one.
    paths = {a: [100.0, 104.0] * 6 for a in "ABCD"} if swing else None
    _, db = run_model(_four_candidates(paths), volatility_position_scaling=False)
    opens = [d for d in decisions(db) if d["action"] == "open" and d["date"] == iso(14)]
    assert len(opens) == opened
    assert [d for d in decisions(db) if d["date"] < iso(14)] == []


def test_plan_when_drawdown_above_trigger_then_targets_reduced_and_said_so():
    # A crashes 40 % on day 1: drawdown about 19 % > 10 %, targets x 0.8 (0.475 -> 0.38).
    scenario = make_scenario(
        assets=("A", "B"),
        days=3,
        paths={"A": [100.0, 60.0]},
        buckets={"X": ("A",), "Y": ("B",)},
        portfolio={"A": Holding(0.5, entered=day(-30)), "B": Holding(0.4, entered=day(-30))},
        scores=script("A", (0, 0.9)) + script("B", (0, 0.9)),
        trending=script("A", (0, 0.9)) + script("B", (0, 0.9)),
    )
    _, db = run_model(
        scenario,
        max_single_position_size=0.5,
        max_bucket_allocation=0.5,
        volatility_position_scaling=False,
    )
    day1 = [p for p in proposals(db) if p["date"] == iso(1)]
    assert {p["asset"]: round(p["to_weight"], 6) for p in day1} == {"A": 0.38, "B": 0.38}
    assert all(p["components"]["drawdown_factor"] == 0.8 for p in day1)
    assert all("drawdown reduction x0.8" in p["reason"] for p in day1)


def test_replan_when_earlier_round_opened_positions_then_they_are_re_sized_not_forgotten():
    # A (0.3, score 0.3) is held back by grace in round 0, so round 1 re-plans with A
    # locked at 0.3. B and C, opened in round 0, are part of that plan: they share the
    # 0.65 left instead of keeping round 0's 0.95 (which would overdraw the cash).
    scenario = make_scenario(
        assets=("A", "B", "C"),
        days=1,
        buckets={"X": ("A",), "Y": ("B",), "Z": ("C",)},
        portfolio={"A": Holding(0.3, entered=day(-30))},
        scores=script("A", (0, 0.3)) + script("B", (0, 0.9)) + script("C", (0, 0.85)),
        trending=script("A", (0, 0.0)) + script("B", (0, 0.9)) + script("C", (0, 0.9)),
    )
    _, db = run_model(
        scenario,
        max_single_position_size=0.5,
        max_bucket_allocation=0.5,
        volatility_position_scaling=False,
    )
    rounds = {(p["asset"], p["round"]): p["to_weight"] for p in proposals(db)}
    assert set(rounds) == {("A", 0), ("B", 0), ("C", 0), ("B", 1), ("C", 1)}
    assert rounds[("B", 1)] + rounds[("C", 1)] == pytest.approx(0.65)
    assert notices(db, "buys_scaled") == []
    after = {f["asset"]: f["weight_after"] for f in messages(db, "fill")}
    assert after["B"] + after["C"] == pytest.approx(0.65, abs=0.002)


def test_bench_construction_when_tiny_then_times_every_step_and_holds_a_book():
    from bench.bench_construction import bench_size

    result = bench_size(assets=30, steps=6, seed=0)
    assert len(result.plan_ms) == len(result.inputs_ms) == len(result.trades_ms) == 6
    assert 0 < result.mean_positions <= 10
