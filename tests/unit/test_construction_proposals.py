"""What the portfolio manager says about a plan: trade reasons and core requests."""

from __future__ import annotations

import datetime as dt

import attrs

from domain.construction import Choice, Limits, Plan, ResidualReport, Trade
from domain.construction.proposals import core_requests, trade_reason

DAY = dt.date(2024, 3, 4)


def choice(asset: str, reason: str = "kept", *, selected: bool = True, score: float = 0.7):
    return Choice(
        asset=asset,
        bucket="Growth",
        held=True,
        selected=selected,
        reason=reason,
        detail=f"{asset} {reason}",
        score=score,
        rank_score=score,
        rule="selection.keep_threshold",
    )


def plan(*choices: Choice, overrides=(), scaling=None, added=None, drawdown=1.0) -> Plan:
    return Plan(
        targets={c.asset: 0.1 for c in choices if c.selected},
        choices={c.asset: c for c in choices},
        overrides=overrides,
        bucket_slots={},
        bucket_scaling=scaling or {},
        residual=ResidualReport(added=added or {}),
        limits=Limits(max_total=10, max_new=3, new_budget=3),
        drawdown_factor=drawdown,
    )


def test_trade_reason_when_open_then_the_selection_detail():
    trade = Trade("AAA", "open", 0.0, 0.1, "")

    assert trade_reason(trade, plan(choice("AAA", "new")), 0.7, 0.2) == "AAA new"


def test_trade_reason_when_open_to_zero_then_withdrawal_of_an_earlier_open():
    trade = Trade("AAA", "open", 0.0, 0.0, "")

    reason = trade_reason(trade, plan(choice("AAA", "new")), 0.7, 0.2)

    assert reason == "open decided earlier today withdrawn: AAA new"


def test_trade_reason_when_close_of_selected_asset_then_drawdown_reduction_named():
    trade = Trade("AAA", "close", 0.1, 0.0, "")

    reason = trade_reason(trade, plan(choice("AAA")), 0.7, 0.2)

    assert reason == "AAA kept; target 0 after drawdown reduction"


def test_trade_reason_when_resize_above_cap_then_trim_and_every_sizing_rule_named():
    trade = Trade("AAA", "reduce", 0.25, 0.2, "")
    p = plan(
        choice("AAA", "kept_overflow"), scaling={"Growth": 0.8}, added={"AAA": 0.01}, drawdown=0.5
    )

    reason = trade_reason(trade, p, 0.71234, 0.2)

    assert reason == (
        "re-sized to target 0.2000 (score 0.712); would end the day at 0.2500, above"
        " max_single_position_size 0.2: trimmed; AAA kept_overflow; Growth scaled x0.8000"
        " to max_bucket_allocation; residual +0.0100; drawdown reduction x0.5"
    )


def test_trade_reason_when_resize_of_kept_asset_then_only_target_and_score():
    trade = Trade("AAA", "increase", 0.1, 0.15, "")

    assert trade_reason(trade, plan(choice("AAA")), 0.7, 0.2) == (
        "re-sized to target 0.1500 (score 0.700)"
    )


def test_core_requests_when_override_scores_enough_then_one_request_with_the_day():
    p = plan(choice("AAA", "bucket_override", score=0.9), overrides=("AAA",))

    (request,) = core_requests(p, DAY, threshold=0.85, core=set(), requested=set()).values()

    assert (request.asset, request.score) == ("AAA", 0.9)
    assert request.reason == "bucket override on 2024-03-04: AAA bucket_override"


def test_core_requests_when_below_threshold_core_or_already_requested_then_none():
    p = plan(
        choice("AAA", "bucket_override", score=0.8),
        choice("BBB", "bucket_override", score=0.9),
        choice("CCC", "bucket_override", score=0.9),
        choice("DDD", "bucket_override", score=0.9),
        overrides=("AAA", "BBB", "CCC", "DDD"),
    )

    out = core_requests(p, DAY, threshold=0.85, core={"BBB"}, requested={"CCC"})

    assert list(out) == ["DDD"]


def test_components_when_plan_has_cash_bucket_and_drawdown_then_rules_of_both_last():
    p = attrs.evolve(
        plan(choice("AAA"), scaling={"Growth": 0.81234567}, added={"AAA": 0.0123456789}),
        residual=ResidualReport(added={"AAA": 0.0123456789}, cash_bucket=0.0500000001),
        drawdown_factor=0.5,
    )

    out = p.components("AAA")
    other = p.components("ZZZ")

    assert list(out) == [
        "rank_score",
        "selection",
        "selection_detail",
        "bucket_override",
        "bucket_scale",
        "residual_added",
        "cash_bucket",
        "drawdown_factor",
        "rule",
        "rules",
    ]
    assert (out["bucket_scale"], out["residual_added"], out["cash_bucket"]) == (
        0.812346,
        0.012346,
        0.05,
    )
    assert list(out["rules"]) == [
        "selection",
        "bucket_scale",
        "residual_added",
        "cash_bucket",
        "drawdown_factor",
    ]
    assert other["bucket_scale"] == 1.0 and other["residual_added"] == 0.0
    assert list(other["rules"]) == ["cash_bucket", "drawdown_factor"]
    assert other["selection"] is None and other["rule"] is None
