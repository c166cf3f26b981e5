"""The re-plan rule: what a round's decisions hold back, free and lock, and when the
portfolio manager is asked to re-plan (no model: proposals and decisions only)."""

from __future__ import annotations

import pytest

from domain.messages import (
    AMENDED,
    APPROVED,
    BLOCKED,
    CLOSE,
    INCREASE,
    OPEN,
    REDUCE,
    ProposeTrade,
    TradeDecided,
)
from domain.resolution import PLANNER, HeldBack, held_back, replan_request
from tests.unit.protection_support import proposal


def decided(
    asset: str,
    action: str,
    from_weight: float,
    to_weight: float,
    final: float,
    *,
    origin: str = PLANNER,
) -> tuple[ProposeTrade, TradeDecided]:
    """A proposal and its decision at `final` (approved when final is the target)."""
    p = proposal(asset, action, from_weight, to_weight, origin=origin)
    outcome = APPROVED if final == to_weight else BLOCKED if final == from_weight else AMENDED
    decision = TradeDecided(
        proposal_id=p.proposal_id,
        asset=asset,
        action=action,
        outcome=outcome,
        from_weight=from_weight,
        final_weight=final,
        decided_by="test",
    )
    return p, decision


def test_held_back_when_every_decision_reaches_its_target_then_nothing_held_or_locked():
    held = held_back([decided("AAA", OPEN, 0.0, 0.1, 0.1), decided("BBB", CLOSE, 0.2, 0.0, 0.0)])

    assert held == HeldBack()
    assert replan_request(held, 0, 2) is None


def test_held_back_when_open_blocked_then_slot_weight_freed_and_asset_blocked_and_locked():
    held = held_back([decided("AAA", OPEN, 0.0, 0.1, 0.0)])

    assert held.held_back
    assert (held.freed_slots, held.freed_weight) == (1, pytest.approx(0.1))
    assert held.blocked == frozenset({"AAA"})
    assert dict(held.locked) == {"AAA": 0.0}


def test_held_back_when_open_amended_down_then_weight_freed_but_no_slot():
    held = held_back([decided("AAA", OPEN, 0.0, 0.1, 0.04)])

    assert (held.freed_slots, held.freed_weight) == (0, pytest.approx(0.06))
    assert held.blocked == frozenset()
    assert dict(held.locked) == {"AAA": 0.04}


def test_held_back_when_increase_blocked_then_weight_freed_no_slot_no_block():
    held = held_back([decided("AAA", INCREASE, 0.05, 0.1, 0.05)])

    assert (held.freed_slots, held.freed_weight) == (0, pytest.approx(0.05))
    assert held.blocked == frozenset()


@pytest.mark.parametrize("action", [REDUCE, CLOSE])
def test_held_back_when_exit_blocked_then_locked_but_nothing_freed(action):
    held = held_back([decided("AAA", action, 0.2, 0.1 if action == REDUCE else 0.0, 0.2)])

    assert held.held_back
    assert (held.freed_slots, held.freed_weight) == (0, 0.0)
    assert dict(held.locked) == {"AAA": 0.2}


def test_held_back_when_protection_trade_approved_then_locked_without_holding_back():
    held = held_back([decided("AAA", REDUCE, 0.2, 0.1, 0.1, origin="grace_period")])

    assert not held.held_back
    assert dict(held.locked) == {"AAA": 0.1}
    assert replan_request(held, 0, 2) is None


def test_held_back_when_difference_within_tolerance_then_not_held_back():
    held = held_back([decided("AAA", OPEN, 0.0, 0.1, 0.1 - 1e-13)])

    assert held == HeldBack()


def test_held_back_when_second_round_then_locks_and_blocks_accumulate_but_freed_restarts():
    first = held_back([decided("AAA", OPEN, 0.0, 0.1, 0.0)])
    second = held_back([decided("BBB", OPEN, 0.0, 0.1, 0.0)], first)

    assert second.blocked == frozenset({"AAA", "BBB"})
    assert dict(second.locked) == {"AAA": 0.0, "BBB": 0.0}
    assert (second.freed_slots, second.freed_weight) == (1, pytest.approx(0.1))


def test_held_back_when_second_round_holds_nothing_then_day_locks_kept_and_no_request():
    first = held_back([decided("AAA", OPEN, 0.0, 0.1, 0.0)])
    second = held_back([decided("BBB", OPEN, 0.0, 0.1, 0.1)], first)

    assert not second.held_back
    assert second.blocked == frozenset({"AAA"}) and dict(second.locked) == {"AAA": 0.0}
    assert replan_request(second, 1, 2) is None


def test_replan_request_when_held_back_and_rounds_left_then_request_for_next_round_sorted():
    held = held_back(
        [decided("BBB", OPEN, 0.0, 0.1, 0.0), decided("AAA", INCREASE, 0.05, 0.1, 0.05)]
    )

    request = replan_request(held, 0, 2)

    assert request is not None and request.round == 1
    assert list(request.locked) == ["AAA", "BBB"]
    assert request.blocked == ("BBB",)
    assert (request.freed_slots, request.freed_weight) == (1, pytest.approx(0.15))


def test_replan_request_when_last_round_then_none():
    held = held_back([decided("AAA", OPEN, 0.0, 0.1, 0.0)])

    assert replan_request(held, 2, 2) is None
    assert replan_request(held, 0, 0) is None
