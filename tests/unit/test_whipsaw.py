"""Whipsaw protection: cycle counting in the window, open limit, reset, minimum duration."""

from __future__ import annotations

from domain.messages import ABSTAIN, APPROVE, BLOCK, CLOSE, OPEN, REDUCE
from domain.protections.base import StartingHolding
from domain.protections.registry import PRIORITIES
from domain.protections.whipsaw import WhipsawProtection
from tests.unit.protection_support import config, day, fill, proposal, review_ctx


def make(**overrides) -> WhipsawProtection:
    return WhipsawProtection(config(**overrides), priority=PRIORITIES["whipsaw"])


def cycle(ws: WhipsawProtection, opened: int, closed: int, asset: str = "AAA") -> None:
    ws.observe(fill(asset, "buy", 0.1), day(opened))
    ws.observe(fill(asset, "sell", 0.0), day(closed))


def test_recent_cycles_when_close_inside_window_then_counted_until_window_passes():
    ws = make(whipsaw_protection_days=14)
    cycle(ws, 0, 2)

    assert ws.recent_cycles("AAA", day(1)) == 0
    assert ws.recent_cycles("AAA", day(2)) == 1
    assert ws.recent_cycles("AAA", day(15)) == 1
    assert ws.recent_cycles("AAA", day(16)) == 0


def test_recent_cycles_when_partial_sells_and_top_ups_then_only_full_round_trips_count():
    ws = make()
    ws.observe(fill("AAA", "buy", 0.1), day(0))
    ws.observe(fill("AAA", "buy", 0.2), day(1))
    ws.observe(fill("AAA", "sell", 0.05), day(2))

    assert ws.recent_cycles("AAA", day(3)) == 0
    ws.observe(fill("AAA", "sell", 0.0), day(3))
    assert ws.recent_cycles("AAA", day(3)) == 1
    assert ws.recent_cycles("BBB", day(3)) == 0


def test_review_when_open_at_cycle_limit_then_blocked_with_count_window_and_reset():
    ws = make(whipsaw_max_cycles=1, whipsaw_protection_days=14)
    cycle(ws, 0, 2)

    v = ws.review(proposal("AAA", OPEN, 0.0, 0.1), review_ctx(day(5)))

    assert v.stance == BLOCK
    assert v.priority == 5
    assert "1 open/close cycle(s) in the last 14 days (limit 1)" in v.reason
    assert "in 11 days" in v.reason


def test_review_when_open_below_cycle_limit_then_approved():
    ws = make(whipsaw_max_cycles=2)
    cycle(ws, 0, 2)

    v = ws.review(proposal("AAA", OPEN, 0.0, 0.1), review_ctx(day(5)))

    assert v.stance == APPROVE


def test_days_until_reset_when_window_passes_then_exact_and_open_allowed_on_reset_day():
    ws = make(whipsaw_max_cycles=1, whipsaw_protection_days=14)
    cycle(ws, 0, 2)

    assert ws.days_until_reset("AAA", day(5)) == 11
    assert ws.days_until_reset("AAA", day(15)) == 1
    assert ws.review(proposal("AAA", OPEN, 0.0, 0.1), review_ctx(day(15))).stance == BLOCK
    assert ws.days_until_reset("AAA", day(16)) == 0
    assert ws.review(proposal("AAA", OPEN, 0.0, 0.1), review_ctx(day(16))).stance == APPROVE


def test_days_until_reset_when_more_cycles_than_limit_then_waits_for_enough_to_leave():
    ws = make(whipsaw_max_cycles=2, whipsaw_protection_days=14)
    cycle(ws, 0, 2)
    cycle(ws, 4, 6)
    cycle(ws, 8, 10)

    # two of the three cycles must leave: the second close (day 6) leaves on day 20
    assert ws.days_until_reset("AAA", day(11)) == 9
    assert ws.report("AAA", day(19))["can_trade"] is False
    assert ws.report("AAA", day(20)) == {
        "recent_cycles": 1,
        "can_trade": True,
        "protection_active": False,
        "days_until_reset": 0,
    }


