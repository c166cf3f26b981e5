"""Grace period: start, decay schedule, floor, expiry close, recovery, core exemption, amend."""

from __future__ import annotations

import attrs
import pytest

from domain.messages import ABSTAIN, AMEND, CLOSE, GRANT, OPEN, REDUCE, NoticeIssued
from domain.protections.base import StartingHolding
from domain.protections.grace_period import GracePeriodProtection
from domain.protections.registry import PRIORITIES
from tests.unit.protection_support import (
    config,
    day,
    day_ctx,
    fill,
    notices,
    proposal,
    proposals,
    review_ctx,
)

LOW = 0.4  # below min_score_threshold 0.6
HIGH = 0.7


def make(**overrides) -> GracePeriodProtection:
    return GracePeriodProtection(config(**overrides), priority=PRIORITIES["grace_period"])


def run_days(grace: GracePeriodProtection, start_weight: float, days: int, score: float = LOW):
    """Housekeep on consecutive calendar days, filling every proposal; returns per-day output."""
    weight = start_weight
    out = []
    for n in range(days):
        msgs = grace.housekeep(
            day_ctx(day(n), holdings={"AAA": weight}, scores={"AAA": score}, step=n)
        )
        out.append(msgs)
        for p in proposals(msgs):
            weight = p.to_weight
            grace.observe(fill("AAA", "sell", weight), day(n))
        if weight <= 0:
            break
    return out


def test_housekeep_when_score_below_threshold_then_grace_started_without_proposal():
    grace = make()

    out = grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    (started,) = out
    assert started.event == "grace_started"
    assert started.details["start_weight"] == 0.1
    assert started.details["score"] == LOW
    assert started.details["threshold"] == 0.6
    assert grace.in_grace("AAA")


def test_housekeep_when_score_at_threshold_then_no_grace():
    grace = make(min_score_threshold=0.6)

    out = grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": 0.6}))

    assert out == []
    assert not grace.in_grace("AAA")


def test_housekeep_when_in_grace_on_consecutive_days_then_exact_decay_then_close_at_expiry():
    grace = make(grace_period_days=5, grace_period_decay_rate=0.8, min_decay_factor=0.1)

    days = run_days(grace, 0.1, 6)

    targets = [[p.to_weight for p in proposals(msgs)] for msgs in days]
    assert targets[0] == []
    assert [t[0] / 0.1 for t in targets[1:5]] == pytest.approx([0.8, 0.64, 0.512, 0.4096])
    assert all(p.action == REDUCE for msgs in days[1:5] for p in proposals(msgs))
    (close,) = proposals(days[5])
    assert close.action == CLOSE and close.to_weight == 0.0
    assert close.reason == "grace period expired after 5 days"
    assert close.origin == "grace_period"
    assert close.proposal_id == "5:grace_period:AAA"
    assert [n.event for n in notices(days[5])] == ["grace_expired"]
    assert [n.details["grace_day"] for n in notices(days[2], "grace_decay")] == [2]


def test_housekeep_when_decay_reaches_floor_then_size_never_below_min_decay_factor():
    grace = make(grace_period_days=30, grace_period_decay_rate=0.8, min_decay_factor=0.1)

    days = run_days(grace, 0.1, 15)

    targets = [p.to_weight for msgs in days for p in proposals(msgs)]
    # 0.8**10 = 0.107 > 0.1, 0.8**11 = 0.086 < 0.1: day 11 is the floor, then no more trades
    assert len(targets) == 11
    assert targets[9] == pytest.approx(0.1 * 0.8**10)
    assert targets[10] == pytest.approx(0.1 * 0.1)
    assert all(proposals(msgs) == [] for msgs in days[12:])
    assert grace.scheduled_weight("AAA", day(14)) == pytest.approx(0.01)


def test_housekeep_when_score_recovers_in_grace_then_grace_ends():
    grace = make()
    grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    out = grace.housekeep(day_ctx(day(1), holdings={"AAA": 0.1}, scores={"AAA": HIGH}))

    assert [n.event for n in out] == ["grace_recovered"]
    assert proposals(out) == []
    assert not grace.in_grace("AAA")
    assert grace.status("AAA", day(1)) == {}


def test_housekeep_when_starting_holding_designated_core_then_exempt_from_grace():
    grace = make()
    grace.start(day(0), {"AAA": StartingHolding("AAA", 0.1, day(-30), core=True)})
    grace.observe(NoticeIssued(event="core_designated", asset="AAA"), day(0))

    out = grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    assert out == []
    assert not grace.in_grace("AAA")


def test_housekeep_when_starting_core_flag_but_no_designation_then_grace_applies():
    grace = make()
    grace.start(day(0), {"AAA": StartingHolding("AAA", 0.1, day(-30), core=True)})

    out = grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    assert [n.event for n in out] == ["grace_started"]
    assert grace.in_grace("AAA")


