"""The fuzz oracles (`sim.fuzz.oracles`): each rule's reference outcome at its boundary,
as behaviour.md states it."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.fuzz import oracles
from sim.fuzz.documents import trading_days

MON = dt.date(2024, 1, 1)
THU = dt.date(2024, 1, 4)


def _day(n: int, start: dt.date = MON) -> dt.date:
    return start + dt.timedelta(days=n)


@pytest.mark.parametrize(("held", "blocked"), [(2, True), (3, False), (4, False)])
def test_holding_blocks_when_days_held_around_minimum_then_blocked_only_below(held, blocked):
    assert oracles.holding_blocks("close", held, 3) is blocked
    assert oracles.holding_blocks("reduce", held, 3) is blocked
    assert oracles.holding_blocks("increase", held, 3) is blocked


def test_holding_blocks_when_open_then_never_blocked():
    assert not oracles.holding_blocks("open", 0, 3)


def test_forced_review_days_when_period_reached_then_reviewed_every_period():
    days = trading_days(MON, 30)  # to Friday 9 February
    reviews = oracles.forced_review_days(_day(-8), 10, days)
    # due Wed 3 Jan; then Sat 13 -> Mon 15; Thu 25; Sun 4 Feb -> Mon 5 Feb
    assert reviews == [_day(2), _day(14), _day(24), _day(35)]


def test_forced_review_days_when_due_on_weekend_then_next_monday():
    days = trading_days(MON, 10)
    assert oracles.forced_review_days(_day(-1), 7, days)[0] == _day(7)  # due Sun 7: Mon 8
    assert oracles.forced_review_days(_day(-2), 7, days)[0] == _day(7)  # due Sat 6: Mon 8
    assert oracles.forced_review_days(_day(-3), 7, days)[0] == _day(4)  # due Fri 5


def test_review_keeps_when_score_at_entry_threshold_then_kept():
    assert oracles.review_keeps(0.65, 0.65)
    assert not oracles.review_keeps(0.65 - 1e-6, 0.65)


def test_whipsaw_open_blocked_when_cycle_ages_out_then_open_passes():
    closes = [_day(3)]
    assert oracles.whipsaw_open_blocked(_day(16), closes, 14, 1)
    assert not oracles.whipsaw_open_blocked(_day(17), closes, 14, 1)


def test_whipsaw_open_blocked_when_fewer_cycles_than_limit_then_open_passes():
    closes = [_day(1), _day(3)]
    assert not oracles.whipsaw_open_blocked(_day(4), closes[:1], 14, 2)
    assert oracles.whipsaw_open_blocked(_day(4), closes, 14, 2)
    assert not oracles.whipsaw_open_blocked(_day(15), closes, 14, 2)  # the first left


@pytest.mark.parametrize(("hours", "blocked"), [(23, False), (24, False), (25, True)])
def test_whipsaw_close_blocked_when_one_day_old_then_blocked_below_24_hours(hours, blocked):
    assert oracles.whipsaw_close_blocked(_day(1), MON, hours) is blocked


def test_grace_close_day_when_expiry_on_weekend_then_monday():
    days = trading_days(THU, 10)
    assert oracles.grace_close_day(THU, 2, days) == _day(4, THU)  # Saturday -> Monday
    assert oracles.grace_close_day(THU, 1, days) == _day(1, THU)  # Friday


def test_grace_factor_when_decay_reaches_floor_then_floor():
    assert [oracles.grace_factor(0.8, 0.1, k) for k in range(3)] == [1.0, 0.8, 0.8**2]
    assert oracles.grace_factor(0.5, 0.125, 3) == 0.125
    assert oracles.grace_factor(0.5, 0.125, 4) == 0.125


def test_extensions_granted_when_limit_two_then_third_refused():
    assert oracles.extensions_granted(2, 3) == [True, True, False]
    assert oracles.extensions_granted(0, 1) == [False]


def test_recovers_when_score_at_threshold_then_recovered():
    assert oracles.recovers(0.6, 0.6)
    assert not oracles.recovers(0.6 - 1e-6, 0.6)


def test_thresholds_when_score_below_by_less_than_the_published_places_then_at_threshold():
    # a score is published to 6 places and every threshold compares that value
    assert oracles.keeps(0.6 - 1e-9, 0.6) and oracles.recovers(0.6 - 1e-9, 0.6)
    assert oracles.review_keeps(0.65 - 1e-9, 0.65) and oracles.opens(0.65 - 1e-9, 0.9, 0.65, 0.7)


def test_core_expiry_day_when_library_example_then_ninth():
    days = trading_days(MON, 20)
    assert oracles.core_expiry_day(MON, 8, days) == dt.date(2024, 1, 9)


def test_core_expiry_day_when_run_too_short_then_none():
    assert oracles.core_expiry_day(MON, 30, trading_days(MON, 5)) is None


@pytest.mark.parametrize(
    ("already", "limit", "requests", "granted"),
    [
        (2, 3, 2, [True, False]),
        (0, 3, 4, [True, True, True, False]),
        (0, 0, 1, [False]),
        (3, 3, 1, [False]),
    ],
)
def test_core_designations_when_limit_reached_then_refused(already, limit, requests, granted):
    assert oracles.core_designations(already, limit, requests) == granted


def test_keeps_when_score_at_threshold_then_kept():
    assert oracles.keeps(0.6, 0.6)
    assert not oracles.keeps(0.6 - 1e-6, 0.6)


def test_opens_when_either_quantity_below_then_not_opened():
    assert oracles.opens(0.65, 0.7, 0.65, 0.7)
    assert not oracles.opens(0.65 - 1e-6, 0.9, 0.65, 0.7)
    assert not oracles.opens(0.9, 0.7 - 1e-9, 0.65, 0.7)


@pytest.mark.parametrize(("candidates", "opened"), [(2, 2), (3, 3), (4, 3)])
def test_opens_allowed_when_candidates_around_limit_then_at_most_limit(candidates, opened):
    assert oracles.opens_allowed(candidates, 3) == opened


def test_capped_weights_when_behaviour_example_then_its_figures():
    weights = oracles.capped_weights([0.95, 0.9, 0.8, 0.7, 0.66], 0.2, 0.95)
    assert weights[:3] == [0.2, 0.2, 0.2]
    assert weights[3] == pytest.approx(0.1801, abs=1e-4)
    assert weights[4] == pytest.approx(0.1699, abs=1e-4)


def test_capped_weights_when_top_share_just_below_cap_then_proportional():
    # share of the top = 0.95 x 0.7 / (0.7 + 4 x s) just below 0.2: nothing capped
    s = 0.7 * (0.95 - 0.2 * (1 - 1e-6)) / (0.2 * (1 - 1e-6) * 4)
    weights = oracles.capped_weights([0.7, s, s, s, s], 0.2, 0.95)
    assert weights[0] < 0.2
    assert sum(weights) == pytest.approx(0.95)
