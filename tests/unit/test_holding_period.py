"""Holding period: minimum holding blocks and the forced review at the maximum.

The entry date is the book's: every test gives the position (`PositionView.entered`).
"""

from __future__ import annotations

import pytest

from domain.messages import ABSTAIN, APPROVE, BLOCK, CLOSE, INCREASE, OPEN, REDUCE
from domain.protections.base import PositionView
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


def held_since(n: int, weight: float = 0.1) -> PositionView:
    """AAA on the book, entered on day `n`."""
    return PositionView("AAA", weight, entered=day(n))


@pytest.mark.parametrize("action", [CLOSE, REDUCE, INCREASE])
def test_review_when_held_fewer_than_min_days_then_blocked(action):
    hp = make(position_holding_period_min=3)

    v = hp.review(proposal("AAA", action, 0.1, 0.05), review_ctx(day(1), held_since(0)))

    assert v.stance == BLOCK
    assert v.reason == "held 1 of 3 minimum days"
    assert v.priority == 4


@pytest.mark.parametrize("action", [CLOSE, REDUCE, INCREASE])
def test_review_when_held_min_days_then_approved(action):
    hp = make(position_holding_period_min=3)

    v = hp.review(proposal("AAA", action, 0.1, 0.05), review_ctx(day(3), held_since(0)))

    assert v.stance == APPROVE


def test_review_when_open_of_new_asset_then_never_blocked():
    hp = make()

    v = hp.review(proposal("AAA", OPEN, 0.0, 0.1), review_ctx(day(0)))

    assert v.stance == ABSTAIN


def test_review_when_position_entered_later_then_days_count_from_the_books_entry():
    hp = make(position_holding_period_min=3)

    v = hp.review(proposal("AAA", CLOSE), review_ctx(day(7), held_since(6)))

    assert (v.stance, v.reason) == (BLOCK, "held 1 of 3 minimum days")


def test_review_when_starting_holding_entered_before_start_then_blocked_until_min_days():
    hp = make(position_holding_period_min=3)

    assert hp.review(proposal("AAA", REDUCE), review_ctx(day(1), held_since(-1))).stance == BLOCK
    assert hp.review(proposal("AAA", REDUCE), review_ctx(day(2), held_since(-1))).stance == APPROVE


def test_review_when_not_on_the_book_then_abstains():
    hp = make()

    v = hp.review(proposal("AAA", CLOSE), review_ctx(day(2)))

    assert (v.stance, v.reason) == (ABSTAIN, "AAA is not held")


def test_housekeep_when_max_days_reached_then_one_review_notice_per_period():
    hp = make(position_holding_period_max=90, min_score_new_position=0.65)

    def at(n):
        return hp.housekeep(
            day_ctx(day(n), holdings={"AAA": 0.1}, entered={"AAA": day(0)}, scores={"AAA": 0.62})
        )

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


def test_housekeep_when_position_sold_to_zero_and_rebought_then_review_period_restarts():
    hp = make(position_holding_period_max=10)

    def at(n, entered):
        return hp.housekeep(day_ctx(day(n), holdings={"AAA": 0.1}, entered={"AAA": day(entered)}))

    assert notices(at(10, 0), "holding_review")  # reviewed on day 10: next due on day 20
    hp.observe(fill("AAA", "sell", 0.0), day(12))
    assert at(20, 15) == []  # re-entered on day 15: due on day 25, not 20
    (review,) = at(25, 15)

    assert review.details["days_held"] == 10 and review.details["entered"] == day(15)


def test_housekeep_when_position_gone_then_review_period_forgotten():
    hp = make(position_holding_period_max=10)
    hp.housekeep(day_ctx(day(10), holdings={"AAA": 0.1}, entered={"AAA": day(0)}))

    assert hp.housekeep(day_ctx(day(11), holdings={})) == []
    (review,) = hp.housekeep(
        day_ctx(day(12), holdings={"AAA": 0.1}, entered={"AAA": day(0)})
    )  # back on the book with its old entry: the period runs from the entry again

    assert review.details["days_held"] == 12


def test_status_when_held_then_days_held_from_the_position():
    hp = make()

    assert hp.status("AAA", day(4), held_since(0)) == {"days_held": 4}


def test_status_when_not_held_then_no_flags():
    hp = make()

    assert hp.status("AAA", day(4)) == {}
    assert hp.status("AAA", day(4), PositionView("AAA", 0.1, entered=None)) == {}