def test_housekeep_when_core_designated_during_grace_then_leaves_grace():
    grace = make()
    grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))
    grace.observe(NoticeIssued(event="core_designated", asset="AAA"), day(1))

    out = grace.housekeep(day_ctx(day(1), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    assert [n.event for n in out] == ["grace_exempt"]
    assert proposals(out) == []
    assert not grace.in_grace("AAA")


def test_housekeep_when_core_revoked_then_grace_applies_again():
    grace = make()
    grace.observe(NoticeIssued(event="core_designated", asset="AAA"), day(0))
    grace.observe(NoticeIssued(event="core_revoked", asset="AAA"), day(1))

    out = grace.housekeep(day_ctx(day(1), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    assert [n.event for n in out] == ["grace_started"]


def test_start_when_core_refused_notice_seen_first_then_flag_ignored():
    grace = make()
    refused = NoticeIssued(
        event="core_refused", asset="AAA", details={"core_assets": ["BBB", "CCC", "DDD"]}
    )
    grace.observe(refused, day(0))
    grace.start(day(0), {"AAA": StartingHolding("AAA", 0.1, day(-30), core=True)})

    assert not grace.is_core("AAA")


def test_observe_when_position_sold_to_zero_then_record_dropped():
    grace = make()
    grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    grace.observe(fill("AAA", "sell", 0.0), day(1))

    assert not grace.in_grace("AAA")


def test_review_when_other_origin_closes_asset_in_grace_then_amended_into_schedule():
    grace = make(grace_period_days=5)
    grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    v = grace.review(proposal("AAA", CLOSE, 0.1, 0.0), review_ctx(day(2)))

    assert v.stance == AMEND
    assert v.amended_weight == pytest.approx(0.064)
    assert v.reason == "amended into the grace schedule, day 2"


def test_review_when_other_origin_closes_after_grace_expiry_then_not_amended():
    grace = make(grace_period_days=5)
    grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    v = grace.review(proposal("AAA", CLOSE, 0.03, 0.0), review_ctx(day(5)))

    assert v.stance == ABSTAIN


def test_review_when_reduce_keeps_above_schedule_then_abstain():
    grace = make()
    grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    v = grace.review(proposal("AAA", REDUCE, 0.1, 0.09), review_ctx(day(1)))

    assert v.stance == ABSTAIN


def test_review_when_own_proposal_then_granted():
    grace = make()
    grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    v = grace.review(proposal("AAA", REDUCE, 0.1, 0.08, origin="grace_period"), review_ctx(day(1)))

    assert v.stance == GRANT


@pytest.mark.parametrize("action", [CLOSE, OPEN])
def test_review_when_asset_not_in_grace_then_abstain(action):
    v = make().review(proposal("AAA", action), review_ctx(day(0)))

    assert v.stance == ABSTAIN


def test_status_when_in_grace_then_grace_day():
    grace = make()
    grace.housekeep(day_ctx(day(0), holdings={"AAA": 0.1}, scores={"AAA": LOW}))

    assert grace.status("AAA", day(3)) == {"grace_day": 3}


def test_housekeep_when_bucket_mates_in_grace_exceed_bucket_limit_then_share_it():
    # AAA and BBB (bucket R, limit 0.35) enter grace at 0.25 each: together 0.5. On day 1
    # their schedules (0.2 each, 0.4 together) would still hold R above 0.35, so each gets
    # 0.35 x 0.2 / 0.4 = 0.175: grace cuts faster than the limit, never slower.
    grace = make(max_bucket_allocation=0.35, max_single_position_size=0.25)
    bucket_of = {"AAA": "R", "BBB": "R", "CCC": "D"}
    holdings = {"AAA": 0.25, "BBB": 0.25, "CCC": 0.25}
    low = {"AAA": LOW, "BBB": LOW, "CCC": LOW}
    grace.housekeep(day_ctx(day(0), holdings=holdings, scores=low, bucket_of=bucket_of))

    out = grace.housekeep(day_ctx(day(1), holdings=holdings, scores=low, bucket_of=bucket_of))

    targets = {p.asset: p.to_weight for p in proposals(out)}
    assert targets == pytest.approx({"AAA": 0.175, "BBB": 0.175, "CCC": 0.2})
    ctx = attrs.evolve(review_ctx(day(1)), bucket_of=bucket_of)
    v = grace.review(proposal("BBB", CLOSE, 0.25, 0.0), ctx)
    assert v.stance == AMEND and v.amended_weight == pytest.approx(0.175)


def test_housekeep_when_bucket_diversification_off_then_only_the_cap_bounds_grace():
    grace = make(max_bucket_allocation=0.35, enable_bucket_diversification=False)
    bucket_of = {"AAA": "R", "BBB": "R"}
    holdings = {"AAA": 0.2, "BBB": 0.2}
    low = {"AAA": LOW, "BBB": LOW}
    grace.housekeep(day_ctx(day(0), holdings=holdings, scores=low, bucket_of=bucket_of))

    out = grace.housekeep(day_ctx(day(1), holdings=holdings, scores=low, bucket_of=bucket_of))

    assert [p.to_weight for p in proposals(out)] == pytest.approx([0.16, 0.16])
