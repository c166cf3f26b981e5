"""Holding period: minimum holding blocks and the forced review at the maximum."""

from __future__ import annotations

import pytest

from domain.messages import ABSTAIN, APPROVE, BLOCK, CLOSE, INCREASE, OPEN, REDUCE
from domain.protections.base import PositionView, StartingHolding
from domain.protections.holding_period import HoldingPeriodProtection
from domain.protections.registry import PRIORITIES
from tests.unit.protection_support import (
    config,
    day,
    day_ctx,
    fill,
    notices,
    proposal,
    review_ctx,
)


def make(**overrides) -> HoldingPeriodProtection:
    return HoldingPeriodProtection(config(**overrides), priority=PRIORITIES["holding_period"])


def bought_on(n: int, **overrides) -> HoldingPeriodProtection:
    hp = make(**overrides)
    hp.observe(fill("AAA", "buy", 0.1), day(n))
    return hp


@pytest.mark.parametrize("action", [CLOSE, REDUCE, INCREASE])
def test_review_when_held_fewer_than_min_days_then_blocked(action):
    hp = bought_on(0, position_holding_period_min=3)

    v = hp.review(proposal("AAA", action, 0.1, 0.05), review_ctx(day(1)))

    assert v.stance == BLOCK
    assert v.reason == "held 1 of 3 minimum days"
    assert v.priority == 4


@pytest.mark.parametrize("action", [CLOSE, REDUCE, INCREASE])
def test_review_when_held_min_days_then_approved(action):
    hp = bought_on(0, position_holding_period_min=3)

    v = hp.review(proposal("AAA", action, 0.1, 0.05), review_ctx(day(3)))

    assert v.stance == APPROVE


def test_review_when_open_of_new_asset_then_never_blocked():
    hp = make()

    v = hp.review(proposal("AAA", OPEN, 0.0, 0.1), review_ctx(day(0)))

    assert v.stance == ABSTAIN


def test_observe_when_buy_adds_to_held_position_then_entry_date_kept():
    hp = bought_on(0)

    hp.observe(fill("AAA", "buy", 0.15), day(2))

    assert hp.entry("AAA") == day(0)


def test_observe_when_sold_to_zero_and_rebought_then_entry_date_restarts():
    hp = bought_on(0)
    hp.observe(fill("AAA", "sell", 0.0), day(5))
    hp.observe(fill("AAA", "buy", 0.1), day(6))

    v = hp.review(proposal("AAA", CLOSE), review_ctx(day(7)))

    assert hp.entry("AAA") == day(6)
    assert v.stance == BLOCK


def test_start_when_starting_holding_entered_recently_then_blocked_until_min_days():
    hp = make(position_holding_period_min=3)
    hp.start(day(0), {"AAA": StartingHolding("AAA", 0.1, entered=day(-1))})

    assert hp.review(proposal("AAA", REDUCE), review_ctx(day(1))).stance == BLOCK
    assert hp.review(proposal("AAA", REDUCE), review_ctx(day(2))).stance == APPROVE


def test_review_when_entry_unknown_but_position_given_then_uses_position_entry():
    hp = make(position_holding_period_min=3)
    position = PositionView("AAA", 0.1, entered=day(0))

    v = hp.review(proposal("AAA", CLOSE), review_ctx(day(2), position))

    assert v.stance == BLOCK


def test_housekeep_when_max_days_reached_then_one_review_notice_per_period():
    hp = make(position_holding_period_max=90, min_score_new_position=0.65)
    hp.start(day(0), {"AAA": StartingHolding("AAA", 0.1, entered=day(0))})

    def at(n):
        return hp.housekeep(day_ctx(day(n), holdings={"AAA": 0.1}, scores={"AAA": 0.62}))

    assert at(89) == []
    (review,) = at(90)
    assert at(91) == []
    assert at(179) == []
    (second,) = at(180)

    assert review.event == "holding_review"
    assert review.details["days_held"] == 90
    assert review.details["required_score"] == 0.65
    assert review.details["meets_required"] is False
    assert second.details["days_held"] == 180


def test_housekeep_when_position_gone_then_entry_forgotten():
    hp = bought_on(0)

    out = hp.housekeep(day_ctx(day(100), holdings={}))

    assert notices(out) == []
    assert hp.entry("AAA") is None
    assert hp.status("AAA", day(100)) == {}


def test_status_when_held_then_days_held():
    hp = bought_on(0)

    assert hp.status("AAA", day(4)) == {"days_held": 4}