def test_review_when_close_of_position_younger_than_min_hours_then_blocked():
    ws = make(whipsaw_min_duration_hours=4)
    ws.observe(fill("AAA", "buy", 0.1), day(3))

    same_day = ws.review(proposal("AAA", CLOSE), review_ctx(day(3)))
    next_day = ws.review(proposal("AAA", CLOSE), review_ctx(day(4)))

    assert same_day.stance == BLOCK
    assert "0 hours old, minimum 4 hours" in same_day.reason
    assert next_day.stance == APPROVE


def test_review_when_min_hours_spans_days_then_age_is_days_times_24():
    ws = make(whipsaw_min_duration_hours=48)
    ws.start(day(0), {"AAA": StartingHolding("AAA", 0.1, entered=day(0))})

    assert ws.review(proposal("AAA", CLOSE), review_ctx(day(1))).stance == BLOCK
    assert ws.review(proposal("AAA", CLOSE), review_ctx(day(2))).stance == APPROVE


def test_review_when_reduce_then_not_governed():
    ws = make()
    ws.observe(fill("AAA", "buy", 0.1), day(3))

    assert ws.review(proposal("AAA", REDUCE, 0.1, 0.05), review_ctx(day(3))).stance == ABSTAIN


def test_review_when_blocked_or_approved_then_verdict_names_the_deciding_rule():
    ws = make()
    cycle(ws, 0, 2)
    ws.observe(fill("BBB", "buy", 0.1), day(3))

    reopen = ws.review(proposal("AAA", OPEN, 0.0, 0.1), review_ctx(day(3)))
    young = ws.review(proposal("BBB", CLOSE), review_ctx(day(3)))
    fresh = ws.review(proposal("CCC", OPEN, 0.0, 0.1), review_ctx(day(3)))
    reduce = ws.review(proposal("BBB", REDUCE, 0.1, 0.05), review_ctx(day(3)))

    assert (reopen.stance, reopen.rule) == (BLOCK, "whipsaw.window")
    assert (young.stance, young.rule) == (BLOCK, "whipsaw.min_duration")
    assert (fresh.stance, fresh.rule) == (APPROVE, "whipsaw.window")
    assert (reduce.stance, reduce.rule) == (ABSTAIN, None)


def test_switched_on_when_whipsaw_protection_set_off_and_on_then_follows_the_parameter():
    ws = make()
    ws.switch = "whipsaw_protection"

    ws.reconfigure(config(whipsaw_protection=False))
    off = ws.switched_on()
    ws.reconfigure(config(whipsaw_protection=True))

    assert (off, ws.switched_on()) == (False, True)


def test_after_review_when_blocked_then_whipsaw_blocked_notice():
    ws = make()
    cycle(ws, 0, 2)
    p = proposal("AAA", OPEN, 0.0, 0.1)
    ctx = review_ctx(day(5))
    v = ws.review(p, ctx)

    (notice,) = ws.after_review(v, p, ctx)

    assert notice.event == "whipsaw_blocked"
    assert notice.asset == "AAA"
    assert notice.details["recent_cycles"] == 1
    assert notice.details["days_until_reset"] == 11
    assert notice.details["reason"] == v.reason


def test_after_review_when_approved_then_no_notice():
    ws = make()
    p = proposal("AAA", OPEN, 0.0, 0.1)
    ctx = review_ctx(day(5))

    assert ws.after_review(ws.review(p, ctx), p, ctx) == []


def test_status_when_cycles_in_window_then_count_else_empty():
    ws = make()
    cycle(ws, 0, 2)

    assert ws.status("AAA", day(3)) == {"whipsaw_cycles": 1}
    assert ws.status("AAA", day(30)) == {}
